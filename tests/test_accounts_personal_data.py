"""A person's own data: the export (GDPR Art. 15 and 20) and deleting the account (Art. 17),
by the person and by an administrator on request."""

from __future__ import annotations

import json

import pytest

from participation.extensions import db
from participation.models import (
    AuditEvent,
    Ballot,
    Comment,
    CommentState,
    Consultation,
    OutboxMail,
    Phase,
    Proposal,
    Report,
    ReportReason,
    Support,
    TallyRule,
    User,
    VotingMethod,
)
from participation.services import accounts, budgeting, counters, mail, results, votes
from participation.services.accounts import login_sessions, personal_data
from participation.services.errors import DomainError, NotAllowed, ValidationFailed
from tests.budget_data import budget_consultation
from tests.factories import Factory
from tests.helpers import attached

PASSWORD = Factory.PASSWORD


def queue_mail(user: User, subject: str) -> None:
    mail.queue(
        recipient=user.email,
        subject=subject,
        text_body=f"Hello {user.display_name}",
        purpose="test",
        idempotency_key=f"test:{user.id}:{subject}",
        user_id=user.id,
    )
    db.session.commit()


@pytest.fixture
def anna_and_bruno(factory, ctx):
    """Anna's proposal, on which Bruno comments and answers Anna's comment; Bruno supports it,
    reports Anna's comment, has a ballot and gets a mail. What of this is Bruno's must never be
    in Anna's export."""
    anna = factory.user(email="anna@example.org", display_name="Anna Schmidt")
    bruno = factory.user(email="bruno@example.org", display_name="Bruno Weber")
    consultation = factory.consultation(phase=Phase.VOTING)
    proposal = factory.proposal(consultation, anna, title="A bench", body="Anna's own words.")
    bruno_proposal = factory.proposal(consultation, bruno, title="Bruno's fountain")
    annas_comment = factory.comment(proposal, anna, body="Anna explains the bench.")
    factory.comment(proposal, bruno, body="Bruno disagrees loudly.")
    factory.comment(proposal, bruno, body="Bruno replies to Anna.", parent_id=annas_comment.id)
    factory.comment(bruno_proposal, anna, body="Anna likes the fountain.")
    factory.support(proposal, bruno)
    factory.support(bruno_proposal, anna)
    factory.report(bruno, comment=annas_comment, text="Bruno's secret complaint")
    factory.report(anna, proposal=bruno_proposal, reason=ReportReason.OTHER, text="Anna's report")
    budget = factory.consultation(phase=Phase.VOTING, voting_method=VotingMethod.BUDGET, budget=100)
    project = factory.proposal(budget, bruno, estimated_cost=50)
    factory.ballot(budget, anna, [project], code="ANNA-CODE-0001")
    factory.ballot(budget, bruno, [project], code="BRUN-CODE-0002")
    anna, bruno = attached(User, anna), attached(User, bruno)
    queue_mail(anna, "Welcome Anna")
    queue_mail(bruno, "Welcome Bruno")
    return anna, bruno


def foreign_keys_to_users() -> set[tuple[str, str]]:
    return {
        (table.name, column.name)
        for table in db.metadata.sorted_tables
        for column in table.columns
        for key in column.foreign_keys
        if key.column.table.name == "users"
    }


def columns(attributes) -> set[tuple[str, str]]:
    return {(attribute.class_.__tablename__, attribute.key) for attribute in attributes}


# The export


def test_every_column_that_points_at_a_person_is_exported(ctx):
    """A new table with a user column fails here until it is one more line in EXPORTED."""
    exported = columns(section.owner for section in personal_data.EXPORTED.values())
    assert foreign_keys_to_users() <= exported


def test_export_has_the_account_without_password_or_session_token(anna_and_bruno):
    anna, _ = anna_and_bruno
    account = personal_data.export(anna)["account"]
    assert (account["email"], account["display_name"]) == ("anna@example.org", "Anna Schmidt")
    assert not {"password_hash", "session_token"} & set(account)


def test_export_has_the_own_proposals_with_their_text(anna_and_bruno):
    anna, _ = anna_and_bruno
    proposals = personal_data.export(anna)["proposals"]
    assert [(p["title"], p["body"], p["state"]) for p in proposals] == [
        ("A bench", "Anna's own words.", "published")
    ]


def test_export_has_the_own_comments_wherever_they_are(anna_and_bruno):
    anna, _ = anna_and_bruno
    comments = personal_data.export(anna)["comments"]
    assert sorted(c["body"] for c in comments) == [
        "Anna explains the bench.",
        "Anna likes the fountain.",
    ]


