"""The house rules for templates that a machine can check (docs/architecture.md, Conventions)."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MAX_LINE = 120


def test_no_template_line_is_longer_than_120_characters():
    long_lines = [
        f"{path.relative_to(TEMPLATES)}:{number} ({len(line)})"
        for path in sorted(TEMPLATES.rglob("*"))
        if path.suffix in (".html", ".txt")
        for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), start=1)
        if len(line) > MAX_LINE
    ]
    assert long_lines == []


# `.value == 'x'`, `'x' != ….value`, `.value in ('x', …)` and `selectattr("….value", …)`: a
# template that compares an enum's value with a string repeats a rule the model names.
VALUE_COMPARISONS = re.compile(
    r"""\.value\s*(==|!=)\s*['"]"""
    r"""|['"]\s*(==|!=)\s*[\w.]+\.value\b"""
    r"""|\.value\s+(not\s+)?in\s*[(\[]\s*['"]"""
    r"""|selectattr\(\s*['"][\w.]*\.value['"]"""
)


def test_no_template_compares_a_value_with_a_string():
    comparisons = [
        f"{path.relative_to(TEMPLATES)}:{match.group(0)!r}"
        for path in sorted(TEMPLATES.rglob("*"))
        if path.suffix in (".html", ".txt")
        for match in VALUE_COMPARISONS.finditer(path.read_text(encoding="utf-8"))
    ]
    assert comparisons == []
