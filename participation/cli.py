"""flask commands for the people who run the platform: seed, users …"""

from __future__ import annotations

import os
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from participation.models import AccountType, Role, TallyRule
from participation.services import accounts, counters, mail, notifications, seeding
from participation.services.budgeting import electorate, pabulib, tally
from participation.services.errors import DomainError, ValidationFailed
from participation.services.exports import (
    Audience,
    Dialect,
    ExportKind,
    export,
    export_pabulib,
    find_consultation,
)

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
            confirmed=True,  # whoever runs the platform vouches for the address
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
        codes = seeding.ballot_codes_to_try()
        if codes:
            click.echo(
                "\nBallot codes to look up on the results page (“Find a ballot by its code”):"
            )
            for title, code in codes:
                click.echo(f"  {code}  {title}")
        voting_codes = seeding.voting_codes_to_try(report)
        if voting_codes:
            click.echo("\nVoting codes of the letters, to vote without an account (“Vote with your")
            click.echo("voting code”; the same code changes its ballot until voting closes):")
            for title, code in voting_codes:
                click.echo(f"  {code}  {title}")
        if report.register_entries:
            click.echo(
                "\nThe voter register, to confirm with an account that you may vote (“Confirm"
            )
            click.echo("that you are on the voter register”, once voting opens):")
            for title, identifier, born in report.register_entries:
                click.echo(f"  identifier {identifier}, born {born}  {title}")


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
        help="comma: for programs (RFC 4180, cents, UTC); excel_de: for German Excel "
        "(semicolons, German titles, euros with a decimal comma, local times).",
    )
    @click.option(
        "--audience",
        type=click.Choice([audience.value for audience in Audience]),
        default=Audience.STAFF.value,
        show_default=True,
        help="staff: the moderators' file (hidden content with its state and reason); "
        "public: only what the public pages show, for publishing.",
    )
    def command(slug: str, out: Path, dialect: str, audience: str) -> None:
        try:
            consultation = find_consultation(slug)
            chunks = export(
                consultation, kind, Dialect(dialect), actor=None, audience=Audience(audience)
            )
        except DomainError as error:
            click.echo(f"{slug}: {error.message}", err=True)
            raise SystemExit(1) from error
        _write_file(out, chunks)
        click.echo(f"Wrote the {kind.value} of {slug} to {out}.")


def _write_file(out: Path, chunks) -> None:
    """Written beside the target and renamed at the end: never a half-written file."""
    partial = out.with_name(f"{out.name}.part")
    try:
        with partial.open("wb") as file:
            for chunk in chunks:
                file.write(chunk)
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


for _kind in ExportKind:
    _add_export_command(_kind)


pb_cli = AppGroup(
    "pb",
    help="Participatory-budgeting elections in the pabulib format (https://pabulib.org/format).",
)

PB_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _read_pb(path: Path) -> pabulib.PabulibFile:
    try:
        return pabulib.parse(path.read_bytes())
    except pabulib.PabulibError as error:
        raise click.ClickException(f"{path}: {error}") from error


@pb_cli.command("tally", with_appcontext=False)
@click.argument("file", type=PB_FILE)
@click.option(
    "--rule",
    type=click.Choice([rule.value for rule in TallyRule]),
    required=True,
    help="greedy: most approvals first; equal_shares: Method of Equal Shares with Add1 "
    "completion; equal_shares_greedy: the same, then the rest spent greedily.",
)
@click.option(
    "--min-approvals",
    type=click.IntRange(min=1),
    help="Leave out projects with fewer approvals (the file's own threshold is not applied).",
)
def pb_tally(file: Path, rule: str, min_approvals: int | None) -> None:
    """Count the approval ballots of FILE; print the funded project ids in the order the rule
    chose them, the totals on stderr. Needs no database."""
    pb = _read_pb(file)
    try:
        election = pabulib.to_election(pb)
    except pabulib.PabulibError as error:
        raise click.ClickException(f"{file}: {error}") from error
    outcome = tally.count(election, rule, min_approvals=min_approvals)
    for project in outcome.funded:
        click.echo(project)
    currency = pb.meta.get("currency", "").strip()
    click.echo(
        f"{rule}: {len(outcome.funded)} of {len(pb.projects)} projects funded, "
        f"total cost {_money(outcome.cost, currency)} of the budget "
        f"{_money(outcome.budget, currency)} ({len(pb.votes)} ballots).",
        err=True,
    )
    if min_approvals is not None:
        click.echo(f"Only projects with at least {min_approvals} approvals were funded.", err=True)
    threshold = pb.meta.get("min_project_score_threshold", "").strip()
    if threshold and min_approvals is None:
        click.echo(
            f"The file sets min_project_score_threshold={threshold}; it was not applied "
            f"(use --min-approvals {threshold} to apply it).",
            err=True,
        )
    elif threshold:
        click.echo(f"The file sets min_project_score_threshold={threshold}.", err=True)


def _money(value, currency: str) -> str:
    """Exact where the decimal is exact, otherwise rounded to cents with the fraction."""
    try:
        text = pabulib.format_number(value)
    except ValueError:
        text = f"{float(value):.2f} (exactly {value})"
    return f"{text} {currency}" if currency else text


@pb_cli.command("export")
@click.argument("slug")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The .pb file to write (replaced if it exists).",
)
def pb_export(slug: str, out: Path) -> None:
    """Write the budget consultation SLUG as a pabulib file: its projects and its ballots,
    voters identified by their ballot code only."""
    try:
        consultation = find_consultation(slug)
        chunks = export_pabulib(consultation, actor=None)
    except DomainError as error:
        raise click.ClickException(f"{slug}: {error.message}") from error
    _write_file(out, chunks)
    click.echo(f"Wrote the election of {slug} to {out}.")


