"""Public profiles: name, organisation badge, and the public proposals and comments of a person,
paginated; author names link to them; a deleted account has none."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from participation.extensions import db
from participation.models import (
    AccountType,
    CommentState,
    Phase,
    ProposalState,
    User,
)
from participation.services import profiles
from participation.services.accounts import personal_data
from participation.services.errors import NotFound
from tests.conftest import START
from tests.factories import Factory
from tests.helpers import attached

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def carla(factory):
    """Carla's contributions: some public, the rest must stay off her profile."""
    carla = factory.user(display_name="Carla Meier")
    public = factory.consultation(phase=Phase.COLLECTING)
    draft = factory.consultation(phase=Phase.DRAFT)
    shown = factory.proposal(public, carla, title="Shown proposal")
    factory.proposal(public, carla, title="Withdrawn proposal", state=ProposalState.WITHDRAWN)
    hidden = factory.proposal(public, carla, title="Hidden proposal", state=ProposalState.HIDDEN)
    in_draft = factory.proposal(draft, carla, title="Draft proposal")
    factory.comment(shown, carla, body="Shown comment")
    factory.comment(shown, carla, body="Hidden comment", state=CommentState.HIDDEN)
    factory.comment(shown, carla, body="", state=CommentState.DELETED)
    factory.comment(hidden, carla, body="Comment on a hidden proposal")
    factory.comment(in_draft, carla, body="Comment in a draft")
    factory.proposal(public, factory.user(), title="Somebody else's proposal")
    return carla


def titles(page) -> list[str]:
    return [proposal.title for proposal in page.items]


# The service


def test_profile_lists_only_public_proposals(carla, ctx):
    assert titles(profiles.proposals(attached(User, carla))) == ["Shown proposal"]


def test_profile_lists_only_public_comments(carla, ctx):
    page = profiles.comments(attached(User, carla))
    assert [comment.body for comment in page.items] == ["Shown comment"]


def test_profile_counts_what_it_lists(carla, ctx):
    counts = profiles.counts(attached(User, carla))
    assert (counts.proposals, counts.comments) == (1, 1)


def test_profile_proposals_are_newest_first_and_paginated(factory, ctx):
    person = factory.user()
    consultation = factory.consultation()
    for minute in range(5):
        factory.proposal(
            consultation, person, title=f"P{minute}", created_at=START + timedelta(minutes=minute)
        )
    person = attached(User, person)
    first = profiles.proposals(person, page=1, per_page=2)
    last = profiles.proposals(person, page=3, per_page=2)
    assert (titles(first), titles(last), first.pages) == (["P4", "P3"], ["P0"], 3)


def test_a_deleted_account_has_no_profile(factory, ctx):
    person = attached(User, factory.user())
    personal_data.delete_own_account(person, Factory.PASSWORD)
    with pytest.raises(NotFound):
        profiles.get_profile_owner(person.id)


def test_an_unknown_account_has_no_profile(ctx):
    with pytest.raises(NotFound):
        profiles.get_profile_owner(4711)


# The pages


def test_profile_page_shows_name_and_public_proposals(client, carla):
    page = client.get(f"/people/{carla.id}", headers=ENGLISH).get_data(as_text=True)
    assert "<h1>Carla Meier" in page
    assert "Shown proposal" in page
    for title in ("Withdrawn proposal", "Hidden proposal", "Draft proposal", "Somebody else"):
        assert title not in page


def test_profile_comments_page_shows_public_comments_with_a_link(client, carla, app):
    page = client.get(f"/people/{carla.id}/comments", headers=ENGLISH).get_data(as_text=True)
    assert "Shown comment" in page
    for body in ("Hidden comment", "Comment on a hidden proposal", "Comment in a draft"):
        assert body not in page
    assert re.search(r'href="/proposals/\d+#comment-\d+"', page)


def test_moderators_see_the_same_public_profile(client, auth, factory, carla):
    auth.login(factory.moderator().email)
    page = client.get(f"/people/{carla.id}", headers=ENGLISH).get_data(as_text=True)
    assert "Hidden proposal" not in page and "Draft proposal" not in page


def test_profile_of_an_organisation_has_the_badge(client, factory):
    club = factory.user(display_name="Sportverein", account_type=AccountType.ORGANISATION)
    page = client.get(f"/people/{club.id}", headers=ENGLISH).get_data(as_text=True)
    assert '<span class="badge org-badge">Organisation</span>' in page


def test_profile_of_a_person_has_no_badge(client, carla):
    page = client.get(f"/people/{carla.id}", headers=ENGLISH).get_data(as_text=True)
    assert "org-badge" not in page


def test_profile_pages_are_paginated(client, factory):
    person = factory.user()
    consultation = factory.consultation()
    for minute in range(profiles.PER_PAGE + 2):
        factory.proposal(
            consultation,
            person,
            title=f"Idea {minute}",
            created_at=START + timedelta(minutes=minute),
        )
    second = client.get(f"/people/{person.id}?page=2", headers=ENGLISH).get_data(as_text=True)
    assert ("Idea 1<" in second, "Idea 0<" in second, "Idea 11<" in second) == (True, True, False)


@pytest.mark.parametrize("path", ["/people/{id}", "/people/{id}/comments"])
def test_profile_of_a_deleted_account_is_404(client, factory, path, app):
    person = factory.user()
    with app.app_context():
        personal_data.delete_own_account(db.session.get(User, person.id), Factory.PASSWORD)
    assert client.get(path.format(id=person.id)).status_code == 404


def test_profile_of_an_unknown_account_is_404(client):
    assert client.get("/people/4711").status_code == 404


def test_author_names_link_to_the_profile(client, factory):
    author = factory.user(display_name="Dora")
    commenter = factory.user(display_name="Emil")
    proposal = factory.proposal(factory.consultation(), author)
    factory.comment(proposal, commenter)
    page = client.get(f"/proposals/{proposal.id}", headers=ENGLISH).get_data(as_text=True)
    assert f'href="/people/{author.id}">Dora</a>' in page
    assert f'href="/people/{commenter.id}">Emil</a>' in page


def test_the_proposal_list_links_author_names_to_the_profile(client, factory):
    author = factory.user(display_name="Dora")
    consultation = factory.consultation()
    factory.proposal(consultation, author)
    page = client.get(f"/consultations/{consultation.slug}", headers=ENGLISH)
    assert f'href="/people/{author.id}">Dora</a>' in page.get_data(as_text=True)


def test_a_deleted_author_is_a_deleted_participant_without_a_link(client, factory, app):
    author = factory.user(display_name="Dora", account_type=AccountType.ORGANISATION)
    proposal = factory.proposal(factory.consultation(), author, title="An idea by Dora")
    factory.comment(proposal, author, body="This comment stays readable")
    with app.app_context():
        personal_data.delete_own_account(db.session.get(User, author.id), Factory.PASSWORD)
    page = client.get(f"/proposals/{proposal.id}", headers=ENGLISH).get_data(as_text=True)
    assert "An idea by Dora" in page and "This comment stays readable" in page
    assert "by deleted participant" in page
    assert f"/people/{author.id}" not in page
    assert "org-badge" not in page
