"""The paper page of a budget consultation: moderators only, a sheet entered twice counts, a
refusal is a 422 that says why next to the field or above the form, mismatches are shown side
by side and discarded; the results say how many ballots were on paper."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from participation.extensions import db
from participation.models import (
    Ballot,
    Electorate,
    PaperEntry,
    Phase,
    VotingCode,
    VotingMethod,
)
from participation.services.budgeting import electorate
from tests.conftest import csrf_token_from, login_with_csrf
from tests.factories import Factory

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def budget(factory: Factory):
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=VotingMethod.BUDGET, budget=1000
    )
    author = factory.user()
    projects = [
        factory.proposal(consultation, author, estimated_cost=cost, title=f"Project {cost}")
        for cost in (300, 500, 400)
    ]
    return consultation, projects


def clerk(app, factory: Factory):
    """A logged-in moderator's own client."""
    client = app.test_client()
    client.post(
        "/account/login", data={"email": factory.moderator().email, "password": Factory.PASSWORD}
    )
    return client


def url(consultation, rest: str = "") -> str:
    return f"/consultations/{consultation.slug}/paper{rest}"


def enter(client, consultation, projects, **sheet):
    data = {"batch": "A", "sheet": "1"} | sheet
    data["projects"] = [str(project.id) for project in projects]
    return client.post(url(consultation), data=data, headers=ENGLISH)


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_only_moderators_see_the_paper_page(app, client, auth, factory, budget):
    consultation, _projects = budget
    assert client.get(url(consultation)).status_code == 302  # to the login page
    auth.login(factory.user().email)
    assert client.get(url(consultation)).status_code == 403
    assert enter(client, consultation, _projects[:1]).status_code == 403
    assert count(app, PaperEntry) == 0


def test_a_support_consultation_has_no_paper_page(app, factory):
    consultation = factory.consultation(phase=Phase.VOTING)
    assert clerk(app, factory).get(url(consultation)).status_code == 404


def test_the_page_offers_the_form_and_the_counts(app, factory, budget):
    consultation, projects = budget
    html = clerk(app, factory).get(url(consultation), headers=ENGLISH).get_data(as_text=True)
    assert '<label class="form-label" for="batch">Batch</label>' in html
    assert 'for="sheet"' in html and 'name="code"' not in html
    assert all(f'id="project-{project.id}"' in html for project in projects)
    assert "Waiting for the second entry" in html and "No entries differ." in html


def test_the_moderator_panel_links_to_the_paper_page(app, factory, budget):
    consultation, _projects = budget
    html = clerk(app, factory).get(f"/consultations/{consultation.slug}", headers=ENGLISH)
    assert f'href="{url(consultation)}"' in html.get_data(as_text=True)


def test_two_clerks_entering_the_same_sheet_make_it_count(app, factory, budget):
    consultation, projects = budget
    first, second = clerk(app, factory), clerk(app, factory)
    response = enter(first, consultation, projects[:2])
    assert response.status_code == 302
    html = first.get(response.location, headers=ENGLISH).get_data(as_text=True)
    assert "Batch A, sheet 1 was entered. It counts once another staff member" in html
    assert count(app, Ballot) == 0
    response = enter(second, consultation, projects[:2])
    html = second.get(response.location, headers=ENGLISH).get_data(as_text=True)
    assert "both entries agree, so the sheet now counts as a paper ballot" in html
    assert re.search(r"data-paper-counted>1<", html)
    assert count(app, Ballot) == 1