@pb_cli.command("import")
@click.argument("file", type=PB_FILE)
@click.option("--slug", help="The new consultation's slug (default: made from its title).")
def pb_import(file: Path, slug: str | None) -> None:
    """Create a closed budget consultation from FILE (approval ballots only): one published
    proposal per project, one anonymous ballot per vote."""
    try:
        pb = pabulib.parse(file.read_bytes())
        report = pabulib.import_file(pb, slug=slug, source_name=file.name)
    except pabulib.PabulibError as error:
        raise click.ClickException(f"{file}: {error} (nothing was imported)") from error
    for note in report.notes:
        click.echo(f"Note: {note}", err=True)
    click.echo(
        f"Imported {file.name} as {report.consultation.slug}: "
        f"{report.projects} projects, {report.ballots} ballots."
    )


voters_cli = AppGroup(
    "voters", help="Who may vote: the voting codes of the letters and the voter register."
)


@voters_cli.command("codes")
@click.argument("slug")
@click.option(
    "--count",
    required=True,
    type=click.IntRange(1, electorate.MAX_CODES_PER_CALL),
    help="How many codes (letters) to issue.",
)
@click.option("--district", help="The district printed on these letters.")
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The CSV file of letters to write.",
)
@click.option("--force", is_flag=True, help="Replace --out if it exists.")
@click.option(
    "--base-url",
    help="The site's address for the links on the letters (default: PUBLIC_URL).",
)
def voters_codes(
    slug: str, count: int, district: str | None, out: Path, force: bool, base_url: str | None
) -> None:
    """Issue COUNT voting codes for the budget consultation SLUG and write the letters for a
    mail merge to --out: code, district, voting address, QR code. The file is the only copy of
    the codes: the database keeps their keyed hashes only."""
    if out.exists() and not force:
        raise click.ClickException(f"{out} exists; pass --force to replace it (nothing issued).")
    base_url = base_url or current_app.config.get("PUBLIC_URL")
    if not base_url:
        raise click.ClickException("Set PUBLIC_URL or pass --base-url (nothing issued).")
    try:
        consultation = find_consultation(slug)
        codes = electorate.issue_codes(consultation, None, count, district=district)
    except ValidationFailed as error:
        messages = "; ".join(str(message) for message in error.errors.values())
        raise click.ClickException(f"{slug}: {messages}") from error
    except DomainError as error:
        raise click.ClickException(f"{slug}: {error.message}") from error
    lines = electorate.letters_csv(consultation, codes, base_url, district=district)
    _write_file(out, (line.encode() for line in lines))
    click.echo(f"Issued {len(codes)} voting codes for {slug}; the letters are in {out}.")


mail_cli = AppGroup("mail", help="Deliver the e-mails in the outbox.")


@mail_cli.command("send")
@click.option(
    "--every",
    type=click.IntRange(min=1),
    help="Keep running and look for due mails every SECONDS (otherwise send once and stop).",
)
def mail_send(every: int | None) -> None:
    """Deliver the due mails of the outbox through MAIL_BACKEND (smtp, or console: printed).

    Each mail is marked as sent right after it went out; a refused one is tried again later,
    with a growing pause. Mails sent more than MAIL_KEEP_DAYS ago are deleted.
    On SQLite run one sender at a time; PostgreSQL allows several.
    Exits with 1 when a mail could not be delivered in this run (without --every).
    """
    backend = mail.backend_from_config()
    try:
        while True:
            report = mail.send_due(backend)
            purged = mail.purge_sent()
            state = mail.outbox_state()
            if report.sent or report.failed or purged or not every:
                click.echo(
                    f"Sent {report.sent} mail(s), {report.failed} failed; "
                    f"{state.pending} waiting, {state.given_up} given up "
                    f"after {current_app.config['MAIL_MAX_ATTEMPTS']} attempts; "
                    f"{purged} sent more than {current_app.config['MAIL_KEEP_DAYS']} days ago "
                    "deleted.",
                    err=True,
                )
            if not every:
                break
            time.sleep(every)
    finally:
        backend.close()
    if report.failed:
        raise SystemExit(1)


notifications_cli = AppGroup("notifications", help="Notification e-mails.")


@notifications_cli.command("digest")
def notifications_digest() -> None:
    """Queue the daily digests: one mail per person who chose them, with what they have neither
    read nor been mailed. Run it once a day (cron); `flask mail send` delivers the mails. A
    second run on the same day queues nothing."""
    queued = notifications.send_digests()
    click.echo(f"Queued {queued} digest(s).")


@voters_cli.command("import")
@click.argument("slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def voters_import(slug: str, file: Path) -> None:
    """Import the voter register FILE (CSV with a header: identifier, date_of_birth as
    YYYY-MM-DD or DD.MM.YYYY, district optional) into the consultation SLUG. Only keyed hashes
    are stored; a file with any bad row is refused whole; importing it again adds nothing twice."""
    try:
        rows = electorate.read_register_file(file.read_bytes())
        consultation = find_consultation(slug)
        report = electorate.import_register(consultation, rows)
    except electorate.RegisterRefused as error:
        for problem in error.problems:
            click.echo(f"{file.name}: {problem}", err=True)
        raise click.ClickException(f"{file}: refused, nothing was imported") from error
    except DomainError as error:
        raise click.ClickException(f"{slug}: {error.message}") from error
    click.echo(
        f"Imported {file.name} into {slug}: {report.added} new entries, "
        f"{report.already_there} already on the register."
    )


def register_commands(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(mail_cli)
    app.cli.add_command(notifications_cli)
    app.cli.add_command(seed)
    app.cli.add_command(doctor)
    app.cli.add_command(export_cli)
    app.cli.add_command(pb_cli)
    app.cli.add_command(voters_cli)
