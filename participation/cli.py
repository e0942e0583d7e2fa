"""flask commands for the people who run the platform: seed, users …"""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from participation.models import AccountType, Role
from participation.services import accounts, counters, seeding
from participation.services.errors import NotFound, ValidationFailed
from participation.services.exports import Dialect, ExportKind, export, find_consultation

PASSWORD_VARIABLE = "PARTICIPATION_PASSWORD"

users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.option("--email", required=True, help="E-mail address, used to log in.")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.CITIZEN.value,
    show_default=True,
)
@click.option("--display-name", help="Name shown on the site (default: the part before @).")
@click.option("--organisation", is_flag=True, help="The account belongs to an organisation.")
def create_user(email: str, role: str, display_name: str | None, organisation: bool) -> None:
    """Create an account. The password is read from $PARTICIPATION_PASSWORD or asked for."""
    password = os.environ.get(PASSWORD_VARIABLE)
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.register(
            email=email,
            display_name=display_name or email.split("@")[0],
            password=password,
            account_type=AccountType.ORGANISATION if organisation else AccountType.PERSON,
            role=Role(role),
        )
    except ValidationFailed as error:
        for field, message in error.errors.items():
            click.echo(f"{field}: {message}", err=True)
        raise SystemExit(1) from error
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@click.command("seed")
@click.option(
    "--file",
    "seed_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML file (default: seeds/demo.yaml).",
)
@click.option("--quiet", is_flag=True, help="Do not print the demo logins.")
@with_appcontext
def seed(seed_file: Path | None, quiet: bool) -> None:
    """Load the demo data; running it again adds nothing that is already there."""
    path = seed_file or Path(current_app.config["SEEDS_DIR"]) / "demo.yaml"
    report = seeding.load_file(path)
    created = ", ".join(f"{count} {kind}" for kind, count in report.created.items())
    click.echo(f"Demo data loaded from {path.name}: created {created}.")
    if not quiet:
        click.echo("\nDemo logins (only for trying things out):")
        for role, email, password in report.logins:
            click.echo(f"  {role:<10} {email:<32} {password}")


@click.command("doctor")
@click.option("--dry-run", is_flag=True, help="Only report the differences, repair nothing.")
@with_appcontext
def doctor(dry_run: bool) -> None:
    """Check every proposal's support and comment counters against the rows and repair them.

    Exits with 0 when every counter was right and 1 when differences were found.
    """
    differences = counters.check_counters(repair=not dry_run)
    if not differences:
        click.echo("All counters are right.")
        return
    outcome = "left as it is (dry run)" if dry_run else "repaired"
    for difference in differences:
        click.echo(
            f"Proposal {difference.proposal_id}: {difference.counter} was {difference.stored}, "
            f"the rows say {difference.actual}; {outcome}."
        )
    summary = "found" if dry_run else "found and repaired"
    click.echo(f"{len(differences)} counter difference(s) {summary}.")
    raise SystemExit(1)


export_cli = AppGroup("export", help="Write a consultation's data as CSV.")


def _add_export_command(kind: ExportKind) -> None:
    @export_cli.command(
        kind.value,
        help=f"Write the {kind.value} of the consultation SLUG as CSV, the same file as the "
        "download.",
    )
    @click.argument("slug")
    @click.option(
        "--out",
        required=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="The CSV file to write (replaced if it exists).",
    )
    @click.option(
        "--dialect",
        type=click.Choice([dialect.value for dialect in Dialect]),
        default=Dialect.COMMA.value,
        show_default=True,
        help="comma: RFC 4180; excel_de: semicolons, for German Excel.",
    )
    def command(slug: str, out: Path, dialect: str) -> None:
        try:
            consultation = find_consultation(slug)
        except NotFound as error:
            click.echo(f"{slug}: {error.message}", err=True)
            raise SystemExit(1) from error
        # Written beside the target and renamed at the end: never a half-written file.
        partial = out.with_name(f"{out.name}.part")
        try:
            with partial.open("wb") as file:
                for chunk in export(consultation, kind, Dialect(dialect), actor=None):
                    file.write(chunk)
            os.replace(partial, out)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        click.echo(f"Wrote the {kind.value} of {slug} to {out}.")


for _kind in ExportKind:
    _add_export_command(_kind)


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(seed)
    app.cli.add_command(doctor)
    app.cli.add_command(export_cli)
