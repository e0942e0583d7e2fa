"""Initiative pages and forms through HTTP: the public list and page, promoting, editing and
progress updates."""

from __future__ import annotations

import re

import pytest

from participation.extensions import db
from participation.models import (
    AuditEvent,
    Initiative,
    InitiativeStatus,
    InitiativeUpdate,
    Phase,
    Proposal,
)
from tests.conftest import csrf_token_from, login_with_csrf

ENGLISH = {"Accept-Language": "en"}
INITIATIVE_LINK = re.compile(r'<h3 class="h5 card-title"[^>]*><a href="/initiatives/(\d+)">')


def stored_initiatives(app) -> list[Initiative]:
    with app.app_context():
        return list(db.session.scalars(db.select(Initiative).order_by(Initiative.id)))


def stored_updates(app) -> list[InitiativeUpdate]:
    with app.app_context():
        return list(db.session.scalars(db.select(InitiativeUpdate)))


def stored(app, initiative) -> Initiative:
    with app.app_context():
        return db.session.get(Initiative, initiative.id)


def listed_ids(client, **params) -> set[int]:
    response = client.get("/initiatives", query_string=params)
    assert response.status_code == 200
    return {int(found) for found in INITIATIVE_LINK.findall(response.get_data(as_text=True))}


def initiative_form(**overrides) -> dict:
    data = {
        "title": "",
        "responsible_body": "Parks department",
        "allocated_budget": "40000",
        "status": "planned",
        "progress_percent": "0",
    }
    return data | overrides


def update_form(**overrides) -> dict:
    data = {"happened_on": "2027-05-03", "body": "The trees are ordered.", "status": ""}
    return data | {"progress_percent": ""} | overrides


@pytest.fixture
def winner(factory) -> Proposal:
    consultation = factory.consultation(phase=Phase.EVALUATING)
    return factory.proposal(consultation, factory.user(), selected=True, support_count=27)


@pytest.fixture
def initiative(factory, winner) -> Initiative:
    return factory.initiative(winner, title="Shade for the square")


# The public list


@pytest.fixture
def listed_initiatives(factory) -> dict[str, Initiative]:
    parks = factory.consultation(phase=Phase.CLOSED, slug="parks")
    roads = factory.consultation(phase=Phase.CLOSED, slug="roads")
    author = factory.user()
    return {
        "parks-planned": factory.initiative(factory.proposal(parks, author)),
        "parks-completed": factory.initiative(
            factory.proposal(parks, author),
            status=InitiativeStatus.COMPLETED,
            progress_percent=100,
        ),
        "roads-in-progress": factory.initiative(
            factory.proposal(roads, author), status=InitiativeStatus.IN_PROGRESS
        ),
    }


def ids(initiatives: dict[str, Initiative], *names: str) -> set[int]:
    return {initiatives[name].id for name in names}


def test_visitors_see_every_initiative(client, listed_initiatives):
    assert listed_ids(client) == ids(listed_initiatives, *listed_initiatives)


def test_the_list_filters_by_consultation(client, listed_initiatives):
    assert listed_ids(client, consultation="parks") == ids(
        listed_initiatives, "parks-planned", "parks-completed"
    )


def test_the_list_filters_by_status(client, listed_initiatives):
    assert listed_ids(client, status="in_progress") == ids(listed_initiatives, "roads-in-progress")


def test_an_unknown_status_filter_is_ignored(client, listed_initiatives):
    assert listed_ids(client, status="nonsense") == ids(listed_initiatives, *listed_initiatives)


def test_the_list_is_paginated(app, client, listed_initiatives, monkeypatch):
    monkeypatch.setitem(app.config, "INITIATIVES_PER_PAGE", 2)
    first, second = listed_ids(client), listed_ids(client, page=2)
    assert (len(first), len(second)) == (2, 1)
    assert first | second == ids(listed_initiatives, *listed_initiatives)


def test_the_list_shows_status_budget_and_progress(client, factory):
    consultation = factory.consultation(phase=Phase.CLOSED)
    factory.initiative(
        factory.proposal(consultation, factory.user()),
        status=InitiativeStatus.IN_PROGRESS,
        progress_percent=40,
        allocated_budget=12_500,
    )
    html = client.get("/initiatives", headers=ENGLISH).get_data(as_text=True)
    assert "In progress" in html
    assert "€12,500" in html
    assert re.search(r'<progress [^>]*max="100" value="40"', html)
    assert "40% done" in html


@pytest.mark.parametrize(
    ("language", "placeholder"), [("en", "To be assigned"), ("de", "Wird noch zugewiesen")]
)
@pytest.mark.parametrize("page", ["/initiatives", "/initiatives/{id}"])
def test_an_open_responsible_body_reads_as_the_placeholder_in_the_readers_language(
    client, factory, winner, language, placeholder, page
):
    open_body = factory.initiative(winner, responsible_body=None)
    response = client.get(page.format(id=open_body.id), headers={"Accept-Language": language})
    assert placeholder in response.get_data(as_text=True)


def test_the_navigation_links_to_the_initiatives(client):
    assert 'href="/initiatives"' in client.get("/").get_data(as_text=True)


