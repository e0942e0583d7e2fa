"""Operational logs (participation.logs): every write a service makes logs one line naming the
action, the actor's id and the subject's id, in the format of the environment; and no line ever
holds a password, token, ballot code or e-mail address (docs/architecture.md, "Invariants")."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.exc import IntegrityError

import config
from participation import logs
from participation.extensions import db
from participation.models import (
    Answer,
    Ballot,
    Comment,
    Consultation,
    EmailFrequency,
    Initiative,
    InitiativeStatus,
    OutboxMail,
    Phase,
    Proposal,
    Report,
    ReportReason,
    TallyRule,
    User,
    VotingMethod,
)
from participation.models.base import utcnow
from participation.services import (
    accounts,
    budgeting,
    comments,
    consultations,
    counters,
    exports,
    follows,
    initiatives,
    mail,
    moderation,
    notifications,
    proposals,
    results,
    seeding,
    votes,
)
from participation.services.consultations import ConsultationSettings, phases
from participation.services.errors import DomainError
from participation.services.moderation import answers
from participation.services.proposals import ProposalText
from tests.budget_data import majority_and_minority_election
from tests.factories import Factory
from tests.helpers import add_comment_notifications, attached

REASON = "Both projects need the same site by the river."
NEW_PASSWORD = "a brand new passphrase"
NEW_ADDRESS = "new.address@example.org"


@pytest.fixture
def operations(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger=logs.ROOT_LOGGER)
    return caplog


def operation_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if hasattr(record, "action")]


# One line per write, in every area. Each case prepares what its write needs and returns the
# write and the actor's and subject's ids of its line; an id the write creates is read from
# what the write returns (a function of it).

Expected = int | None | Callable[[Any], int]


@dataclass(frozen=True)
class Case:
    area: str  # the logger is participation.services.<area>…
    action: str
    prepare: Callable[[Factory], tuple[Callable[[], Any], Expected, Expected]]
    lines: int = 1


CASES: dict[str, Case] = {}


def case(area: str, action: str, lines: int = 1):
    def register(prepare):
        CASES[prepare.__name__] = Case(area, action, prepare, lines)
        return prepare

    return register


def created(result: Any) -> int:
    """The id of what the write created."""
    return result.id


def _user(factory: Factory, **fields) -> User:
    return attached(User, factory.user(**fields))


def _moderator(factory: Factory) -> User:
    return attached(User, factory.moderator())


def _admin(factory: Factory) -> User:
    return attached(User, factory.admin())


def _proposal(factory: Factory, phase: Phase = Phase.COLLECTING, **fields) -> Proposal:
    consultation = factory.consultation(phase=phase)
    return attached(Proposal, factory.proposal(consultation, factory.user(), **fields))


# Accounts


@case("accounts", "user.registered")
def user_signed_up(factory):
    def sign_up():
        return accounts.sign_up(email="nina@example.org", display_name="N", password=NEW_PASSWORD)

    def new_account(email: str) -> int:
        return accounts.find_by_email(email).id

    return sign_up, new_account, new_account


@case("accounts", "user.registration_repeated")
def user_signed_up_with_a_taken_address(factory):
    owner = _user(factory, email="taken@example.org")
    return (
        lambda: accounts.sign_up(email=owner.email, display_name="X", password=NEW_PASSWORD),
        None,
        owner.id,
    )


@case("accounts", "user.registered")
def user_registered_by_the_command_line(factory):
    return (
        lambda: accounts.register(
            email="olga@example.org", display_name="O", password=NEW_PASSWORD
        ),
        None,
        created,
    )


@case("accounts", "user.confirmed")
def user_confirmed(factory):
    user = _user(factory, email_confirmed_at=None)
    token = accounts.confirmation_token(user)
    return lambda: accounts.confirm_email(token), user.id, user.id


@case("accounts", "user.confirmation_resent")
def confirmation_resent(factory):
    user = _user(factory, email_confirmed_at=None)
    return lambda: accounts.resend_confirmation(user), user.id, user.id


@case("accounts", "user.password_reset_requested")
def password_reset_requested(factory):
    user = _user(factory)
    return lambda: accounts.request_password_reset(user.email), None, user.id


@case("accounts", "user.password_reset")
def password_reset(factory):
    user = _user(factory)
    token = accounts.password_reset_token(user)
    return lambda: accounts.reset_password(token, NEW_PASSWORD), user.id, user.id


@case("accounts", "login_session.started")
def login_session_started(factory):
    user = _user(factory)
    return lambda: accounts.login_sessions.start(user), user.id, user.id


@case("accounts", "login_session.ended")
def login_session_ended(factory):
    user = _user(factory)
    accounts.login_sessions.start(user)
    return lambda: accounts.login_sessions.end(user), user.id, user.id


@case("accounts", "user.logged_out_everywhere")
def logged_out_everywhere(factory):
    user = _user(factory)
    accounts.login_sessions.start(user)
    return lambda: accounts.login_sessions.log_out_everywhere(user), user.id, user.id


@case("accounts", "user.locale_changed")
def locale_changed(factory):
    user = _user(factory)
    return lambda: accounts.set_locale(user, "en"), user.id, user.id


@case("accounts", "user.profile_changed")
def profile_changed(factory):
    user = _user(factory)
    profile = accounts.settings.ProfileSettings(display_name="Renamed", locale="de")
    return lambda: accounts.settings.update_profile(user, profile), user.id, user.id


@case("accounts", "user.password_changed")
def password_changed(factory):
    user = _user(factory)
    return (
        lambda: accounts.settings.change_password(user, Factory.PASSWORD, NEW_PASSWORD),
        user.id,
        user.id,
    )


@case("accounts", "user.email_change_requested")
def email_change_requested(factory):
    user = _user(factory)
    return (
        lambda: accounts.settings.request_email_change(user, NEW_ADDRESS, Factory.PASSWORD),
        user.id,
        user.id,
    )


@case("accounts", "user.email_changed")
def email_changed(factory):
    user = _user(factory)
    accounts.settings.request_email_change(user, NEW_ADDRESS, Factory.PASSWORD)
    token = accounts.settings.email_change_token(user)
    return lambda: accounts.settings.confirm_email_change(token), user.id, user.id


@case("accounts", "user.email_change_cancelled")
def email_change_cancelled(factory):
    user = _user(factory)
    accounts.settings.request_email_change(user, NEW_ADDRESS, Factory.PASSWORD)
    return lambda: accounts.settings.cancel_email_change(user), user.id, user.id


@case("accounts", "user.data_exported")
def personal_data_exported(factory):
    user = _user(factory)
    return lambda: accounts.personal_data.export_json(user), user.id, user.id


@case("accounts", "user.deleted")
def own_account_deleted(factory):
    user = _user(factory)
    return (
        lambda: accounts.personal_data.delete_own_account(user, Factory.PASSWORD),
        user.id,
        user.id,
    )


@case("accounts", "user.deleted")
def account_deleted_on_request(factory):
    admin, user = _admin(factory), _user(factory)
    return (
        lambda: accounts.personal_data.delete_on_request(admin, user, "Asked for it by letter."),
        admin.id,
        user.id,
    )


# Proposals, comments, supports and follows


@case("proposals", "proposal.submitted")
def proposal_submitted(factory):
    consultation, author = attached(Consultation, factory.consultation()), _user(factory)
    text = ProposalText("Benches", "More benches.")
    return lambda: proposals.submit(consultation, author, text), author.id, created


@case("proposals", "proposal.edited")
def proposal_edited(factory):
    proposal = _proposal(factory)
    text = ProposalText("Benches", "Even more benches.")
    return lambda: proposals.edit(proposal, proposal.author, text), proposal.author_id, proposal.id


@case("proposals", "proposal.withdrawn")
def proposal_withdrawn(factory):
    proposal = _proposal(factory)
    return lambda: proposals.withdraw(proposal, proposal.author), proposal.author_id, proposal.id


@case("comments", "comment.added")
def comment_added(factory):
    proposal, author = _proposal(factory), _user(factory)
    return lambda: comments.add(proposal, author, "I agree."), author.id, created


@case("comments", "comment.replied")
def comment_replied(factory):
    proposal, author = _proposal(factory), _user(factory)
    first = attached(Comment, factory.comment(proposal, factory.user()))
    return lambda: comments.add(proposal, author, "Me too.", reply_to=first), author.id, created


@case("comments", "comment.edited")
def comment_edited(factory):
    proposal, author = _proposal(factory), _user(factory)
    comment = comments.add(proposal, author, "I agree.")
    return lambda: comments.edit(comment, author, "I agree a lot."), author.id, comment.id


@case("comments", "comment.deleted")
def comment_deleted(factory):
    proposal, author = _proposal(factory), _user(factory)
    comment = comments.add(proposal, author, "I agree.")
    return lambda: comments.delete(comment, author), author.id, comment.id


@case("votes", "support.given")
def support_given(factory):
    proposal, citizen = _proposal(factory, Phase.VOTING), _user(factory)
    return lambda: votes.support(proposal, citizen), citizen.id, proposal.id


@case("votes", "support.withdrawn")
def support_withdrawn(factory):
    proposal, citizen = _proposal(factory, Phase.VOTING), _user(factory)
    votes.support(proposal, citizen)
    return lambda: votes.withdraw_support(proposal, citizen), citizen.id, proposal.id


@case("follows", "proposal.followed")
def proposal_followed(factory):
    proposal, citizen = _proposal(factory), _user(factory)
    return lambda: follows.follow(citizen, proposal), citizen.id, proposal.id


@case("follows", "consultation.unfollowed")
def consultation_unfollowed(factory):
    consultation, citizen = attached(Consultation, factory.consultation()), _user(factory)
    follows.follow(citizen, consultation)
    return lambda: follows.unfollow(citizen, consultation), citizen.id, consultation.id


# Budgeting and results


def _counted(factory: Factory) -> tuple[Consultation, dict[str, Proposal], User]:
    """Equal shares funds A and C of the election; B is left out."""
    consultation, projects = majority_and_minority_election(factory)
    consultation, moderator = attached(Consultation, consultation), _moderator(factory)
    budgeting.results.compute(consultation, moderator)
    return consultation, {name: attached(Proposal, p) for name, p in projects.items()}, moderator


@case("budgeting", "ballot.submitted")
def ballot_submitted(factory):
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=VotingMethod.BUDGET, budget=100
    )
    project = factory.proposal(consultation, factory.user(), estimated_cost=60)
    consultation, citizen = attached(Consultation, consultation), _user(factory)
    return (
        lambda: budgeting.ballots.submit_ballot(consultation, citizen, [project.id]),
        citizen.id,
        created,
    )


@case("budgeting", "results.computed")
def results_computed(factory):
    consultation, _projects = majority_and_minority_election(factory)
    consultation, moderator = attached(Consultation, consultation), _moderator(factory)
    return lambda: budgeting.results.compute(consultation, moderator), moderator.id, consultation.id


@case("budgeting", "results.overridden")
def result_overridden(factory):
    consultation, projects, moderator = _counted(factory)
    left_out = projects["B"]
    return (
        lambda: budgeting.results.override(consultation, moderator, left_out, True, REASON),
        moderator.id,
        left_out.id,
    )


@case("budgeting", "results.override_cleared")
def override_cleared(factory):
    consultation, projects, moderator = _counted(factory)
    left_out = projects["B"]
    budgeting.results.override(consultation, moderator, left_out, True, REASON)
    return (
        lambda: budgeting.results.clear_override(consultation, moderator, left_out),
        moderator.id,
        left_out.id,
    )


PABULIB_FILE = """META
key;value
description;Test
num_projects;2
num_votes;2
budget;100
vote_type;approval
PROJECTS
project_id;cost;name
1;50;Park
2;40;Bikes
VOTES
voter_id;vote
a;1,2
b;2
"""


@case("budgeting", "consultation.imported")
def pabulib_imported(factory):
    return (
        lambda: budgeting.pabulib.import_file(budgeting.pabulib.parse(PABULIB_FILE)),
        None,
        lambda report: report.consultation.id,
    )


def _ranked(factory: Factory) -> tuple[Consultation, Proposal, User]:
    """An evaluating support consultation: the second proposal is not among the top 1."""
    consultation = factory.consultation(phase=Phase.EVALUATING)
    factory.proposal(consultation, factory.user(), support_count=3)
    second = factory.proposal(consultation, factory.user(), support_count=1)
    return attached(Consultation, consultation), attached(Proposal, second), _moderator(factory)


@case("results", "results.winners_selected")
def winners_selected(factory):
    consultation, _second, moderator = _ranked(factory)
    return (
        lambda: results.select_winners(consultation, moderator, results.WinnerRule.TOP_N, 1),
        moderator.id,
        consultation.id,
    )


@case("results", "results.selection_changed")
def selection_changed(factory):
    consultation, second, moderator = _ranked(factory)
    results.select_winners(consultation, moderator, results.WinnerRule.TOP_N, 1)
    return lambda: results.set_selected(second, moderator, True, REASON), moderator.id, second.id


# Consultations


SETTINGS = ConsultationSettings(title="Ideas for the old town", summary="What should change?")


@case("consultations", "consultation.created")
def consultation_created(factory):
    moderator = _moderator(factory)
    return lambda: consultations.create(SETTINGS, moderator), moderator.id, created


@case("consultations", "consultation.edited")
def consultation_edited(factory):
    moderator = _moderator(factory)
    consultation = consultations.create(SETTINGS, moderator)
    return (
        lambda: consultations.update(consultation, SETTINGS, moderator),
        moderator.id,
        consultation.id,
    )


@case("consultations", "consultation.phase_changed")
def phase_changed(factory):
    consultation = _proposal(factory).consultation
    moderator = _moderator(factory)
    return (
        lambda: phases.change_phase(consultation, Phase.VOTING, moderator),
        moderator.id,
        consultation.id,
    )


# Moderation


@case("moderation", "report.created")
def report_created(factory):
    proposal, reporter = _proposal(factory), _user(factory)
    return (
        lambda: moderation.report(reporter, proposal=proposal, reason=ReportReason.SPAM),
        reporter.id,
        created,
    )


@case("moderation", "report.dismissed")
def report_dismissed(factory):
    proposal, moderator = _proposal(factory), _moderator(factory)
    report = attached(Report, factory.report(factory.user(), proposal=proposal))
    return lambda: moderation.dismiss_report(report, moderator), moderator.id, report.id


@case("moderation", "proposal.hidden")
def proposal_hidden(factory):
    proposal, moderator = _proposal(factory), _moderator(factory)
    return (
        lambda: moderation.hide_proposal(proposal, moderator, "Advertising."),
        moderator.id,
        proposal.id,
    )


@case("moderation", "comment.restored")
def comment_restored(factory):
    proposal, moderator = _proposal(factory), _moderator(factory)
    comment = comments.add(proposal, _user(factory), "Something offensive.")
    moderation.hide_comment(comment, moderator, "Offensive.")
    return lambda: moderation.restore_comment(comment, moderator), moderator.id, comment.id


@case("moderation", "user.blocked")
def user_blocked(factory):
    admin, user = _admin(factory), _user(factory)
    return lambda: moderation.block_user(admin, user), admin.id, user.id


@case("moderation", "user.unblocked")
def user_unblocked(factory):
    admin, user = _admin(factory), _user(factory)
    moderation.block_user(admin, user)
    return lambda: moderation.unblock_user(admin, user), admin.id, user.id


@case("moderation", "proposal.answered")
def proposal_answered(factory):
    proposal, moderator = _proposal(factory), _moderator(factory)
    return (
        lambda: answers.answer_proposal(proposal, moderator, Answer.ACCEPTED, "We build it."),
        moderator.id,
        proposal.id,
    )


# Initiatives


def _winner(factory: Factory) -> tuple[Proposal, User]:
    return _proposal(factory, Phase.CLOSED, selected=True), _moderator(factory)


def _promote(proposal: Proposal, moderator: User) -> Initiative:
    return initiatives.promote(proposal, moderator, 1000, "Parks", InitiativeStatus.PLANNED, 0)


@case("initiatives", "initiative.created")
def initiative_created(factory):
    proposal, moderator = _winner(factory)
    return lambda: _promote(proposal, moderator), moderator.id, created


@case("initiatives", "initiative.edited")
def initiative_edited(factory):
    proposal, moderator = _winner(factory)
    initiative = _promote(proposal, moderator)
    status = InitiativeStatus.IN_PROGRESS
    return (
        lambda: initiatives.update_initiative(initiative, moderator, 2000, "Parks", status, 10),
        moderator.id,
        initiative.id,
    )


@case("initiatives", "initiative.update_posted")
def initiative_update_posted(factory):
    proposal, moderator = _winner(factory)
    initiative = _promote(proposal, moderator)
    return (
        lambda: initiatives.post_update(initiative, moderator, date(2025, 5, 1), "Benches are in."),
        moderator.id,
        initiative.id,
    )


@case("initiatives", "initiative.created", lines=2)
def funded_projects_promoted(factory):
    """One line for each project that becomes an initiative (A and C)."""
    consultation, _projects, moderator = _counted(factory)
    phases.change_phase(consultation, Phase.CLOSED, moderator)
    return (
        lambda: initiatives.promote_funded(consultation, moderator),
        moderator.id,
        lambda created: created[0].id,
    )


# Notifications and mail


def _notified(factory: Factory) -> tuple[User, list[int]]:
    recipient, proposal = _user(factory), _proposal(factory)
    comment = factory.comment(proposal, factory.user())
    return recipient, add_comment_notifications(recipient.id, proposal, comment.id, 2)


@case("notifications", "notification.read")
def notification_read(factory):
    recipient, ids = _notified(factory)
    return lambda: notifications.mark_read(recipient, ids[0]), recipient.id, ids[0]


@case("notifications", "notifications.read")
def notifications_read(factory):
    recipient, _ids = _notified(factory)
    return lambda: notifications.mark_all_read(recipient), recipient.id, recipient.id


@case("notifications", "notification_settings.changed")
def email_frequency_changed(factory):
    user = _user(factory)
    return (
        lambda: notifications.set_email_frequency(user, EmailFrequency.DAILY),
        user.id,
        user.id,
    )


@case("notifications", "notification_settings.changed")
def report_mails_chosen(factory):
    moderator = _moderator(factory)
    return lambda: notifications.set_mails_on_report(moderator, True), moderator.id, moderator.id


@case("notifications", "notifications.unsubscribed")
def unsubscribed(factory):
    user = _user(factory)
    token = notifications.unsubscribe_token(user.id)
    return lambda: notifications.unsubscribe(token), None, user.id


@case("notifications", "digests.queued")
def digests_queued(factory):
    proposal, follower = _proposal(factory), factory.user()
    factory.follow(follower, proposal)
    factory.email_frequency(follower, EmailFrequency.DAILY)
    comments.add(proposal, _user(factory), "A comment for the digest.")
    return notifications.send_digests, None, None


def _mail_waiting(factory: Factory) -> int:
    accounts.resend_confirmation(_user(factory, email_confirmed_at=None))
    return db.session.scalar(db.select(OutboxMail.id))


@case("mail", "mail.sent")
def mail_sent(factory):
    waiting = _mail_waiting(factory)
    return lambda: mail.send_due(mail.ConsoleBackend(io.StringIO())), None, waiting


@case("mail", "mail.purged")
def sent_mails_purged(factory):
    _mail_waiting(factory)
    mail.send_due(mail.ConsoleBackend(io.StringIO()))
    later = utcnow() + timedelta(days=100)
    return lambda: mail.purge_sent(now=later), None, None


# Exports, the demo data and the counters


@case("exports", "export.proposals")
def proposals_exported(factory):
    consultation = _proposal(factory).consultation
    moderator = _moderator(factory)

    def export() -> bytes:
        kind, dialect = exports.ExportKind.PROPOSALS, exports.Dialect.COMMA
        audience = exports.Audience.STAFF
        return b"".join(exports.export(consultation, kind, dialect, moderator, audience=audience))

    return export, moderator.id, consultation.id


DEMO = {
    "users": [
        {
            "email": "demo@example.org",
            "display_name": "D",
            "password": NEW_PASSWORD,
            "role": "citizen",
        }
    ]
}


@case("seeding", "seed.loaded")
def demo_loaded(factory):
    return lambda: seeding.load(DEMO), None, None


@case("counters", "counters.repaired")
def counters_repaired(factory):
    _proposal(factory, comment_count=7)
    return lambda: counters.check_counters(repair=True), None, None


def _expected(value: Expected, result: Any) -> int | None:
    return value(result) if callable(value) else value


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_write_logs_one_line_with_its_action_actor_and_subject(name, factory, ctx, operations):
    written = CASES[name]
    write, actor, subject = written.prepare(factory)
    operations.clear()

    result = write()

    lines = [line for line in operation_lines(operations) if line.action == written.action]
    assert len(lines) == written.lines
    line = lines[0]
    assert (line.actor_id, line.subject_id) == (
        _expected(actor, result),
        _expected(subject, result),
    )
    assert line.levelno == logging.INFO
    assert line.name.startswith(f"participation.services.{written.area}")
    assert line.getMessage().startswith(f"{written.action} actor=")


def test_every_area_that_writes_has_its_cases():
    """Each service area with a write (a commit) is among the cases above."""
    from tests.test_layout import SERVICES

    writing = set()
    for path in SERVICES.rglob("*.py"):
        if "commit()" in path.read_text(encoding="utf-8"):
            relative = path.relative_to(SERVICES)
            writing.add(relative.parts[0].removesuffix(".py"))
    assert writing <= {written.area for written in CASES.values()}


def test_a_refused_write_logs_no_operation(factory, ctx, operations):
    """Logged after the commit: a refused write leaves no line, as it leaves no row."""
    proposal = _proposal(factory, Phase.VOTING)

    with pytest.raises(DomainError):
        proposals.withdraw(proposal, proposal.author)

    assert operation_lines(operations) == []


def test_a_support_given_again_changes_nothing_and_logs_nothing(factory, ctx, operations):
    proposal, citizen = _proposal(factory, Phase.VOTING), _user(factory)
    votes.support(proposal, citizen)
    operations.clear()

    votes.support(proposal, citizen)

    assert operation_lines(operations) == []


def test_the_line_names_the_extra_ids_of_the_operation(factory, ctx, operations):
    consultation = attached(Consultation, factory.consultation())
    author = _user(factory)

    proposal = proposals.submit(consultation, author, ProposalText("Benches", "More benches."))

    [line] = operation_lines(operations)
    assert line.consultation == consultation.id
    assert line.getMessage() == (
        f"proposal.submitted actor={author.id} subject={proposal.id} consultation={consultation.id}"
    )


def test_a_line_takes_ids_and_enums_and_refuses_text():
    log = logging.getLogger("participation.services.tests")

    with pytest.raises(TypeError, match="actor"):
        logs.operation(log, "user.registered", actor="anna@example.org", subject=None)
    with pytest.raises(TypeError, match="subject"):
        logs.operation(log, "user.registered", actor=None, subject=True)
    with pytest.raises(TypeError, match="email"):
        logs.operation(log, "user.registered", actor=1, subject=1, email="anna@example.org")


def test_a_line_records_enums_by_their_value(caplog):
    caplog.set_level(logging.INFO, logger=logs.ROOT_LOGGER)
    log = logging.getLogger("participation.services.tests")

    logs.operation(log, "results.computed", actor=1, subject=2, rule=TallyRule.GREEDY, ballots=3)

    [record] = caplog.records
    assert (record.rule, record.ballots) == ("greedy", 3)
    assert record.getMessage() == "results.computed actor=1 subject=2 rule=greedy ballots=3"


# The formats


@pytest.fixture
def reconfigured(app: Flask):
    """Tests that configure logging give the test setup back afterwards."""
    yield
    logs.configure(app)


def _bare_app(**settings) -> Flask:
    app = Flask("participation")
    app.config.update({"LOG_FORMAT": "text", "LOG_LEVEL": "INFO", "TESTING": True} | settings)
    return app


def _write_one(stream: io.StringIO) -> list[str]:
    log = logging.getLogger("participation.services.proposals")
    logs.operation(log, "proposal.submitted", actor=12, subject=34, consultation=5)
    return stream.getvalue().splitlines()


def test_json_format_writes_one_object_per_line_with_the_fields_as_keys(reconfigured):
    stream = io.StringIO()
    logs.configure(_bare_app(LOG_FORMAT="json"), stream)

    [line] = _write_one(stream)

    written = json.loads(line)
    assert written["action"] == "proposal.submitted"
    assert (written["actor_id"], written["subject_id"], written["consultation"]) == (12, 34, 5)
    assert written["level"] == "INFO"
    assert written["logger"] == "participation.services.proposals"
    assert written["message"] == "proposal.submitted actor=12 subject=34 consultation=5"
    assert written["time"].endswith("+00:00")


def test_text_format_writes_plain_lines(reconfigured):
    stream = io.StringIO()
    logs.configure(_bare_app(), stream)

    [line] = _write_one(stream)

    assert line.endswith(
        "INFO participation.services.proposals: "
        "proposal.submitted actor=12 subject=34 consultation=5"
    )
    assert "{" not in line


def test_outside_testing_each_line_is_written_once(reconfigured):
    stream = io.StringIO()
    logger = logs.configure(_bare_app(TESTING=False), stream)
    logs.configure(_bare_app(TESTING=False), stream)  # the factory runs once per app

    assert _write_one(stream) and len(stream.getvalue().splitlines()) == 1
    assert logger.propagate is False
    assert len(logger.handlers) == 1


def test_in_testing_the_records_reach_caplog_without_a_handler_of_their_own(app, caplog):
    logger = logs.configure(app)

    assert logger.handlers == []
    assert logger.propagate is True


def test_log_level_is_configured(reconfigured):
    logger = logs.configure(_bare_app(LOG_LEVEL="warning"), io.StringIO())

    assert logger.level == logging.WARNING


def test_an_unknown_format_or_level_stops_the_start(reconfigured):
    with pytest.raises(RuntimeError, match="LOG_FORMAT"):
        logs.configure(_bare_app(LOG_FORMAT="xml"))
    with pytest.raises(RuntimeError, match="LOG_LEVEL"):
        logs.configure(_bare_app(LOG_LEVEL="loud"))


def test_production_logs_json_and_development_text():
    assert config.ProductionConfig.LOG_FORMAT == "json"
    assert config.DevelopmentConfig.LOG_FORMAT == "text"
    assert config.TestingConfig.LOG_FORMAT == "text"
    assert config.Config.LOG_LEVEL == "INFO"


# No secrets: journeys through everything that handles a password, a token, a ballot code or an
# e-mail address, with every line the application logs at DEBUG examined as it would be written.

ADDRESS = re.compile(r"\S+@\S+")
# The attributes every log record has; any other was given by the caller (`extra`).
RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({})))
LINK = re.compile(r"https?://\S+")


def leaks(records: list[logging.LogRecord], secrets: set[str]) -> list[str]:
    """What of `secrets`, or which e-mail address, a record holds: in its line as the text and
    the JSON formats write it (with any traceback), or in one of its extra values."""
    formats = [logs.formatter("text"), logs.formatter("json")]
    found = []
    for record in records:
        written = [line_format.format(record) for line_format in formats]
        written += [
            str(value) for name, value in vars(record).items() if name not in RECORD_ATTRIBUTES
        ]
        for text in written:
            found += [f"{secret!r} in {text!r}" for secret in secrets if secret in text]
            found += [f"address in {text!r}" for _ in ADDRESS.findall(text)]
    return found


def tokens_in_mails(app: Flask) -> set[str]:
    """Every long path segment of every link in the outbox: the tokens of the links."""
    with app.app_context():
        bodies = db.session.scalars(db.select(OutboxMail.text_body)).all()
    return {
        segment
        for body in bodies
        for link in LINK.findall(body)
        for segment in link.split("/")
        if len(segment) >= 20
    }


def _path(app: Flask, fragment: str) -> str:
    """The path of the newest link in the outbox that contains `fragment`."""
    with app.app_context():
        bodies = db.session.scalars(db.select(OutboxMail.text_body).order_by(OutboxMail.id)).all()
    links = [link for body in bodies for link in LINK.findall(body) if fragment in link]
    return links[-1].removeprefix("http://localhost")


def _send_outbox(app: Flask) -> None:
    with app.app_context():
        report = mail.send_due(mail.ConsoleBackend(io.StringIO()))
    assert report.sent


def _login(client, email: str, password: str) -> set[str]:
    """Log in (staying logged in) and return the tokens of the login cookies."""
    response = client.post(
        "/account/login", data={"email": email, "password": password, "remember": "y"}
    )
    assert response.status_code == 302
    with client.session_transaction() as session:
        session_token = session["_user_id"].partition(":")[2]
    remember = client.get_cookie("remember_token").value.partition(":")[2].partition("|")[0]
    return {session_token, remember}


def _voting_consultation(factory: Factory) -> tuple[Consultation, Proposal]:
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=VotingMethod.BUDGET, budget=100
    )
    return consultation, factory.proposal(consultation, factory.user(), estimated_cost=60)


def _close(app: Flask, consultation: Consultation, moderator: User) -> None:
    with app.app_context():
        consultation, moderator = attached(Consultation, consultation), attached(User, moderator)
        phases.change_phase(consultation, Phase.EVALUATING, moderator)
        budgeting.results.compute(consultation, moderator)
        phases.change_phase(consultation, Phase.CLOSED, moderator)


# What the journey below did, so that none of it went unexamined.
JOURNEY = {
    "user.registered",
    "user.registration_repeated",
    "user.confirmed",
    "login_session.started",
    "user.password_changed",
    "user.email_change_requested",
    "user.email_changed",
    "login_session.ended",
    "user.password_reset_requested",
    "user.password_reset",
    "ballot.submitted",
    "results.computed",
    "mail.sent",
    "user.data_exported",
}


def test_no_line_holds_a_password_token_ballot_code_or_address(app, client, factory, operations):
    address, new_address = "anna.schmidt@example.org", "anna.neu@example.org"
    password, reset_password = "a long enough passphrase", "another long passphrase"
    secrets = {address, new_address, password, reset_password, NEW_PASSWORD}
    consultation, project = _voting_consultation(factory)
    moderator = factory.moderator(email="moderator@example.org")

    registration = {"email": address, "display_name": "Anna", "account_type": "person"}
    registration |= {"password": password, "password_repeat": password}
    client.post("/account/register", data=registration)
    client.post("/account/register", data=registration)  # the owner is told, by mail
    assert client.get(_path(app, "/account/confirm/")).status_code == 302
    secrets |= _login(client, address, password)
    client.post(
        "/account/settings/password",
        data={
            "current_password": password,
            "password": NEW_PASSWORD,
            "password_repeat": NEW_PASSWORD,
        },
    )
    client.post(
        "/account/settings/email", data={"email": new_address, "current_password": NEW_PASSWORD}
    )
    assert client.get(_path(app, "/account/email/confirm/")).status_code == 302
    client.post("/account/logout")
    client.post("/account/password/forgot", data={"email": new_address})
    client.post(
        _path(app, "/account/password/reset/"),
        data={"password": reset_password, "password_repeat": reset_password},
    )
    client.post("/account/login", data={"email": new_address, "password": "wrong password!"})
    secrets |= _login(client, new_address, reset_password)
    ballot_page = f"/consultations/{consultation.slug}/ballot"
    assert client.post(ballot_page, data={"projects": [str(project.id)]}).status_code == 302
    with app.app_context():
        code = db.session.scalar(db.select(Ballot.code))
    secrets |= {code, code.replace("-", "")}
    _close(app, consultation, moderator)
    lookup = f"/consultations/{consultation.slug}/results/ballot"
    assert client.post(lookup, data={"code": code}).status_code == 200
    assert client.post(lookup, data={"code": "AAAA-BBBB-CCCC"}).status_code == 404
    secrets |= tokens_in_mails(app)
    _send_outbox(app)
    client.get("/account/data/download")

    assert len(secrets) > 10  # the passwords, the addresses, the code, the links' tokens …
    assert {line.action for line in operation_lines(operations)} >= JOURNEY
    assert leaks(operations.records, secrets) == []


def test_the_check_finds_an_address_or_a_secret_in_a_line_or_its_fields(caplog):
    """The test above would fail if a line held an address or one of the secrets."""
    caplog.set_level(logging.DEBUG, logger=logs.ROOT_LOGGER)
    log = logging.getLogger("participation.services.accounts.registration")

    log.info("registered %s", "anna@example.org")
    log.debug("token", extra={"token": "s3cr3t-t0ken-from-a-link"})

    assert len(leaks(caplog.records[:1], set())) >= 1
    assert leaks(caplog.records[1:], {"s3cr3t-t0ken-from-a-link"})
    assert leaks(caplog.records[1:], set()) == []


def test_an_error_in_a_view_is_logged_by_its_endpoint_not_its_path(reconfigured):
    """A path may hold the token of a link; Flask's own line would name it."""
    stream = io.StringIO()
    app = _bare_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    logs.configure(app, stream)

    @app.get("/account/password/reset/<token>")
    def reset_password(token):
        raise RuntimeError("the view failed")

    response = app.test_client().get("/account/password/reset/s3cr3t-t0ken-from-a-link")

    assert response.status_code == 500
    assert "Exception on reset_password [GET]" in stream.getvalue()
    assert "RuntimeError: the view failed" in stream.getvalue()
    assert "s3cr3t" not in stream.getvalue()


def test_a_database_error_leaves_the_statements_values_out_of_its_text(factory, ctx):
    factory.user(email="anna@example.org")
    db.session.add(User(email="anna@example.org", display_name="A", password_hash="-"))

    with pytest.raises(IntegrityError) as refused:
        db.session.flush()

    assert "[SQL parameters hidden" in str(refused.value)


def test_an_error_of_the_database_in_a_view_is_logged_without_its_text(reconfigured):
    """The database's own message may quote the row, an address among its values."""
    stream = io.StringIO()
    app = _bare_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    logs.configure(app, stream)
    quoting = Exception("DETAIL: Key (email)=(anna@example.org) already exists.")

    @app.post("/account/settings/email")
    def request_email_change():
        raise IntegrityError("UPDATE users SET email=…", None, quoting, hide_parameters=True)

    assert app.test_client().post("/account/settings/email").status_code == 500

    written = stream.getvalue()
    assert "Exception on request_email_change [POST]: IntegrityError (Exception)" in written
    assert "request_email_change" in written.split("Traceback", 1)[1]  # where it happened
    assert "anna@example.org" not in written
