"""The results page of a budget consultation: counting, overrides, the chart and the table, the
comparison with the other rule, and promoting the funded projects."""

from __future__ import annotations

import re

import pytest

from participation.extensions import db
from participation.models import (
    AuditEvent,
    Consultation,
    Initiative,
    Phase,
    Tally,
    TallyEntry,
)
from tests.budget_data import majority_and_minority_election
from tests.conftest import csrf_token_from, login_with_csrf

ENGLISH = {"Accept-Language": "en"}
REASON = "The two playgrounds cannot be built on the same site."


@pytest.fixture
def election(factory):
    """Budget 120, A, B, C cost 60 each; 3 voters approve A and B, 1 only A, 2 only C.
    Equal shares funds A and C, greedy A and B (see tests/budget_data.py)."""
    return majority_and_minority_election(factory)


def url(consultation, rest: str = "") -> str:
    return f"/consultations/{consultation.slug}/results{rest}"


def compute(client, consultation, **options):
    return client.post(url(consultation, "/budget/compute"), **options)


def override(client, consultation, proposal, fund: str, reason: str = REASON, **options):
    return client.post(
        url(consultation, f"/budget/projects/{proposal.id}/override"),
        data={"fund": fund, "reason": reason},
        **options,
    )


def close(client, consultation, **options):
    return client.post(
        f"/consultations/{consultation.slug}/phase",
        data={"to_phase": "closed", "confirmed": "yes"},
        **options,
    )


def page(client, consultation) -> str:
    return client.get(url(consultation), headers=ENGLISH).get_data(as_text=True)


def row_of(html: str, proposal) -> str:
    match = re.search(rf'<tr[^>]* id="project-{proposal.id}".*?</tr>', html, re.S)
    assert match, f"no row for proposal {proposal.id}"
    return match.group(0)


def entries(app, consultation) -> dict[int, TallyEntry]:
    with app.app_context():
        rows = db.session.scalars(
            db.select(TallyEntry).join(Tally).where(Tally.consultation_id == consultation.id)
        ).all()
        return {entry.proposal_id: entry for entry in rows}


@pytest.fixture
def moderator_client(client, auth, factory):
    auth.login(factory.moderator().email)
    return client


@pytest.fixture
def published(election, moderator_client):
    """Counted, one project funded against the rule, then closed (results published)."""
    consultation, projects = election
    compute(moderator_client, consultation)
    override(moderator_client, consultation, projects["B"], "1")
    close(moderator_client, consultation)
    moderator_client.post("/account/logout")
    return consultation, projects


# Who sees the page


def test_visitors_see_no_results_before_publication(client, election):
    consultation, _ = election
    assert client.get(url(consultation)).status_code == 404


def test_moderators_see_a_preview_with_the_compute_button(moderator_client, election):
    consultation, _ = election
    html = page(moderator_client, consultation)
    assert "Preview for moderators." in html
    assert "The ballots have not been counted yet." in html
    assert f'action="/consultations/{consultation.slug}/results/budget/compute"' in html


def test_published_results_are_public_with_table_and_chart(client, published):
    consultation, projects = published
    html = page(client, consultation)
    assert "Preview for moderators." not in html
    assert re.search(r'class="budget-chart" role="img" aria-labelledby="budget-chart-title', html)
    assert 'id="budget-chart-title"' in html and 'id="budget-chart-desc"' in html
    assert "<caption>" in html
    assert all(f'id="project-{p.id}"' in html for p in projects.values())


def test_the_page_uses_no_inline_style(client, published):
    """The Content-Security-Policy forbids inline styles: the chart uses SVG attributes."""
    consultation, _ = published
    assert "style=" not in page(client, consultation)


# Counting


def test_moderator_computes_the_result(app, moderator_client, election):
    consultation, projects = election
    response = compute(moderator_client, consultation)
    assert response.status_code == 302
    funded = {pid for pid, entry in entries(app, consultation).items() if entry.funded_by_rule}
    assert funded == {projects["A"].id, projects["C"].id}


def test_the_table_shows_costs_approvals_and_the_share_per_supporter(moderator_client, election):
    consultation, projects = election
    compute(moderator_client, consultation)
    html = page(moderator_client, consultation)
    assert "Paid per supporter (at most)" in html
    a_row = row_of(html, projects["A"])
    assert "€60" in a_row and ">4<" in a_row


def test_citizens_cannot_compute(app, client, auth, factory, election):
    consultation, _ = election
    auth.login(factory.user().email)
    assert compute(client, consultation).status_code == 403
    assert entries(app, consultation) == {}


def test_compute_without_csrf_token_is_refused(app, csrf_client, factory, election):
    consultation, _ = election
    login_with_csrf(csrf_client, factory.moderator().email)
    assert compute(csrf_client, consultation).status_code == 400
    assert entries(app, consultation) == {}


