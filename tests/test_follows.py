"""Following proposals and consultations: the service, the database's guarantees and the buttons."""

from __future__ import annotations

import re

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from participation.extensions import db
from participation.models import Consultation, Follow, Phase, Proposal, ProposalState, User
from participation.services import follows, proposals
from participation.services.errors import NotAllowed
from participation.services.proposals import ProposalText
from tests import postgres
from tests.conftest import make_app
from tests.helpers import at_the_same_moment, attached


def _follows(subject: Proposal | Consultation) -> list[int]:
    """The ids of the people following the subject, read afresh."""
    column = Follow.proposal_id if isinstance(subject, Proposal) else Follow.consultation_id
    db.session.expire_all()
    return sorted(db.session.scalars(select(Follow.user_id).where(column == subject.id)))


@pytest.fixture
def proposal(factory, ctx) -> Proposal:
    consultation = factory.consultation()
    return attached(Proposal, factory.proposal(consultation, factory.user()))


# The service


def test_a_citizen_follows_a_proposal(proposal, citizen):
    assert follows.follow(citizen, proposal) is True

    assert _follows(proposal) == [citizen.id]
    assert follows.is_following(citizen, proposal)


def test_a_citizen_follows_a_consultation(proposal, citizen):
    consultation = proposal.consultation

    follows.follow(citizen, consultation)

    assert _follows(consultation) == [citizen.id]
    assert _follows(proposal) == []


def test_following_twice_is_one_follow(proposal, citizen):
    follows.follow(citizen, proposal)
    follows.follow(citizen, proposal)

    assert _follows(proposal) == [citizen.id]


def test_unfollowing_ends_the_follow(proposal, citizen):
    follows.follow(citizen, proposal)

    assert follows.unfollow(citizen, proposal) is False

    assert _follows(proposal) == []
    assert not follows.is_following(citizen, proposal)


def test_unfollowing_one_subject_leaves_the_others(proposal, citizen):
    follows.follow(citizen, proposal)
    follows.follow(citizen, proposal.consultation)

    follows.unfollow(citizen, proposal)

    assert _follows(proposal.consultation) == [citizen.id]


def test_a_visitor_cannot_follow(proposal):
    with pytest.raises(NotAllowed):
        follows.follow(None, proposal)


def test_a_blocked_account_cannot_follow(proposal, factory):
    blocked = attached(User, factory.user(is_blocked=True))

    with pytest.raises(NotAllowed):
        follows.follow(blocked, proposal)


def test_the_author_follows_the_proposal_they_submit(factory, citizen):
    consultation = attached(Consultation, factory.consultation())

    submitted = proposals.submit(
        consultation, citizen, ProposalText(title="More benches", body="In the park.")
    )

    assert _follows(submitted) == [citizen.id]


def test_the_author_may_stop_following_their_own_proposal(factory, citizen):
    consultation = attached(Consultation, factory.consultation())
    submitted = proposals.submit(
        consultation, citizen, ProposalText(title="More benches", body="In the park.")
    )

    follows.unfollow(citizen, submitted)

    assert _follows(submitted) == []


def test_following_at_the_same_moment_gives_one_follow(threaded_app, factory):
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, factory.user())
    follower = factory.user()

    def load():
        return db.session.get(User, follower.id), db.session.get(Proposal, proposal.id)

    outcomes = at_the_same_moment(threaded_app, load, follows.follow, [(), (), ()])

    assert outcomes == [True, True, True]
    with threaded_app.app_context():
        assert _follows(proposal) == [follower.id]


# What the database guarantees, whatever the service does


def test_the_database_refuses_a_second_follow_of_a_proposal(proposal, citizen):
    db.session.add(Follow(user_id=citizen.id, proposal_id=proposal.id))
    db.session.commit()
    db.session.add(Follow(user_id=citizen.id, proposal_id=proposal.id))

    with pytest.raises(IntegrityError):
        db.session.commit()


def test_the_database_refuses_a_second_follow_of_a_consultation(proposal, citizen):
    consultation_id = proposal.consultation_id
    db.session.add(Follow(user_id=citizen.id, consultation_id=consultation_id))
    db.session.commit()
    db.session.add(Follow(user_id=citizen.id, consultation_id=consultation_id))

    with pytest.raises(IntegrityError):
        db.session.commit()


@pytest.mark.parametrize("subjects", ["none", "both"])
def test_a_follow_names_exactly_one_subject(proposal, citizen, subjects):
    ids = (
        {}
        if subjects == "none"
        else {"proposal_id": proposal.id, "consultation_id": proposal.consultation_id}
    )
    db.session.add(Follow(user_id=citizen.id, **ids))

    with pytest.raises(IntegrityError):
        db.session.commit()


def test_follows_go_with_the_proposal(proposal, citizen):
    follows.follow(citizen, proposal)

    db.session.delete(proposal)
    db.session.commit()

    assert db.session.scalar(select(func.count()).select_from(Follow)) == 0


# Upgrading an installation


