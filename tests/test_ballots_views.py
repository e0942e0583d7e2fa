"""The budget ballot through HTTP, without JavaScript: login round trip, checking the ballot
without storing it, refusals that keep the ticked boxes, the receipt with the ballot code, a
change of ballot, the page outside voting, CSRF; and the ballot settings and the counting rule
on the consultation pages."""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from participation.extensions import db
from participation.models import (
    Ballot,
    BallotChoice,
    Consultation,
    Phase,
    ProposalState,
    TallyRule,
    User,
)
from tests.conftest import csrf_token_from, login_with_csrf
from tests.factories import Factory
from tests.test_budgeting_ballots import BudgetVote, budget_vote

ENGLISH = {"Accept-Language": "en"}
CHECKED = re.compile(r'<input[^>]*name="projects" value="(\d+)"[^>]*\bchecked\b', re.S)
CHECKBOX = re.compile(r'<input[^>]*type="checkbox" name="projects" value="(\d+)"', re.S)


@pytest.fixture
def vote(factory: Factory) -> BudgetVote:
    return budget_vote(factory, voting_ends_on=None)


def ballot_url(vote: BudgetVote) -> str:
    return f"/consultations/{vote.consultation.slug}/ballot"


def ids(*projects) -> list[str]:
    return [str(project.id) for project in projects]


def checked_boxes(html: str) -> set[str]:
    return set(CHECKED.findall(html))


def stored(app, vote: BudgetVote) -> tuple[str, set[int]] | None:
    with app.app_context():
        ballot = db.session.scalar(select(Ballot).where(Ballot.user_id == vote.citizen.id))
        if ballot is None:
            return None
        return ballot.code, {choice.proposal_id for choice in ballot.choices}


def ballot_rows(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Ballot)),
            db.session.scalar(select(func.count()).select_from(BallotChoice)),
        )


def test_visitors_log_in_and_come_back_to_the_ballot(client, vote):
    response = client.get(ballot_url(vote))
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/account/login"
    assert parse_qs(location.query)["next"] == [ballot_url(vote)]
    back = client.post(
        f"/account/login?next={ballot_url(vote)}",
        data={"email": vote.citizen.email, "password": Factory.PASSWORD},
    )
    assert back.headers["Location"] == ballot_url(vote)


def test_a_visitor_posting_a_ballot_is_sent_to_log_in_and_nothing_is_stored(app, client, vote):
    response = client.post(ballot_url(vote), data={"projects": ids(vote.projects[0])})
    assert urlsplit(response.headers["Location"]).path == "/account/login"
    assert ballot_rows(app) == (0, 0)


def test_a_citizen_blocked_after_logging_in_cannot_submit(app, client, auth, vote):
    auth.login(vote.citizen.email)
    with app.app_context():
        db.session.get(User, vote.citizen.id).is_blocked = True
        db.session.commit()
    response = client.post(ballot_url(vote), data={"projects": ids(vote.projects[0])})
    assert urlsplit(response.headers["Location"]).path == "/account/login"
    assert ballot_rows(app) == (0, 0)


def test_a_support_consultation_has_no_ballot_page(client, auth, factory):
    consultation = factory.consultation(phase=Phase.VOTING)
    auth.login(factory.user().email)
    assert client.get(f"/consultations/{consultation.slug}/ballot").status_code == 404


def test_the_ballot_lists_every_project_with_a_checkbox_grouped_by_category(client, auth, factory):
    vote = budget_vote(factory, ballot_max_projects=3)
    consultation = vote.consultation
    in_parks = factory.proposal(
        consultation,
        factory.user(),
        title="Trees in the park",
        estimated_cost=250,
        category_id=consultation.categories[0].id,
    )
    auth.login(vote.citizen.email)
    response = client.get(ballot_url(vote), headers=ENGLISH)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert set(CHECKBOX.findall(html)) == set(ids(*vote.projects, in_parks))
    assert '<legend class="h5">Parks</legend>' in html
    assert '<legend class="h5">Other projects</legend>' in html
    label = (
        rf'for="project-{in_parks.id}">\s*<span class="fw-semibold">Trees in the park</span>\s*'
        r'<span class="ballot-cost">€250</span>\s*<span class="badge category-badge">Parks</span>'
    )
    assert re.search(label, html)
    assert 'aria-live="polite"' in html
    assert "Each ballot may use up to €1,000, the whole budget." in html
    assert "Choose at most 3 projects." in html
    assert 'name="action" value="check"' in html
    assert checked_boxes(html) == set()