def test_compute_with_the_token_from_the_page_works(app, csrf_client, factory, election):
    consultation, _ = election
    login_with_csrf(csrf_client, factory.moderator().email)
    token = csrf_token_from(csrf_client.get(url(consultation)).get_data(as_text=True))
    response = compute(csrf_client, consultation, data={"csrf_token": token})
    assert response.status_code == 302
    assert len(entries(app, consultation)) == 3


# Overrides


def test_an_override_without_a_reason_is_refused_with_422(app, moderator_client, election):
    consultation, projects = election
    compute(moderator_client, consultation)
    response = override(moderator_client, consultation, projects["B"], "1", "", headers=ENGLISH)
    assert response.status_code == 422
    assert "Please give the public reason for the override." in response.get_data(as_text=True)
    assert entries(app, consultation)[projects["B"].id].override is None


def test_an_override_is_shown_next_to_the_rules_outcome(client, published):
    consultation, projects = published
    b_row = row_of(page(client, consultation), projects["B"])
    assert "Funded by the moderators" in b_row
    assert REASON in b_row
    assert "not funded" in b_row  # the rule's own outcome stays visible


def test_an_override_over_the_budget_shows_the_overshoot(client, published):
    consultation, _ = published
    html = page(client, consultation)
    assert "The funded projects exceed the budget by €60." in html


def test_an_override_is_in_the_audit_log(app, moderator_client, election):
    consultation, projects = election
    compute(moderator_client, consultation)
    override(moderator_client, consultation, projects["C"], "0")
    with app.app_context():
        event = db.session.scalars(
            db.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)
        ).one()
        assert (event.action, event.details["reason"]) == ("results.overridden", REASON)
    html = moderator_client.get(
        f"/consultations/{consultation.slug}/audit", headers=ENGLISH
    ).get_data(as_text=True)
    assert f"Reason: {REASON}" in html


def test_removing_an_override(app, moderator_client, election):
    consultation, projects = election
    compute(moderator_client, consultation)
    override(moderator_client, consultation, projects["C"], "0")
    response = moderator_client.post(
        url(consultation, f"/budget/projects/{projects['C'].id}/override/clear")
    )
    assert response.status_code == 302
    assert entries(app, consultation)[projects["C"].id].override is None


def test_citizens_cannot_override(app, client, auth, factory, election):
    consultation, projects = election
    auth.login(factory.user().email)
    assert override(client, consultation, projects["B"], "1").status_code == 403


def test_recompute_warns_that_overrides_are_cleared(moderator_client, election):
    consultation, projects = election
    compute(moderator_client, consultation)
    override(moderator_client, consultation, projects["B"], "1")
    html = page(moderator_client, consultation)
    assert "It also removes the 1 override made since." in html


# The comparison


def test_the_page_shows_what_the_other_rule_would_have_funded(client, published):
    consultation, _ = published
    html = page(client, consultation)
    section = html[html.index("What the other rule would have funded") :]
    equal_shares, greedy = section.split('class="col-md-6', 2)[1:]
    assert "Project C" in equal_shares and "Project B" not in equal_shares
    assert "Project B" in greedy and "Project C" not in greedy


# Closing and promoting


def test_closing_with_uncounted_ballots_says_compute_first(app, moderator_client, election):
    consultation, _ = election
    response = close(moderator_client, consultation, headers=ENGLISH, follow_redirects=True)
    assert "Please compute the result first" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Consultation, consultation.id).phase is Phase.EVALUATING


def test_moderators_promote_all_funded_projects(app, client, auth, factory, published):
    consultation, projects = published
    auth.login(factory.moderator().email)
    assert "Promote all funded projects to initiatives" in page(client, consultation)
    response = client.post(url(consultation, "/budget/promote"), data={"responsible_body": ""})
    assert response.status_code == 302
    with app.app_context():
        budgets = {
            i.proposal_id: i.allocated_budget for i in db.session.scalars(db.select(Initiative))
        }
    assert budgets == {projects[name].id: 60 for name in "ABC"}


def test_promoting_twice_creates_no_duplicates(app, client, auth, factory, published):
    consultation, _ = published
    auth.login(factory.moderator().email)
    client.post(url(consultation, "/budget/promote"))
    response = client.post(url(consultation, "/budget/promote"), headers=ENGLISH)
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Initiative)) == 3


def test_citizens_cannot_promote_funded_projects(app, client, auth, factory, published):
    consultation, _ = published
    auth.login(factory.user().email)
    assert client.post(url(consultation, "/budget/promote")).status_code == 403


def test_a_funded_projects_page_says_it_is_funded(client, published):
    _, projects = published
    funded = client.get(f"/proposals/{projects['C'].id}", headers=ENGLISH).get_data(as_text=True)
    assert "Funded by the participatory budget" in funded


def test_the_rule_is_explained_in_plain_words(client, published):
    consultation, _ = published
    assert "The budget is split into equal shares" in page(client, consultation)