def test_export_has_the_supports_given(anna_and_bruno):
    anna, bruno = anna_and_bruno
    [support] = personal_data.export(anna)["supports"]
    fountain = db.session.scalar(
        db.select(Proposal).where(
            Proposal.author_id == bruno.id, Proposal.title == "Bruno's fountain"
        )
    )
    assert support["proposal_id"] == fountain.id


def test_export_has_the_ballots_with_code_and_choices(anna_and_bruno):
    anna, _ = anna_and_bruno
    [ballot] = personal_data.export(anna)["ballots"]
    stored = db.session.scalar(db.select(Ballot).where(Ballot.user_id == anna.id))
    assert (ballot["code"], ballot["proposal_ids"]) == (
        "ANNA-CODE-0001",
        [choice.proposal_id for choice in stored.choices],
    )


def test_export_has_the_reports_filed(anna_and_bruno):
    anna, _ = anna_and_bruno
    [report] = personal_data.export(anna)["reports"]
    assert (report["reason"], report["text"]) == ("other", "Anna's report")


def test_export_has_the_mails_sent_to_the_person(anna_and_bruno):
    anna, _ = anna_and_bruno
    mails = personal_data.export(anna)["mails"]
    assert [(m["recipient"], m["subject"]) for m in mails] == [("anna@example.org", "Welcome Anna")]


def test_export_contains_nothing_of_another_person(anna_and_bruno):
    anna, bruno = anna_and_bruno
    text = personal_data.export_json(anna).decode()
    for trace in (
        "Bruno Weber",
        "bruno@example.org",
        "Bruno disagrees loudly.",
        "Bruno replies to Anna.",
        "Bruno's secret complaint",
        "BRUN-CODE-0002",
        "Welcome Bruno",
        bruno.password_hash,
    ):
        assert trace not in text


def test_export_lists_the_own_logins_without_their_tokens(anna_and_bruno):
    anna, bruno = anna_and_bruno
    anna_cookie = login_sessions.start(anna)
    login_sessions.start(bruno)
    data = personal_data.export(anna)
    assert [set(login) for login in data["login_sessions"]] == [
        {"id", "created_at", "last_seen_at"}
    ]
    text = personal_data.export_json(anna).decode()
    token = anna_cookie.partition(":")[2]
    assert token not in text and login_sessions.token_hash(token) not in text


def test_export_names_other_people_nowhere_not_even_by_id(anna_and_bruno):
    anna, bruno = anna_and_bruno
    data = personal_data.export(anna)
    person_columns = {"user_id", "author_id", "reporter_id", "actor_id", "resolved_by_id"}
    named = {
        record[column]
        for name, records in data.items()
        if isinstance(records, list)
        for record in records
        for column in person_columns & set(record)
    }
    assert bruno.id not in named


def test_export_is_json_with_every_section(anna_and_bruno):
    anna, _ = anna_and_bruno
    data = json.loads(personal_data.export_json(anna))
    assert {"account", *personal_data.EXPORTED} <= set(data)


# Deleting one's own account


def test_deletion_erases_address_name_and_password(anna_and_bruno):
    anna, _ = anna_and_bruno
    old_hash = anna.password_hash
    personal_data.delete_own_account(anna, PASSWORD)
    row = db.session.get(User, anna.id)
    assert row is not None and row.is_deleted
    assert "anna" not in row.email.lower()
    assert (row.display_name, row.locale, row.pending_email) == ("", None, None)
    assert row.password_hash != old_hash


def test_nobody_logs_in_with_the_old_credentials(anna_and_bruno):
    anna, _ = anna_and_bruno
    personal_data.delete_own_account(anna, PASSWORD)
    tombstone = db.session.get(User, anna.id)
    assert accounts.authenticate("anna@example.org", PASSWORD) is None
    assert accounts.authenticate(tombstone.email, PASSWORD) is None


def test_deletion_ends_every_session(anna_and_bruno):
    anna, _ = anna_and_bruno
    cookie_id = login_sessions.start(anna)
    assert login_sessions.user_for(cookie_id) is not None
    personal_data.delete_own_account(anna, PASSWORD)
    assert login_sessions.user_for(cookie_id) is None


def test_no_reset_link_goes_to_a_deleted_account(anna_and_bruno):
    anna, _ = anna_and_bruno
    personal_data.delete_own_account(anna, PASSWORD)
    accounts.request_password_reset(db.session.get(User, anna.id).email)
    queued = db.session.scalars(db.select(OutboxMail).where(OutboxMail.user_id == anna.id))
    assert queued.all() == []