def test_checking_adds_up_without_storing(app, client, auth, vote):
    auth.login(vote.citizen.email)
    response = client.post(
        ballot_url(vote),
        data={"projects": ids(vote.projects[0], vote.projects[3]), "action": "check"},
        headers=ENGLISH,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your choices fit." in html
    assert "<dd data-ballot-used>€500</dd>" in html
    assert "<dd data-ballot-remaining>€500</dd>" in html
    assert "<dd data-ballot-count>2</dd>" in html
    assert checked_boxes(html) == set(ids(vote.projects[0], vote.projects[3]))
    assert ballot_rows(app) == (0, 0)


def test_checking_a_ballot_over_the_budget_says_by_how_much(app, client, auth, vote):
    auth.login(vote.citizen.email)
    response = client.post(
        ballot_url(vote),
        data={"projects": ids(*vote.projects[:3]), "action": "check"},
        headers=ENGLISH,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "€200 more than the €1,000 a ballot may use" in html
    assert "<dd data-ballot-over>€200</dd>" in html
    assert ballot_rows(app) == (0, 0)


def test_a_ballot_over_the_budget_is_refused_with_422_and_the_boxes_stay_ticked(
    app, client, auth, vote
):
    auth.login(vote.citizen.email)
    response = client.post(
        ballot_url(vote), data={"projects": ids(*vote.projects[:3])}, headers=ENGLISH
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Your ballot was not stored" in html
    assert "Your choices cost €1,200, €200 more than the €1,000 a ballot may use." in html
    assert checked_boxes(html) == set(ids(*vote.projects[:3]))
    assert ballot_rows(app) == (0, 0)


def test_too_many_projects_are_refused_with_422(app, client, auth, factory):
    vote = budget_vote(factory, ballot_max_projects=1)
    auth.login(vote.citizen.email)
    response = client.post(
        ballot_url(vote), data={"projects": ids(*vote.projects[2:])}, headers=ENGLISH
    )
    assert response.status_code == 422
    assert "you chose 2, 1 too many" in response.get_data(as_text=True)
    assert ballot_rows(app) == (0, 0)


def test_the_no_javascript_flow_from_login_to_a_changed_ballot(app, client, auth, vote):
    auth.login(vote.citizen.email)
    assert client.get(ballot_url(vote)).status_code == 200

    over = client.post(ballot_url(vote), data={"projects": ids(*vote.projects[:3])})
    assert over.status_code == 422
    assert stored(app, vote) is None

    done = client.post(ballot_url(vote), data={"projects": ids(*vote.projects[:2])})
    assert done.status_code == 302
    assert done.headers["Location"] == f"{ballot_url(vote)}#ballot-receipt"
    code, chosen = stored(app, vote)
    assert chosen == {vote.projects[0].id, vote.projects[1].id}
    page = client.get(ballot_url(vote), headers=ENGLISH).get_data(as_text=True)
    assert "Your ballot was recorded on" in page
    assert "you can change it until voting closes." in page
    assert f'<strong class="ballot-code" data-ballot-code>{code}</strong>' in page
    assert "find your ballot among them" in page
    assert checked_boxes(page) == set(ids(*vote.projects[:2]))

    changed = client.post(ballot_url(vote), data={"projects": ids(*vote.projects[2:])})
    assert changed.status_code == 302
    assert stored(app, vote) == (code, {vote.projects[2].id, vote.projects[3].id})
    page = client.get(ballot_url(vote), headers=ENGLISH).get_data(as_text=True)
    assert code in page
    assert checked_boxes(page) == set(ids(*vote.projects[2:]))


def test_the_receipt_names_the_planned_end_of_voting(client, auth, factory):
    vote = budget_vote(factory, voting_ends_on=date(2031, 5, 31))
    factory.ballot(vote.consultation, vote.citizen, vote.projects[:1])
    auth.login(vote.citizen.email)
    page = client.get(ballot_url(vote), headers=ENGLISH).get_data(as_text=True)
    assert "you can change it until voting closes, planned: May 31, 2031." in page


def test_a_hidden_project_sent_anyway_is_refused(app, client, auth, factory, vote):
    hidden = factory.proposal(
        vote.consultation, factory.user(), estimated_cost=10, state=ProposalState.HIDDEN
    )
    auth.login(vote.citizen.email)
    response = client.post(
        ballot_url(vote), data={"projects": ids(vote.projects[0], hidden)}, headers=ENGLISH
    )
    assert response.status_code == 422
    assert "is not on this ballot" in response.get_data(as_text=True)
    assert str(hidden.id) not in CHECKBOX.findall(response.get_data(as_text=True))
    assert ballot_rows(app) == (0, 0)


@pytest.mark.parametrize("phase", [Phase.COLLECTING, Phase.EVALUATING])
def test_outside_voting_the_page_explains_and_shows_the_ballot_read_only(
    app, client, auth, factory, phase
):
    vote = budget_vote(factory, phase)
    ballot = factory.ballot(vote.consultation, vote.citizen, vote.projects[:1])
    auth.login(vote.citizen.email)
    response = client.get(ballot_url(vote), headers=ENGLISH)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert ("has not opened yet" if phase is Phase.COLLECTING else "Voting has closed") in html
    assert CHECKBOX.findall(html) == []
    assert ballot.code in html
    assert "Project 300" in html

    refused = client.post(ballot_url(vote), data={"projects": ids(vote.projects[1])})
    assert refused.status_code == 409
    assert stored(app, vote) == (ballot.code, {vote.projects[0].id})


def test_checking_outside_voting_is_refused_too(app, client, auth, factory):
    vote = budget_vote(factory, Phase.EVALUATING)
    auth.login(vote.citizen.email)
    response = client.post(
        ballot_url(vote), data={"projects": ids(vote.projects[0]), "action": "check"}
    )
    assert response.status_code == 409
    assert ballot_rows(app) == (0, 0)


def test_a_ballot_without_the_csrf_token_is_refused(app, csrf_app, csrf_client, vote):
    login_with_csrf(csrf_client, vote.citizen.email)
    response = csrf_client.post(ballot_url(vote), data={"projects": ids(vote.projects[0])})
    assert response.status_code == 400
    assert ballot_rows(app) == (0, 0)
    token = csrf_token_from(csrf_client.get(ballot_url(vote)).get_data(as_text=True))
    response = csrf_client.post(
        ballot_url(vote), data={"projects": ids(vote.projects[0]), "csrf_token": token}
    )
    assert response.status_code == 302
    assert ballot_rows(app) == (1, 1)


# The consultation page and the moderators' form


def test_the_consultation_page_announces_the_rule_before_voting(client, factory):
    vote = budget_vote(
        factory,
        Phase.COLLECTING,
        tally_rule=TallyRule.EQUAL_SHARES,
        min_approvals=20,
        ballot_max_share=30,
        ballot_min_projects=2,
        ballot_max_projects=5,
    )
    html = client.get(f"/consultations/{vote.consultation.slug}", headers=ENGLISH).get_data(
        as_text=True
    )
    assert "How the budget is decided" in html
    assert "Counting rule: Method of Equal Shares" in html
    assert "The budget is split into equal shares" in html
    assert "A project must be chosen on at least 20 ballots to be funded." in html
    assert "Each ballot may use up to €300, that is 30 % of the budget." in html
    assert "Choose between 2 and 5 projects." in html
    assert "Fill in your ballot" not in html


def test_the_consultation_page_links_to_the_ballot_while_voting(client, vote):
    html = client.get(f"/consultations/{vote.consultation.slug}", headers=ENGLISH).get_data(
        as_text=True
    )
    assert f'href="{ballot_url(vote)}">Fill in your ballot</a>' in html
    assert "Counting rule: Greedy (most approvals first)" in html
    assert "The projects chosen on the most ballots are funded first." in html


def consultation_form(**overrides) -> dict:
    data = {
        "title": "Participatory budget 2031",
        "voting_method": "budget",
        "budget": "80000",
        "ballot_min_projects": "",
        "ballot_max_projects": "",
        "ballot_max_share": "",
        "tally_rule": "greedy",
        "min_approvals": "",
    }
    return data | overrides


def test_moderators_set_the_ballot_through_the_form(app, client, auth, factory):
    auth.login(factory.moderator().email)
    form = client.get("/consultations/new", headers=ENGLISH).get_data(as_text=True)
    assert '<option value="equal_shares_greedy">' in form
    response = client.post(
        "/consultations/new",
        data=consultation_form(
            ballot_min_projects="1",
            ballot_max_projects="4",
            ballot_max_share="25",
            tally_rule="equal_shares_greedy",
            min_approvals="15",
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        created = db.session.scalar(select(Consultation))
        assert (
            created.ballot_min_projects,
            created.ballot_max_projects,
            created.ballot_max_share,
            created.tally_rule,
            created.min_approvals,
        ) == (1, 4, 25, TallyRule.EQUAL_SHARES_GREEDY, 15)
    edit = client.get(f"/consultations/{created.slug}/edit").get_data(as_text=True)
    assert '<option selected value="equal_shares_greedy">' in edit
    assert re.search(r'name="ballot_max_share"[^>]*value="25"', edit)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ballot_max_projects", "1001", "Please enter a number between 1 and 1000."),
        ("ballot_max_share", "101", "Please enter a percentage between 1 and 100."),
        ("tally_rule", "ranking", "Not a valid choice"),
    ],
)
def test_the_form_refuses_settings_out_of_range(app, client, auth, factory, field, value, message):
    auth.login(factory.moderator().email)
    response = client.post(
        "/consultations/new", data=consultation_form(**{field: value}), headers=ENGLISH
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Consultation)) == 0


def test_the_form_refuses_to_change_the_rule_once_voting_opened(app, client, auth, factory, vote):
    auth.login(factory.moderator().email)
    response = client.post(
        f"/consultations/{vote.consultation.slug}/edit",
        data=consultation_form(
            title=vote.consultation.title, budget="1000", tally_rule="equal_shares"
        ),
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert "announced before voting opens and stay as announced" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Consultation, vote.consultation.id).tally_rule is TallyRule.GREEDY