# The initiative page


def test_the_page_links_to_the_proposal_and_shows_its_supporters(client, winner, initiative):
    html = client.get(f"/initiatives/{initiative.id}", headers=ENGLISH).get_data(as_text=True)
    assert f'href="/proposals/{winner.id}"' in html
    assert "27 supporters" in html


def test_the_page_shows_the_updates_newest_first(client, auth, factory, initiative):
    auth.login(factory.moderator().email)
    for day, text in [("03", "Middle"), ("09", "Newest"), ("01", "Oldest")]:
        client.post(
            f"/initiatives/{initiative.id}/updates/new",
            data=update_form(happened_on=f"2027-05-{day}", body=text),
        )
    html = client.get(f"/initiatives/{initiative.id}").get_data(as_text=True)
    assert html.index("Newest") < html.index("Middle") < html.index("Oldest")


def test_an_unknown_initiative_is_404(client):
    assert client.get("/initiatives/999999").status_code == 404


def test_the_proposal_page_links_to_its_initiative_with_progress(client, winner, factory):
    initiative = factory.initiative(winner, progress_percent=60)
    html = client.get(f"/proposals/{winner.id}", headers=ENGLISH).get_data(as_text=True)
    assert f'href="/initiatives/{initiative.id}"' in html
    assert re.search(r'<progress [^>]*value="60"', html)


# Promoting


def test_moderator_promotes_a_winner(app, client, auth, factory, winner):
    auth.login(factory.moderator().email)
    response = client.post(f"/proposals/{winner.id}/promote", data=initiative_form())
    [initiative] = stored_initiatives(app)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/initiatives/{initiative.id}"
    assert (initiative.proposal_id, initiative.title, initiative.allocated_budget) == (
        winner.id,
        winner.title,
        40_000,
    )


def test_promoting_is_in_the_consultations_audit_log(app, client, auth, factory, winner):
    auth.login(factory.moderator().email)
    client.post(f"/proposals/{winner.id}/promote", data=initiative_form())
    with app.app_context():
        actions = db.session.scalars(
            db.select(AuditEvent.action).where(AuditEvent.consultation_id == winner.consultation_id)
        ).all()
    assert actions == ["initiative.created"]


def test_the_proposal_page_offers_moderators_to_promote_a_winner(client, auth, factory, winner):
    auth.login(factory.moderator().email)
    html = client.get(f"/proposals/{winner.id}").get_data(as_text=True)
    assert f'href="/proposals/{winner.id}/promote"' in html


def test_the_proposal_page_offers_citizens_no_promotion(client, auth, factory, winner):
    auth.login(factory.user().email)
    html = client.get(f"/proposals/{winner.id}").get_data(as_text=True)
    assert "/promote" not in html


def test_a_second_promotion_leads_to_the_existing_initiative(
    app, client, auth, factory, winner, initiative
):
    auth.login(factory.moderator().email)
    response = client.post(
        f"/proposals/{winner.id}/promote", data=initiative_form(), headers=ENGLISH
    )
    assert response.headers["Location"] == f"/initiatives/{initiative.id}"
    assert len(stored_initiatives(app)) == 1