def test_deletion_needs_the_right_password_and_changes_nothing_without(anna_and_bruno):
    anna, _ = anna_and_bruno
    with pytest.raises(ValidationFailed) as refused:
        personal_data.delete_own_account(anna, "not the password")
    assert refused.value.field == "password"
    db.session.expire_all()
    assert not db.session.get(User, anna.id).is_deleted
    assert accounts.authenticate("anna@example.org", PASSWORD) is not None


def test_proposals_and_comments_stay_with_the_tombstone(anna_and_bruno):
    anna, _ = anna_and_bruno
    before = personal_data.export(anna)
    personal_data.delete_own_account(anna, PASSWORD)
    kept_proposals = db.session.scalars(db.select(Proposal).where(Proposal.author_id == anna.id))
    kept_comments = db.session.scalars(
        db.select(Comment).where(
            Comment.author_id == anna.id, Comment.state == CommentState.PUBLISHED
        )
    )
    assert [p.body for p in kept_proposals] == [p["body"] for p in before["proposals"]]
    assert len(kept_comments.all()) == len(before["comments"])


def test_supports_stay_but_point_at_nobody(anna_and_bruno):
    anna, _ = anna_and_bruno
    [support] = personal_data.export(anna)["supports"]
    personal_data.delete_own_account(anna, PASSWORD)
    row = db.session.get(Support, support["id"])
    assert row is not None and row.user_id is None


def test_ballots_stay_with_their_code_but_point_at_nobody(anna_and_bruno):
    anna, _ = anna_and_bruno
    [ballot] = personal_data.export(anna)["ballots"]
    personal_data.delete_own_account(anna, PASSWORD)
    row = db.session.get(Ballot, ballot["id"])
    assert (row.code, row.user_id, len(row.choices)) == ("ANNA-CODE-0001", None, 1)


def test_reports_stay_for_the_moderators_but_point_at_nobody(anna_and_bruno):
    anna, _ = anna_and_bruno
    [report] = personal_data.export(anna)["reports"]
    personal_data.delete_own_account(anna, PASSWORD)
    row = db.session.get(Report, report["id"])
    assert (row.reporter_id, row.text) == (None, "Anna's report")


def test_mails_to_the_person_are_removed(anna_and_bruno):
    anna, _ = anna_and_bruno
    personal_data.delete_own_account(anna, PASSWORD)
    recipients = db.session.scalars(db.select(OutboxMail.recipient)).all()
    assert recipients == ["bruno@example.org"]


def test_after_deletion_nothing_points_at_the_person_but_what_they_wrote(anna_and_bruno):
    anna, _ = anna_and_bruno
    personal_data.delete_own_account(anna, PASSWORD)
    data = personal_data.export(db.session.get(User, anna.id))
    unlinked_or_removed = {
        name
        for name, section in personal_data.EXPORTED.items()
        if section.owner in (*personal_data.UNLINKED, *personal_data.REMOVED)
    }
    assert all(data[name] == [] for name in unlinked_or_removed)


def test_every_column_that_points_at_a_person_has_a_deletion_rule(ctx):
    """A new table with a user column fails here until deletion says what becomes of it."""
    ruled = columns((*personal_data.UNLINKED, *personal_data.REMOVED, *personal_data.KEPT))
    assert foreign_keys_to_users() <= ruled


def test_deletion_is_audited_without_personal_data(anna_and_bruno):
    anna, _ = anna_and_bruno
    personal_data.delete_own_account(anna, PASSWORD)
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "user.deleted"))
    recorded = json.dumps(
        [event.subject_type, event.subject_id, event.from_value, event.to_value, event.details]
    )
    assert (event.subject_id, event.actor_id, event.details) == (anna.id, anna.id, {"by": "self"})
    assert "anna" not in recorded.lower()


def test_a_deleted_account_cannot_be_deleted_again(anna_and_bruno, factory):
    anna, _ = anna_and_bruno
    personal_data.delete_own_account(anna, PASSWORD)
    admin = attached(User, factory.admin())
    with pytest.raises(DomainError, match="already deleted"):
        personal_data.delete_on_request(admin, db.session.get(User, anna.id), "Asked twice")


def test_the_only_administrator_cannot_delete_their_account(factory, ctx):
    admin = attached(User, factory.admin())
    with pytest.raises(DomainError, match="only administrator"):
        personal_data.delete_own_account(admin, PASSWORD)
    assert not db.session.get(User, admin.id).is_deleted


def test_an_administrator_may_delete_their_account_when_another_remains(factory, ctx):
    admin = attached(User, factory.admin())
    factory.admin()
    personal_data.delete_own_account(admin, PASSWORD)
    assert db.session.get(User, admin.id).is_deleted