@pytest.fixture
def fresh_app(backend, database_url, tmp_path):
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'follows-migration.db'}"
    else:
        url = postgres.create_extra_database(database_url, "participation_follows_migration")
    app = make_app(url)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_upgrading_makes_the_authors_of_earlier_proposals_follow_them(fresh_app):
    """Down to the revision before follows existed, a proposal is written; the upgrade then
    makes its author follow it."""
    with fresh_app.app_context():
        upgrade()
        downgrade(revision="5c8afd0f48af")  # the revision before follows
        # Its users table still has the session token that later revisions dropped.
        db.session.execute(
            text(
                "INSERT INTO users (email, display_name, password_hash, role, account_type, "
                "is_blocked, session_token, created_at, updated_at) VALUES ('a@example.org', 'A', "
                "'-', 'citizen', 'person', false, 'token', '2026-01-02 03:04:05', "
                "'2026-01-02 03:04:05')"
            )
        )
        author = db.session.scalar(select(User))
        consultation = Consultation(slug="c", title="C", phase=Phase.COLLECTING)
        proposal = Proposal(consultation=consultation, author=author, title="P", body="B")
        db.session.add(proposal)
        db.session.commit()
        expected = [(author.id, proposal.id)]
        db.session.remove()

        upgrade()

        rows = db.session.execute(select(Follow.user_id, Follow.proposal_id)).all()
    assert [tuple(row) for row in rows] == expected


# The buttons


def _button(html: str) -> str:
    match = re.search(r'<button[^>]*class="btn follow-button[^"]*"[^>]*>', html)
    assert match, "the page has no follow button"
    return match.group(0)


def _proposal_page(client, proposal_id: int) -> str:
    return client.get(f"/proposals/{proposal_id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )


@pytest.fixture
def published(factory):
    consultation = factory.consultation()
    return factory.proposal(consultation, factory.user())


def test_the_proposal_page_offers_a_follow_button_not_pressed(client, auth, factory, published):
    auth.login(factory.user().email)

    button = _button(_proposal_page(client, published.id))

    assert 'aria-pressed="false"' in button


def test_pressing_follow_follows_and_the_button_shows_it_pressed(client, auth, factory, published):
    follower = factory.user()
    auth.login(follower.email)

    response = client.post(f"/proposals/{published.id}/follow")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/proposals/{published.id}")
    assert 'aria-pressed="true"' in _button(_proposal_page(client, published.id))
    with client.application.app_context():
        assert _follows(published) == [follower.id]


def test_pressing_it_again_stops_following(client, auth, factory, published):
    follower = factory.user()
    factory.follow(follower, published)
    auth.login(follower.email)

    client.post(f"/proposals/{published.id}/unfollow")

    assert 'aria-pressed="false"' in _button(_proposal_page(client, published.id))
    with client.application.app_context():
        assert _follows(published) == []


def test_the_pressed_button_sends_the_form_to_unfollow(client, auth, factory, published):
    follower = factory.user()
    factory.follow(follower, published)
    auth.login(follower.email)

    html = _proposal_page(client, published.id)

    assert f'action="/proposals/{published.id}/unfollow"' in html


def test_the_consultation_page_follows_and_unfollows(client, auth, factory, published):
    follower = factory.user()
    auth.login(follower.email)
    with client.application.app_context():
        slug = db.session.get(Consultation, published.consultation_id).slug

    client.post(f"/consultations/{slug}/follow")
    pressed = _button(client.get(f"/consultations/{slug}").get_data(as_text=True))
    client.post(f"/consultations/{slug}/unfollow")
    released = _button(client.get(f"/consultations/{slug}").get_data(as_text=True))

    assert ('aria-pressed="true"' in pressed, 'aria-pressed="false"' in released) == (True, True)


def test_a_visitor_is_sent_to_log_in_and_back_to_the_proposal(client, published):
    response = client.post(f"/proposals/{published.id}/follow")

    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]
    assert f"next=/proposals/{published.id}" in response.headers["Location"]


def test_a_visitor_sees_a_link_to_log_in_instead_of_the_button(client, published):
    html = _proposal_page(client, published.id)

    assert "Log in to follow" in html
    assert "aria-pressed" not in html.split("follow-box", 1)[1].split("</div>", 1)[0]


def test_a_hidden_proposal_cannot_be_followed_by_others(client, auth, factory):
    consultation = factory.consultation()
    hidden = factory.proposal(consultation, factory.user(), state=ProposalState.HIDDEN)
    auth.login(factory.user().email)

    response = client.post(f"/proposals/{hidden.id}/follow")

    assert response.status_code == 404


def test_a_draft_consultation_cannot_be_followed_by_citizens(client, auth, factory):
    draft = factory.consultation(phase=Phase.DRAFT)
    auth.login(factory.user().email)

    response = client.post(f"/consultations/{draft.slug}/follow")

    assert response.status_code == 404


def test_following_needs_the_forms_csrf_token(csrf_client, factory, published):
    from tests.conftest import login_with_csrf

    login_with_csrf(csrf_client, factory.user().email)

    response = csrf_client.post(f"/proposals/{published.id}/follow")

    assert response.status_code == 400
