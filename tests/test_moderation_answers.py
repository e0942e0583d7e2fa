"""Answers to proposals: the service rules, the answer form, the answer on the proposal page
and the answer filter of the proposal list."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from participation.extensions import db
from participation.models import (
    Answer,
    AuditEvent,
    Consultation,
    Phase,
    Proposal,
    ProposalState,
    User,
)
from participation.services import proposals
from participation.services.errors import DomainError, NotAllowed, ValidationFailed
from participation.services.moderation import answers
from participation.services.proposals import ProposalQuery
from tests.conftest import csrf_token_from, login_with_csrf
from tests.helpers import attached

ENGLISH = {"Accept-Language": "en"}
PROPOSAL_LINK = re.compile(r'<h3 class="h5 card-title"><a href="/proposals/(\d+)">')
EXPLAINED = [Answer.UNDER_EVALUATION, Answer.ACCEPTED, Answer.REJECTED]


def in_english(message) -> str:
    with force_locale("en"):
        return str(message)


def stored(app, proposal) -> Proposal:
    with app.app_context():
        return db.session.get(Proposal, proposal.id)


@pytest.fixture
def answerable(factory):
    """A published proposal in a consultation that is evaluating, and a moderator."""
    consultation = factory.consultation(phase=Phase.EVALUATING)
    proposal = factory.proposal(consultation, factory.user(), title="Benches")
    return proposal, factory.moderator()


# The service


@pytest.mark.parametrize("answer", EXPLAINED, ids=lambda answer: answer.value)
def test_moderator_answers_with_a_public_explanation(answerable, ctx, answer):
    proposal, moderator = (attached(Proposal, answerable[0]), attached(User, answerable[1]))
    answers.answer_proposal(proposal, moderator, answer, "  The council agreed.  ")
    db.session.expire_all()
    stored_proposal = attached(Proposal, proposal)
    assert (stored_proposal.answer, stored_proposal.answer_text) == (answer, "The council agreed.")


def test_answering_sets_the_answer_date(answerable, ctx):
    proposal, moderator = (attached(Proposal, answerable[0]), attached(User, answerable[1]))
    answers.answer_proposal(proposal, moderator, Answer.ACCEPTED, "Agreed.")
    db.session.expire_all()
    assert attached(Proposal, proposal).answered_at is not None


@pytest.mark.parametrize("answer", EXPLAINED, ids=lambda answer: answer.value)
def test_answer_without_explanation_is_refused(answerable, ctx, answer):
    proposal, moderator = (attached(Proposal, answerable[0]), attached(User, answerable[1]))
    with pytest.raises(ValidationFailed) as refused:
        answers.answer_proposal(proposal, moderator, answer, "   ")
    assert list(refused.value.errors) == ["text"]
    db.session.expire_all()
    assert attached(Proposal, proposal).answer is Answer.NONE


def test_taking_back_an_answer_needs_no_text_and_clears_the_date(answerable, ctx):
    proposal, moderator = (attached(Proposal, answerable[0]), attached(User, answerable[1]))
    answers.answer_proposal(proposal, moderator, Answer.ACCEPTED, "Agreed.")
    answers.answer_proposal(proposal, moderator, Answer.NONE, "")
    db.session.expire_all()
    stored_proposal = attached(Proposal, proposal)
    assert (stored_proposal.answer, stored_proposal.answer_text, stored_proposal.answered_at) == (
        Answer.NONE,
        None,
        None,
    )


def test_citizen_cannot_answer(answerable, factory, ctx):
    proposal = attached(Proposal, answerable[0])
    citizen = attached(User, factory.user())
    with pytest.raises(NotAllowed):
        answers.answer_proposal(proposal, citizen, Answer.ACCEPTED, "Agreed.")
    db.session.expire_all()
    assert attached(Proposal, proposal).answer is Answer.NONE


def test_proposal_in_a_draft_cannot_be_answered(factory, ctx):
    proposal = factory.proposal(factory.consultation(phase=Phase.DRAFT), factory.user())
    moderator = attached(User, factory.moderator())
    with pytest.raises(DomainError) as refused:
        answers.answer_proposal(attached(Proposal, proposal), moderator, Answer.ACCEPTED, "Yes.")
    assert "draft" in in_english(refused.value.message)


@pytest.mark.parametrize("state", [ProposalState.HIDDEN, ProposalState.WITHDRAWN])
def test_proposal_that_is_not_published_cannot_be_answered(factory, ctx, state):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    proposal = factory.proposal(consultation, factory.user(), state=state)
    moderator = attached(User, factory.moderator())
    with pytest.raises(DomainError):
        answers.answer_proposal(attached(Proposal, proposal), moderator, Answer.ACCEPTED, "Yes.")


def test_answer_is_an_audit_event_with_the_old_and_new_answer(answerable, ctx):
    proposal, moderator = (attached(Proposal, answerable[0]), attached(User, answerable[1]))
    answers.answer_proposal(proposal, moderator, Answer.UNDER_EVALUATION, "We are looking.")
    answers.answer_proposal(proposal, moderator, Answer.REJECTED, "Too expensive.")
    last = db.session.scalars(
        db.select(AuditEvent)
        .where(AuditEvent.action == "proposal.answered")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert (
        last.actor_id,
        last.consultation_id,
        last.subject_id,
        last.from_value,
        last.to_value,
        last.details["text"],
    ) == (
        moderator.id,
        proposal.consultation_id,
        proposal.id,
        "under_evaluation",
        "rejected",
        "Too expensive.",
    )


def test_search_filters_by_answer(factory, ctx):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    author = factory.user()
    accepted = factory.proposal(consultation, author, answer=Answer.ACCEPTED, answer_text="Yes")
    factory.proposal(consultation, author, answer=Answer.REJECTED, answer_text="No")
    factory.proposal(consultation, author)
    page = proposals.search(
        attached(Consultation, consultation), ProposalQuery(answer=Answer.ACCEPTED)
    )
    assert [proposal.id for proposal in page.items] == [accepted.id]


# The pages


def test_moderator_answers_through_the_form(app, client, auth, answerable):
    proposal, moderator = answerable
    auth.login(moderator.email)
    response = client.post(
        f"/moderation/proposals/{proposal.id}/answer",
        data={"answer": "accepted", "text": "The council agreed."},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposals/{proposal.id}"
    assert (stored(app, proposal).answer, stored(app, proposal).answer_text) == (
        Answer.ACCEPTED,
        "The council agreed.",
    )


def test_answer_form_without_explanation_is_422_next_to_the_field(app, client, auth, answerable):
    proposal, moderator = answerable
    auth.login(moderator.email)
    response = client.post(
        f"/moderation/proposals/{proposal.id}/answer", data={"answer": "rejected", "text": ""}
    )
    assert response.status_code == 422
    assert 'id="text-error"' in response.get_data(as_text=True)
    assert stored(app, proposal).answer is Answer.NONE


def test_answer_form_is_403_for_citizens(app, client, auth, answerable, factory):
    proposal, _ = answerable
    auth.login(factory.user().email)
    response = client.post(
        f"/moderation/proposals/{proposal.id}/answer",
        data={"answer": "accepted", "text": "Yes."},
    )
    assert response.status_code == 403
    assert stored(app, proposal).answer is Answer.NONE


def test_visitor_is_sent_to_login_from_the_answer_form(client, answerable):
    proposal, _ = answerable
    response = client.get(f"/moderation/proposals/{proposal.id}/answer")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")


def test_answer_form_is_filled_with_the_current_answer(client, auth, factory):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    proposal = factory.proposal(
        consultation, factory.user(), answer=Answer.REJECTED, answer_text="Too expensive."
    )
    auth.login(factory.moderator().email)
    html = client.get(f"/moderation/proposals/{proposal.id}/answer").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*value="rejected"|value="rejected"[^>]*checked', html)
    assert "Too expensive.</textarea>" in html


def test_answer_is_shown_on_the_proposal_as_text(client, factory):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    proposal = factory.proposal(
        consultation,
        factory.user(),
        answer=Answer.ACCEPTED,
        answer_text="The council agreed.\nWork starts in May.",
    )
    html = client.get(f"/proposals/{proposal.id}", headers=ENGLISH).get_data(as_text=True)
    assert "Answer from the moderators" in html
    assert ">Accepted</span>" in html
    assert "The council agreed.<br>Work starts in May." in html


def test_answer_text_is_escaped(client, factory):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    proposal = factory.proposal(
        consultation, factory.user(), answer=Answer.REJECTED, answer_text="<script>x()</script>"
    )
    html = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "<script>x()</script>" not in html


def test_unanswered_proposal_shows_no_answer_box(client, answerable):
    proposal, _ = answerable
    html = client.get(f"/proposals/{proposal.id}", headers=ENGLISH).get_data(as_text=True)
    assert "Answer from the moderators" not in html


def test_moderator_sees_the_answer_link_on_the_proposal(client, auth, answerable):
    proposal, moderator = answerable
    auth.login(moderator.email)
    html = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert f'href="/moderation/proposals/{proposal.id}/answer"' in html


def test_citizen_sees_no_answer_link(client, auth, answerable, factory):
    proposal, _ = answerable
    auth.login(factory.user().email)
    html = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert f'href="/moderation/proposals/{proposal.id}/answer"' not in html


@pytest.fixture
def answered_list(factory):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    author = factory.user()
    made = {
        answer: factory.proposal(consultation, author, answer=answer, answer_text="Why").id
        for answer in Answer
    }
    return consultation, made


@pytest.mark.parametrize("answer", list(Answer), ids=lambda answer: answer.value)
def test_list_filters_by_answer(client, answered_list, answer):
    consultation, made = answered_list
    response = client.get(
        f"/consultations/{consultation.slug}", query_string={"answer": answer.value}
    )
    shown = [int(found) for found in PROPOSAL_LINK.findall(response.get_data(as_text=True))]
    assert shown == [made[answer]]


def test_unknown_answer_filter_shows_every_proposal(client, answered_list):
    consultation, made = answered_list
    response = client.get(f"/consultations/{consultation.slug}", query_string={"answer": "maybe"})
    shown = [int(found) for found in PROPOSAL_LINK.findall(response.get_data(as_text=True))]
    assert sorted(shown) == sorted(made.values())


def test_answer_filter_is_a_labelled_select_keeping_the_choice(client, answered_list):
    consultation, _ = answered_list
    html = client.get(
        f"/consultations/{consultation.slug}", query_string={"answer": "rejected"}, headers=ENGLISH
    ).get_data(as_text=True)
    assert '<label class="form-label" for="answer">Answer</label>' in html
    assert '<option value="rejected" selected>' in html


def test_list_card_shows_the_answer_badge(client, answered_list):
    consultation, _ = answered_list
    html = client.get(
        f"/consultations/{consultation.slug}", query_string={"answer": "accepted"}, headers=ENGLISH
    ).get_data(as_text=True)
    assert "Answer: Accepted" in html


def test_answer_filter_is_kept_on_the_next_page(client, factory):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    author = factory.user()
    for _ in range(6):  # five a page in tests
        factory.proposal(consultation, author, answer=Answer.ACCEPTED, answer_text="Yes")
    html = client.get(
        f"/consultations/{consultation.slug}", query_string={"answer": "accepted"}
    ).get_data(as_text=True)
    assert re.search(r'rel="next" href="[^"]*answer=accepted', html)


def test_answer_form_with_the_token_from_the_page_is_accepted(app, csrf_client, answerable):
    proposal, moderator = answerable
    login_with_csrf(csrf_client, moderator.email)
    url = f"/moderation/proposals/{proposal.id}/answer"
    token = csrf_token_from(csrf_client.get(url).get_data(as_text=True))
    response = csrf_client.post(
        url, data={"answer": "under_evaluation", "text": "We look at it.", "csrf_token": token}
    )
    assert response.status_code == 302
    assert stored(app, proposal).answer is Answer.UNDER_EVALUATION


def test_answer_form_without_token_is_refused(app, csrf_client, answerable):
    proposal, moderator = answerable
    login_with_csrf(csrf_client, moderator.email)
    response = csrf_client.post(
        f"/moderation/proposals/{proposal.id}/answer", data={"answer": "accepted", "text": "Yes."}
    )
    assert response.status_code == 400
    assert stored(app, proposal).answer is Answer.NONE