# Results stay as they were


def support_scene(factory):
    consultation = factory.consultation(phase=Phase.VOTING)
    author = factory.user()
    first = attached(Proposal, factory.proposal(consultation, author))
    second = attached(Proposal, factory.proposal(consultation, author))
    leaving = attached(User, factory.user())
    for voter in [leaving, attached(User, factory.user())]:
        votes.support(first, voter)
    votes.support(second, attached(User, factory.user()))
    return attached(Consultation, consultation), leaving


def ranking_of(consultation) -> list[tuple[int, int]]:
    db.session.expire_all()
    return [(row.proposal.id, row.supports) for row in results.ranking(consultation)]


def test_deletion_leaves_the_support_ranking_unchanged(factory, ctx):
    consultation, leaving = support_scene(factory)
    before = ranking_of(consultation)
    personal_data.delete_own_account(leaving, PASSWORD)
    assert ranking_of(consultation) == before


def test_deletion_leaves_supports_equal_to_their_counters(factory, ctx):
    _, leaving = support_scene(factory)
    supports_before = db.session.scalar(db.select(db.func.count()).select_from(Support))
    personal_data.delete_own_account(leaving, PASSWORD)
    assert db.session.scalar(db.select(db.func.count()).select_from(Support)) == supports_before
    assert counters.check_counters() == []


def budget_tally(consultation) -> tuple:
    record = budgeting.results.tally_of(consultation)
    entries = sorted(
        (entry.proposal_id, entry.approvals, entry.funded_by_rule) for entry in record.entries
    )
    return record.ballot_count, entries


def test_deletion_leaves_the_budget_tally_unchanged(factory, ctx):
    """Equal shares funds C only because both of its two voters pay for it: were the leaving
    voter's ballot lost, C would fall out."""
    consultation, projects = budget_consultation(
        factory, {"A": 60, "B": 60, "C": 60}, tally_rule=TallyRule.EQUAL_SHARES
    )
    a, b, c = projects["A"], projects["B"], projects["C"]
    voters = [factory.user() for _ in range(6)]
    for voter, chosen in zip(voters, [[a, b], [a, b], [a, b], [a], [c], [c]], strict=True):
        factory.ballot(consultation, voter, chosen)
    consultation = attached(Consultation, consultation)
    moderator = attached(User, factory.moderator())
    budgeting.results.compute(consultation, moderator)
    db.session.commit()
    before = budget_tally(consultation)
    assert (before[1][2][2], before[0]) == (True, 6)  # C funded, six ballots

    personal_data.delete_own_account(attached(User, voters[4]), PASSWORD)
    budgeting.results.compute(consultation, moderator)
    db.session.commit()
    assert budget_tally(consultation) == before


# An administrator deletes an account on request


def test_admin_deletes_an_account_on_request_with_a_reason(anna_and_bruno, factory):
    anna, _ = anna_and_bruno
    admin = attached(User, factory.admin())
    personal_data.delete_on_request(admin, anna, "Letter of 3 March, file 17")
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "user.deleted"))
    assert db.session.get(User, anna.id).is_deleted
    assert (event.actor_id, event.subject_id, event.details) == (
        admin.id,
        anna.id,
        {"by": "admin", "reason": "Letter of 3 March, file 17"},
    )


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_deletion_on_request_needs_a_reason(anna_and_bruno, factory, reason):
    anna, _ = anna_and_bruno
    admin = attached(User, factory.admin())
    with pytest.raises(ValidationFailed) as refused:
        personal_data.delete_on_request(admin, anna, reason)
    assert refused.value.field == "reason"
    assert not db.session.get(User, anna.id).is_deleted


def test_only_administrators_delete_other_accounts(anna_and_bruno, factory):
    anna, bruno = anna_and_bruno
    moderator = attached(User, factory.moderator())
    for actor in (bruno, moderator):
        with pytest.raises(NotAllowed):
            personal_data.delete_on_request(actor, anna, "Because")
    assert not db.session.get(User, anna.id).is_deleted


def test_an_administrator_deletes_their_own_account_in_their_settings_only(factory, ctx):
    admin = attached(User, factory.admin())
    factory.admin()
    with pytest.raises(DomainError, match="your account settings"):
        personal_data.delete_on_request(admin, admin, "Leaving the town hall")


def test_foreign_keys_to_users_are_found(ctx):
    """The guard tests above only mean something if they see the user columns."""
    found = foreign_keys_to_users()
    assert {("supports", "user_id"), ("comments", "author_id")} <= found