def test_a_second_promotion_says_why(client, auth, factory, winner, initiative):
    auth.login(factory.moderator().email)
    response = client.post(
        f"/proposals/{winner.id}/promote",
        data=initiative_form(),
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "This proposal is already an initiative." in response.get_data(as_text=True)


def test_a_proposal_that_did_not_win_is_refused_with_a_message(app, client, auth, factory):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    loser = factory.proposal(consultation, factory.user())
    auth.login(factory.moderator().email)
    response = client.post(
        f"/proposals/{loser.id}/promote",
        data=initiative_form(),
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert response.request.path == f"/proposals/{loser.id}"
    assert "Only a winning proposal" in response.get_data(as_text=True)
    assert stored_initiatives(app) == []


@pytest.mark.parametrize("progress", ["101", "-1"])
def test_progress_outside_0_to_100_is_refused_with_422(
    app, client, auth, factory, winner, progress
):
    auth.login(factory.moderator().email)
    response = client.post(
        f"/proposals/{winner.id}/promote", data=initiative_form(progress_percent=progress)
    )
    assert response.status_code == 422
    assert 'id="progress_percent-error"' in response.get_data(as_text=True)
    assert stored_initiatives(app) == []


def test_completed_below_100_percent_is_refused_next_to_the_progress(
    app, client, auth, factory, winner
):
    auth.login(factory.moderator().email)
    response = client.post(
        f"/proposals/{winner.id}/promote",
        data=initiative_form(status="completed", progress_percent="50"),
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert "A completed initiative is 100 percent done" in response.get_data(as_text=True)
    assert stored_initiatives(app) == []


def test_a_missing_responsible_body_is_refused_with_422(app, client, auth, factory, winner):
    auth.login(factory.moderator().email)
    response = client.post(
        f"/proposals/{winner.id}/promote", data=initiative_form(responsible_body="")
    )
    assert response.status_code == 422
    assert stored_initiatives(app) == []


def test_citizens_get_403_when_promoting(app, client, auth, factory, winner):
    auth.login(factory.user().email)
    response = client.post(f"/proposals/{winner.id}/promote", data=initiative_form())
    assert response.status_code == 403
    assert stored_initiatives(app) == []


def test_visitors_are_sent_to_log_in_before_promoting(client, winner):
    response = client.get(f"/proposals/{winner.id}/promote")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/account/login?next=%2Fproposals%2F{winner.id}%2Fpromote"
    )


# Editing and progress updates


def test_moderator_edits_an_initiative(app, client, auth, factory, initiative):
    auth.login(factory.moderator().email)
    response = client.post(
        f"/initiatives/{initiative.id}/edit",
        data=initiative_form(
            title="Shade",
            responsible_body="Town works",
            status="in_progress",
            progress_percent="20",
        ),
    )
    assert response.status_code == 302
    saved = stored(app, initiative)
    assert (saved.title, saved.responsible_body, saved.status, saved.progress_percent) == (
        "Shade",
        "Town works",
        InitiativeStatus.IN_PROGRESS,
        20,
    )


def test_the_edit_form_is_filled_with_the_initiative(client, auth, factory, initiative):
    auth.login(factory.moderator().email)
    html = client.get(f"/initiatives/{initiative.id}/edit").get_data(as_text=True)
    assert 'value="Shade for the square"' in html


def test_moderator_posts_an_update_that_moves_the_progress(app, client, auth, factory, initiative):
    auth.login(factory.moderator().email)
    response = client.post(
        f"/initiatives/{initiative.id}/updates/new",
        data=update_form(status="in_progress", progress_percent="35"),
    )
    assert response.status_code == 302
    [update] = stored_updates(app)
    assert (update.body, update.happened_on.isoformat()) == ("The trees are ordered.", "2027-05-03")
    saved = stored(app, initiative)
    assert (saved.status, saved.progress_percent) == (InitiativeStatus.IN_PROGRESS, 35)


@pytest.mark.parametrize("progress", ["101", "-1"])
def test_an_update_with_progress_outside_0_to_100_is_refused_with_422(
    app, client, auth, factory, initiative, progress
):
    auth.login(factory.moderator().email)
    response = client.post(
        f"/initiatives/{initiative.id}/updates/new", data=update_form(progress_percent=progress)
    )
    assert response.status_code == 422
    assert stored_updates(app) == []
    assert stored(app, initiative).progress_percent == 0


def test_an_update_without_a_date_is_refused_with_422(app, client, auth, factory, initiative):
    auth.login(factory.moderator().email)
    response = client.post(
        f"/initiatives/{initiative.id}/updates/new", data=update_form(happened_on="")
    )
    assert response.status_code == 422
    assert 'id="happened_on-error"' in response.get_data(as_text=True)
    assert stored_updates(app) == []


def test_citizens_get_403_when_posting_updates(app, client, auth, factory, initiative):
    auth.login(factory.user().email)
    response = client.post(f"/initiatives/{initiative.id}/updates/new", data=update_form())
    assert response.status_code == 403
    assert stored_updates(app) == []


def test_the_initiative_page_offers_the_update_form_to_moderators_only(
    client, auth, factory, initiative
):
    url = f"/initiatives/{initiative.id}"
    visitor_html = client.get(url).get_data(as_text=True)
    auth.login(factory.moderator().email)
    moderator_html = client.get(url).get_data(as_text=True)
    assert f"{url}/updates/new" not in visitor_html
    assert f"{url}/updates/new" in moderator_html


# CSRF


def test_promote_form_without_csrf_token_is_refused(app, csrf_client, factory, winner):
    login_with_csrf(csrf_client, factory.moderator().email)
    response = csrf_client.post(f"/proposals/{winner.id}/promote", data=initiative_form())
    assert response.status_code == 400
    assert stored_initiatives(app) == []


def test_promote_form_with_the_token_from_the_page_works(app, csrf_client, factory, winner):
    login_with_csrf(csrf_client, factory.moderator().email)
    url = f"/proposals/{winner.id}/promote"
    token = csrf_token_from(csrf_client.get(url).get_data(as_text=True))
    response = csrf_client.post(url, data=initiative_form(csrf_token=token))
    assert response.status_code == 302
    assert len(stored_initiatives(app)) == 1


def test_update_form_without_csrf_token_is_refused(app, csrf_client, factory, initiative):
    login_with_csrf(csrf_client, factory.moderator().email)
    response = csrf_client.post(f"/initiatives/{initiative.id}/updates/new", data=update_form())
    assert response.status_code == 400
    assert stored_updates(app) == []


def test_update_form_with_the_token_from_the_page_works(app, csrf_client, factory, initiative):
    login_with_csrf(csrf_client, factory.moderator().email)
    url = f"/initiatives/{initiative.id}/updates/new"
    token = csrf_token_from(csrf_client.get(url).get_data(as_text=True))
    response = csrf_client.post(url, data=update_form(csrf_token=token))
    assert response.status_code == 302
    assert len(stored_updates(app)) == 1
