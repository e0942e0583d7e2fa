"""The layout of the code: one name per area in every layer, and areas that are packages
entered only through their public names (docs/architecture.md, "Where each area lives")."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "participation"
SERVICES = PACKAGE / "services"

# Blueprint helpers that every area uses, not areas of their own.
BLUEPRINT_HELPERS = {"access"}
# Areas of the services without pages of their own.
SERVICE_ONLY = {"audit", "counters", "errors", "limits", "mail", "markup", "seeding"}
# Template folders shared by every area.
SHARED_TEMPLATES = {"macros", "mail"}
# Tests of the application as a whole rather than of one area.
WHOLE_APP_TESTS = {"cli", "config", "i18n", "layout", "logs", "migrations", "smoke", "templates"}


def _names(folder: Path) -> set[str]:
    return {
        path.stem if path.is_file() else path.name
        for path in folder.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").exists()
    }


def _area_packages() -> set[str]:
    return {path.name for path in SERVICES.iterdir() if (path / "__init__.py").exists()}


def _service_areas() -> set[str]:
    """The areas of services/, with the modules of the area packages (budgeting.ballots …)."""
    names = _names(SERVICES)
    for package in _area_packages():
        names |= _names(SERVICES / package)
    return names


def _blueprints() -> set[str]:
    return _names(PACKAGE / "blueprints") - BLUEPRINT_HELPERS


def test_every_blueprint_has_the_name_of_a_service_area():
    # main is the home page: it shows what other areas offer and has no rules of its own.
    assert _blueprints() - {"main"} <= _service_areas()


def test_every_form_module_and_template_folder_belongs_to_a_blueprint():
    forms = _names(PACKAGE / "forms") - {"fields"}
    templates = {path.name for path in (ROOT / "templates").iterdir() if path.is_dir()}
    assert forms <= _blueprints()
    assert templates - SHARED_TEMPLATES <= _blueprints()


def test_every_model_module_is_the_singular_of_an_area():
    areas = _service_areas()
    for model in _names(PACKAGE / "models") - {"base"}:
        assert model in areas or f"{model}s" in areas, model


def test_every_test_module_is_named_after_an_area():
    areas = _service_areas() | _blueprints() | WHOLE_APP_TESTS
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        name = path.stem.removeprefix("test_")
        assert any(name == area or name.startswith(f"{area}_") for area in areas), path.name


def test_the_flat_services_folder_holds_areas_only():
    """Each entry of services/ is an area with pages (a blueprint of its name, or a package
    whose modules have blueprints: budgeting.ballots and the ballot pages) or one of the few
    areas the others use without pages of their own."""
    for area in _names(SERVICES) - SERVICE_ONLY:
        modules = _names(SERVICES / area) if area in _area_packages() else set()
        assert area in _blueprints() or modules & _blueprints(), area


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []


@pytest.mark.parametrize("package", sorted(_area_packages()))
def test_other_areas_enter_an_area_package_through_its_public_names(package):
    prefix = f"participation.services.{package}"
    public = set(importlib.import_module(prefix).__all__)
    inside = SERVICES / package
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if inside in path.parents:
            continue
        for line, module, names in _imports(path):
            where = f"{path.relative_to(ROOT)}:{line}"
            if module.startswith(prefix + "."):
                wrong.append(f"{where} imports {module}")
            elif module == prefix and not set(names) <= public:
                wrong.append(f"{where} imports {sorted(set(names) - public)} from {module}")
    assert wrong == []


def _is_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return bool(node.elts) and all(_is_text(element) for element in node.elts)
    return False


def _is_value(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "value"


def test_no_code_compares_an_enums_value_with_a_string():
    """`state.value == "hidden"` repeats a rule that the model names (`proposal.is_hidden`)."""
    comparisons = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Compare):
                continue
            sides = [node.left, *node.comparators]
            if any(_is_value(side) for side in sides) and any(_is_text(side) for side in sides):
                comparisons.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert comparisons == []


TEXT_FILES = {".py", ".html", ".txt", ".md", ".toml", ".cfg", ".ini", ".yaml", ".po", ".pot", ".js"}
SKIPPED_FOLDERS = {".venv", ".git", "instance", "node_modules", "__pycache__"}


def test_no_file_keeps_a_merge_conflict():
    markers = ("<<<<<<< ", ">>>>>>> ")
    kept = []
    for path in ROOT.rglob("*"):
        relative = path.relative_to(ROOT)
        if SKIPPED_FOLDERS & set(relative.parts) or relative.parts[0].endswith(".egg-info"):
            continue
        if path.is_file() and (path.suffix in TEXT_FILES or path.name in {"Makefile", "run"}):
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
            kept += [
                f"{relative}:{n}" for n, line in enumerate(lines, 1) if line.startswith(markers)
            ]
    assert kept == []
