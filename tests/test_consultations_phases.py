"""Phases: draft -> collecting -> voting -> evaluating -> closed, one audited step at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale

from participation.extensions import db
from participation.models import (
    AuditEvent,
    Consultation,
    Phase,
    ProposalState,
    User,
    VotingMethod,
)
from participation.services.consultations import phases
from participation.services.errors import DomainError, NotAllowed
from tests.conftest import csrf_token_from, login_with_csrf
from tests.helpers import attached

ENGLISH = {"Accept-Language": "en"}
ORDER = [Phase.DRAFT, Phase.COLLECTING, Phase.VOTING, Phase.EVALUATING, Phase.CLOSED]


def phase_of(app, consultation) -> Phase:
    with app.app_context():
        return db.session.get(Consultation, consultation.id).phase


def phase_events(app, consultation) -> list[tuple[str | None, str | None]]:
    with app.app_context():
        return [
            (event.from_value, event.to_value)
            for event in db.session.scalars(
                db.select(AuditEvent)
                .where(
                    AuditEvent.consultation_id == consultation.id,
                    AuditEvent.action == "consultation.phase_changed",
                )
                .order_by(AuditEvent.id)
            )
        ]


def assert_unchanged(app, consultation, phase: Phase) -> None:
    """Still in `phase`, and no phase change was recorded."""
    assert phase_of(app, consultation) is phase
    assert phase_events(app, consultation) == []


def post_phase(client, consultation, to_phase: str, **options):
    """Send the phase form of the consultation; `options` go to the test client as they are."""
    return client.post(
        f"/consultations/{consultation.slug}/phase",
        data={"to_phase": to_phase, "confirmed": "yes"},
        **options,
    )


def events_recorded_for(consultation) -> list[AuditEvent]:
    return db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.consultation_id == consultation.id)
    ).all()


def in_english(message) -> str:
    with force_locale("en"):
        return str(message)


# The service


def refused_change(created, target, actor, error=DomainError) -> DomainError:
    """Try the change, expect `error`, roll back the session and hand back the refusal."""
    with pytest.raises(error) as refused:
        phases.change_phase(attached(Consultation, created), target, actor)
    db.session.rollback()
    return refused.value


def test_phases_move_forward_one_step_at_a_time_to_closed(factory, moderator):
    created = factory.consultation(phase=Phase.DRAFT)
    factory.proposal(created, factory.user())
    consultation = attached(Consultation, created)
    reached = []
    for target in ORDER[1:]:
        phases.change_phase(consultation, target, moderator)
        reached.append(consultation.phase)
    assert reached == ORDER[1:]


def test_next_phase_follows_the_fixed_order():
    assert [phase.next for phase in ORDER] == [*ORDER[1:], None]


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Phase.DRAFT, Phase.VOTING),
        (Phase.DRAFT, Phase.CLOSED),
        (Phase.COLLECTING, Phase.EVALUATING),
        (Phase.VOTING, Phase.CLOSED),
    ],
)
def test_skipping_a_phase_is_refused(factory, moderator, current, target):
    created = factory.consultation(phase=current)
    factory.proposal(created, factory.user())
    refusal = refused_change(created, target, moderator)
    assert "cannot move" in in_english(refusal.message)
    assert attached(Consultation, created).phase is current


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (Phase.COLLECTING, Phase.DRAFT),
        (Phase.VOTING, Phase.COLLECTING),
        (Phase.CLOSED, Phase.EVALUATING),
    ],
)
def test_going_back_is_refused(factory, moderator, current, target):
    created = factory.consultation(phase=current)
    refused_change(created, target, moderator)
    assert attached(Consultation, created).phase is current


def test_a_phase_change_records_actor_from_to_and_time(factory, moderator):
    created = factory.consultation(phase=Phase.DRAFT)
    before = datetime.now(UTC) - timedelta(seconds=1)
    phases.change_phase(attached(Consultation, created), Phase.COLLECTING, moderator)
    after = datetime.now(UTC) + timedelta(seconds=1)
    [event] = events_recorded_for(created)
    assert (event.action, event.actor_id, event.from_value, event.to_value) == (
        "consultation.phase_changed",
        moderator.id,
        "draft",
        "collecting",
    )
    recorded_at = event.created_at
    if recorded_at.tzinfo is None:  # SQLite hands back naive UTC
        recorded_at = recorded_at.replace(tzinfo=UTC)
    assert before <= recorded_at <= after


@pytest.mark.parametrize(
    ("current", "target"),
    [
        pytest.param(Phase.COLLECTING, Phase.COLLECTING, id="staying-in-the-same-phase"),
        pytest.param(Phase.DRAFT, Phase.EVALUATING, id="skipping-ahead"),
    ],
)
def test_a_refused_phase_change_records_nothing(factory, moderator, current, target):
    created = factory.consultation(phase=current)
    refused_change(created, target, moderator)
    assert events_recorded_for(created) == []


def test_voting_cannot_open_without_a_published_proposal(factory, moderator):
    created = factory.consultation(phase=Phase.COLLECTING)
    author = factory.user()
    factory.proposal(created, author, state=ProposalState.WITHDRAWN)
    factory.proposal(created, author, state=ProposalState.HIDDEN)
    refusal = refused_change(created, Phase.VOTING, moderator)
    assert "at least one proposal" in in_english(refusal.message)
    assert attached(Consultation, created).phase is Phase.COLLECTING


def test_voting_opens_with_one_published_proposal(factory, moderator):
    created = factory.consultation(phase=Phase.COLLECTING)
    factory.proposal(created, factory.user())
    phases.change_phase(attached(Consultation, created), Phase.VOTING, moderator)
    db.session.expire_all()
    assert attached(Consultation, created).phase is Phase.VOTING


def test_budget_voting_cannot_open_without_a_budget(factory, moderator):
    created = factory.consultation(
        phase=Phase.COLLECTING, voting_method=VotingMethod.BUDGET, budget=None
    )
    factory.proposal(created, factory.user(), estimated_cost=100)
    refused_change(created, Phase.VOTING, moderator)
    assert attached(Consultation, created).phase is Phase.COLLECTING


@pytest.mark.parametrize(
    ("method", "target", "expected"),
    [
        (VotingMethod.SUPPORT, Phase.VOTING, "Citizens can support proposals."),
        (VotingMethod.BUDGET, Phase.VOTING, "Citizens can fill in their budget ballot."),
        (VotingMethod.BUDGET, Phase.EVALUATING, "ballots can no longer be filled in or changed"),
        (VotingMethod.SUPPORT, Phase.CLOSED, "The results are published for everybody."),
    ],
)
def test_the_consequences_of_a_move_fit_the_voting_method(factory, ctx, method, target, expected):
    consultation = attached(Consultation, factory.consultation(voting_method=method))
    said = " ".join(str(line) for line in phases.consequences(consultation, target))
    assert (expected in said, "cannot be undone" in said) == (True, True)


def test_check_move_refuses_what_change_phase_would_refuse_without_writing(factory, moderator):
    consultation = attached(Consultation, factory.consultation(phase=Phase.COLLECTING))
    with pytest.raises(DomainError, match="at least one proposal"):
        phases.check_move(consultation, Phase.VOTING)
    assert consultation.phase is Phase.COLLECTING


def test_citizen_cannot_change_a_phase_in_the_service(factory, ctx):
    citizen = attached(User, factory.user())
    created = factory.consultation(phase=Phase.DRAFT)
    refused_change(created, Phase.COLLECTING, citizen, error=NotAllowed)
    assert attached(Consultation, created).phase is Phase.DRAFT


# The views


def test_moderator_moves_the_phase_with_the_form(app, client, auth, factory):
    consultation = factory.consultation(phase=Phase.DRAFT)
    auth.login(factory.moderator().email)
    response = post_phase(client, consultation, "collecting")
    assert response.status_code == 302
    assert phase_of(app, consultation) is Phase.COLLECTING
    assert phase_events(app, consultation) == [("draft", "collecting")]


def test_consultation_page_links_moderators_to_the_confirmation_of_the_next_phase(
    client, auth, factory
):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    auth.login(factory.moderator().email)
    html = client.get(f"/consultations/{consultation.slug}", headers=ENGLISH).get_data(as_text=True)
    assert f'href="/consultations/{consultation.slug}/phase"' in html
    assert 'name="to_phase"' not in html  # no move in one click


def test_the_confirmation_page_says_what_the_move_freezes(client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    factory.proposal(consultation, factory.user())
    auth.login(factory.moderator().email)
    html = client.get(f"/consultations/{consultation.slug}/phase", headers=ENGLISH).get_data(
        as_text=True
    )
    assert "Proposals are frozen" in html and "cannot be undone" in html
    assert (
        'name="to_phase" value="voting"' in html
        and 'name="confirmed" type="hidden" value="yes"' in html
    )


def test_the_confirmation_page_says_first_why_a_move_cannot_be_made(client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)  # no proposal yet
    auth.login(factory.moderator().email)
    html = client.get(f"/consultations/{consultation.slug}/phase", headers=ENGLISH).get_data(
        as_text=True
    )
    assert "at least one proposal" in html and 'name="to_phase"' not in html


def test_a_move_posted_without_the_confirmation_asks_for_it_first(app, client, auth, factory):
    consultation = factory.consultation(phase=Phase.DRAFT)
    auth.login(factory.moderator().email)
    response = client.post(
        f"/consultations/{consultation.slug}/phase", data={"to_phase": "collecting"}
    )
    assert (response.status_code, response.headers["Location"]) == (
        303,
        f"/consultations/{consultation.slug}/phase",
    )
    assert phase_of(app, consultation) is Phase.DRAFT


def test_citizens_get_403_on_the_confirmation_page(client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    auth.login(factory.user().email)
    assert client.get(f"/consultations/{consultation.slug}/phase").status_code == 403


@pytest.mark.parametrize(
    ("current", "reason"),
    [
        pytest.param(Phase.DRAFT, "cannot move to", id="skipping-a-phase"),
        pytest.param(Phase.COLLECTING, "at least one proposal", id="voting-without-proposals"),
    ],
)
def test_a_refused_phase_change_in_the_form_says_why(app, client, auth, factory, current, reason):
    consultation = factory.consultation(phase=current)
    auth.login(factory.moderator().email)
    response = post_phase(client, consultation, "voting", headers=ENGLISH, follow_redirects=True)
    assert response.status_code == 200
    assert reason in response.get_data(as_text=True)
    assert phase_of(app, consultation) is current


def test_unknown_target_phase_is_a_bad_request(app, client, auth, factory):
    consultation = factory.consultation(phase=Phase.DRAFT)
    auth.login(factory.moderator().email)
    response = post_phase(client, consultation, "finished")
    assert response.status_code == 400
    assert_unchanged(app, consultation, Phase.DRAFT)


def test_citizen_posting_a_phase_change_gets_403_and_nothing_changes(app, client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    factory.proposal(consultation, factory.user())
    auth.login(factory.user().email)
    response = post_phase(client, consultation, "voting")
    assert response.status_code == 403
    assert_unchanged(app, consultation, Phase.COLLECTING)


def test_visitor_posting_a_phase_change_is_sent_to_login(app, client, factory):
    consultation = factory.consultation(phase=Phase.DRAFT)
    response = post_phase(client, consultation, "collecting")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")
    assert_unchanged(app, consultation, Phase.DRAFT)


def test_audit_log_lists_the_phase_changes_for_moderators(client, auth, factory):
    moderator = factory.moderator(display_name="Mona Moderator")
    consultation = factory.consultation(phase=Phase.DRAFT)
    auth.login(moderator.email)
    post_phase(client, consultation, "collecting")
    response = client.get(f"/consultations/{consultation.slug}/audit", headers=ENGLISH)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.count("Phase changed") == 1
    assert "Mona Moderator" in html
    assert "<td>Draft</td>" in html
    assert "<td>Collecting proposals</td>" in html


def test_audit_log_is_403_for_citizens(client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    auth.login(factory.user().email)
    assert client.get(f"/consultations/{consultation.slug}/audit").status_code == 403


def test_audit_log_sends_visitors_to_login(client, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    response = client.get(f"/consultations/{consultation.slug}/audit")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")


def test_phase_form_without_csrf_token_is_refused(app, csrf_client, factory):
    consultation = factory.consultation(phase=Phase.DRAFT)
    login_with_csrf(csrf_client, factory.moderator().email)
    response = post_phase(csrf_client, consultation, "collecting")
    assert response.status_code == 400
    assert_unchanged(app, consultation, Phase.DRAFT)


def test_phase_form_with_the_token_from_the_page_moves_the_phase(app, csrf_client, factory):
    consultation = factory.consultation(phase=Phase.DRAFT)
    login_with_csrf(csrf_client, factory.moderator().email)
    page = csrf_client.get(f"/consultations/{consultation.slug}/phase").get_data(as_text=True)
    response = csrf_client.post(
        f"/consultations/{consultation.slug}/phase",
        data={"to_phase": "collecting", "confirmed": "yes", "csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 302
    assert phase_of(app, consultation) is Phase.COLLECTING


# The rules of the phases, one predicate each (services, views and templates ask these)

PHASE_RULES = (
    "is_public",
    "accepts_proposals",
    "is_open",
    "is_voting",
    "is_before_voting",
    "voting_has_ended",
    "is_evaluating",
    "is_closed",
    "accepts_comments",
)


@pytest.mark.parametrize(
    ("phase", "holding"),
    [
        (Phase.DRAFT, {"is_before_voting"}),
        (
            Phase.COLLECTING,
            {"is_public", "accepts_proposals", "is_open", "is_before_voting", "accepts_comments"},
        ),
        (Phase.VOTING, {"is_public", "is_open", "is_voting", "accepts_comments"}),
        (
            Phase.EVALUATING,
            {"is_public", "voting_has_ended", "is_evaluating", "accepts_comments"},
        ),
        (Phase.CLOSED, {"is_public", "voting_has_ended", "is_closed"}),
    ],
)
def test_each_phase_holds_exactly_its_rules(phase, holding):
    consultation = Consultation(phase=phase)
    assert {rule for rule in PHASE_RULES if getattr(consultation, rule)} == holding


def test_only_public_consultations_are_found_by_the_filter(factory, ctx):
    draft = factory.consultation(phase=Phase.DRAFT)
    public = factory.consultation(phase=Phase.COLLECTING)
    found = db.session.scalars(
        db.select(Consultation.id).where(
            Consultation.is_public, Consultation.id.in_([draft.id, public.id])
        )
    ).all()
    assert found == [public.id]