def test_a_refused_entry_is_a_422_that_says_why(app, factory, budget):
    consultation, projects = budget
    first = clerk(app, factory)
    response = enter(first, consultation, projects[:1], batch="", sheet="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="batch-error"' in html and "Please give the batch" in html
    assert 'id="sheet-error"' in html and "number within its batch" in html
    response = enter(first, consultation, projects[:1], sheet="many")
    assert response.status_code == 422 and 'id="sheet-error"' in response.get_data(as_text=True)
    response = enter(first, consultation, projects)  # 1,200 of 1,000
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This entry was not stored" in html and "more than the" in html
    # The entry is shown again as typed.
    assert all(
        re.search(rf'value="{p.id}"\s+id="project-{p.id}"[^>]*checked', html) for p in projects
    )
    assert count(app, PaperEntry) == 0
    assert enter(first, consultation, projects[:1]).status_code == 302
    response = enter(first, consultation, projects[:1])
    assert response.status_code == 422
    assert "You have already entered this sheet" in response.get_data(as_text=True)
    assert count(app, PaperEntry) == 1


def test_a_code_used_online_is_refused_with_what_happened(app, factory):
    consultation = factory.consultation(
        phase=Phase.VOTING,
        voting_method=VotingMethod.BUDGET,
        budget=1000,
        electorate=Electorate.VOTING_CODES,
    )
    project = factory.proposal(consultation, factory.user(), estimated_cost=100)
    with app.app_context():
        text = electorate.generate_code()
        code = VotingCode(
            consultation_id=consultation.id,
            code_hash=electorate.code_hash(electorate.parse_code(text)),
        )
        db.session.add(code)
        db.session.commit()
        code_id = code.id
    factory.ballot(consultation, None, [project], voting_code_id=code_id)
    first = clerk(app, factory)
    html = first.get(url(consultation), headers=ENGLISH).get_data(as_text=True)
    assert 'name="code"' in html and 'name="batch"' not in html
    response = first.post(
        url(consultation), data={"code": text, "projects": [str(project.id)]}, headers=ENGLISH
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "This code has already voted online on" in html and "does not count" in html
    response = first.post(
        url(consultation),
        data={"code": electorate.generate_code(), "projects": [str(project.id)]},
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert 'id="code-error"' in response.get_data(as_text=True)
    assert count(app, PaperEntry) == 0


def test_a_mismatch_is_shown_side_by_side_and_resolved_by_discarding(app, factory, budget):
    consultation, projects = budget
    first, second, third = (clerk(app, factory) for _ in range(3))
    enter(first, consultation, projects[:1])
    response = enter(second, consultation, projects[1:2])
    html = second.get(response.location, headers=ENGLISH).get_data(as_text=True)
    assert "this entry differs from the first one" in html
    mismatch = re.search(r'<article class="paper-mismatch.*?</article>', html, re.S).group(0)
    assert "Batch A, sheet 1" in mismatch
    assert "Project 300" in mismatch and "Project 500" in mismatch
    with app.app_context():
        wrong = db.session.scalars(select(PaperEntry).order_by(PaperEntry.id.desc())).first()
        wrong_id = wrong.id
    assert f'action="{url(consultation, f"/entries/{wrong_id}/discard")}"' in mismatch
    response = third.post(url(consultation, f"/entries/{wrong_id}/discard"), headers=ENGLISH)
    assert response.status_code == 302
    html = third.get(response.location, headers=ENGLISH).get_data(as_text=True)
    assert "The entry was discarded" in html and "No entries differ." in html
    assert count(app, PaperEntry) == 1
    assert third.post(url(consultation, "/entries/999999/discard")).status_code == 404
    enter(third, consultation, projects[:1])
    assert count(app, Ballot) == 1


def test_discarding_needs_the_csrf_token(csrf_app, factory, budget):
    consultation, projects = budget
    client = csrf_app.test_client()
    moderator = factory.moderator()
    login_with_csrf(client, moderator.email)
    token = csrf_token_from(client.get(url(consultation)).get_data(as_text=True))
    response = client.post(
        url(consultation),
        data={"csrf_token": token, "batch": "A", "sheet": "1", "projects": [str(projects[0].id)]},
    )
    assert response.status_code == 302
    with csrf_app.app_context():
        entry_id = db.session.scalar(select(PaperEntry.id))
    assert client.post(url(consultation, f"/entries/{entry_id}/discard")).status_code == 400
    assert client.post(url(consultation), data={"batch": "A", "sheet": "2"}).status_code == 400


def test_the_results_say_how_many_ballots_were_on_paper(app, factory, budget):
    consultation, projects = budget
    factory.ballot(consultation, factory.user(), projects[:1])
    first, second = clerk(app, factory), clerk(app, factory)
    enter(first, consultation, projects[1:2])
    enter(second, consultation, projects[1:2])
    with app.app_context():
        from participation.models import Consultation

        db.session.get(Consultation, consultation.id).phase = Phase.EVALUATING
        db.session.commit()
    html = first.get(f"/consultations/{consultation.slug}/results", headers=ENGLISH)
    html = html.get_data(as_text=True)
    assert "2 ballots were cast, 1 of them on paper." in html
    assert f'href="{url(consultation)}"' in html
    first.post(f"/consultations/{consultation.slug}/results/budget/compute")
    html = first.get(f"/consultations/{consultation.slug}/results", headers=ENGLISH)
    assert "2 ballots were cast, 1 of them on paper." in html.get_data(as_text=True)


def test_the_paper_page_says_when_sheets_were_counted_after_the_count(app, factory, budget):
    consultation, projects = budget
    with app.app_context():
        from participation.models import Consultation

        db.session.get(Consultation, consultation.id).phase = Phase.EVALUATING
        db.session.commit()
    first, second = clerk(app, factory), clerk(app, factory)
    first.post(f"/consultations/{consultation.slug}/results/budget/compute")
    assert "counted again" not in first.get(url(consultation), headers=ENGLISH).get_data(True)
    enter(first, consultation, projects[:1])
    enter(second, consultation, projects[:1])
    html = first.get(url(consultation), headers=ENGLISH).get_data(as_text=True)
    assert "with 0 paper ballots. Sheets counted since are in the result only once" in html
    first.post(f"/consultations/{consultation.slug}/results/budget/compute")
    assert "counted again" not in first.get(url(consultation), headers=ENGLISH).get_data(True)
