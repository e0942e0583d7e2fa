"""The results page: hidden until published, a preview and winner selection for moderators."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from participation.extensions import db
from participation.models import AuditEvent, Consultation, Phase, Proposal, VotingMethod
from tests.conftest import START, csrf_token_from, login_with_csrf

ENGLISH = {"Accept-Language": "en"}
PUBLISHED = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
RANKED_ROW = re.compile(r'<tr[^>]* id="rank-(\d+)"')


def selected_ids(app, consultation) -> set[int]:
    with app.app_context():
        return set(
            db.session.scalars(
                db.select(Proposal.id).where(
                    Proposal.consultation_id == consultation.id, Proposal.selected.is_(True)
                )
            )
        )


def audit_actions(app, consultation) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                db.select(AuditEvent.action).where(AuditEvent.consultation_id == consultation.id)
            )
        )


def consultation_with(factory, supports: list[int], **fields):
    """A consultation (evaluating unless told) and its proposals' ids in submission order."""
    fields.setdefault("phase", Phase.EVALUATING)
    consultation = factory.consultation(**fields)
    author = factory.user()
    ids = [
        factory.proposal(
            consultation,
            author,
            support_count=count,
            created_at=START + timedelta(minutes=minute),
            estimated_cost=fields.get("budget") and 100,
        ).id
        for minute, count in enumerate(supports)
    ]
    return consultation, ids


def results_url(consultation) -> str:
    return f"/consultations/{consultation.slug}/results"


def choose(client, consultation, rule: str, value: str = "", **options):
    return client.post(
        f"{results_url(consultation)}/winners", data={"rule": rule, "value": value}, **options
    )


REASON = "The council asked for the school route to be part of it."


def set_selection(
    client, consultation, proposal_id: int, selected: str, reason: str = REASON, **options
):
    return client.post(
        f"{results_url(consultation)}/proposals/{proposal_id}/selection",
        data={"selected": selected, "reason": reason},
        **options,
    )


# Who sees the page


def test_results_before_publication_are_404_for_visitors(client, factory):
    consultation, _ = consultation_with(factory, [3, 1])
    assert client.get(results_url(consultation)).status_code == 404


def test_results_before_publication_are_404_for_citizens(client, auth, factory):
    consultation, _ = consultation_with(factory, [3, 1])
    auth.login(factory.user().email)
    assert client.get(results_url(consultation)).status_code == 404


def test_moderators_see_a_preview_while_evaluating(client, auth, factory):
    consultation, _ = consultation_with(factory, [3, 1])
    auth.login(factory.moderator().email)
    response = client.get(results_url(consultation), headers=ENGLISH)
    assert response.status_code == 200
    assert "Preview for moderators." in response.get_data(as_text=True)


def test_results_of_a_draft_are_404_even_when_marked_published(client, factory):
    consultation, _ = consultation_with(
        factory, [1], phase=Phase.DRAFT, results_published_at=PUBLISHED
    )
    assert client.get(results_url(consultation)).status_code == 404


def test_published_results_show_the_ranking_to_visitors(client, factory):
    consultation, (low, high, middle) = consultation_with(
        factory, [1, 9, 4], phase=Phase.CLOSED, results_published_at=PUBLISHED
    )
    response = client.get(results_url(consultation))
    assert response.status_code == 200
    assert [int(i) for i in RANKED_ROW.findall(response.get_data(as_text=True))] == [
        high,
        middle,
        low,
    ]


def test_published_results_mark_the_winners_in_words(app, client, factory):
    consultation, (winner, other) = consultation_with(
        factory, [9, 1], phase=Phase.CLOSED, results_published_at=PUBLISHED
    )
    with app.app_context():
        db.session.get(Proposal, winner).selected = True
        db.session.commit()
    html = client.get(results_url(consultation), headers=ENGLISH).get_data(as_text=True)
    winner_row = html.split(f'id="rank-{winner}"')[1].split("</tr>")[0]
    other_row = html.split(f'id="rank-{other}"')[1].split("</tr>")[0]
    assert "Winner" in winner_row
    assert "Winner" not in other_row


def test_a_budget_consultation_shows_its_budget_result_instead_of_a_ranking(client, factory):
    consultation, _ = consultation_with(
        factory,
        [9, 1],
        phase=Phase.CLOSED,
        results_published_at=PUBLISHED,
        voting_method=VotingMethod.BUDGET,
        budget=1_000,
    )
    html = client.get(results_url(consultation), headers=ENGLISH).get_data(as_text=True)
    assert "How the budget is distributed" in html
    assert RANKED_ROW.findall(html) == []


def test_the_consultation_page_links_to_published_results(client, factory):
    consultation, _ = consultation_with(
        factory, [1], phase=Phase.CLOSED, results_published_at=PUBLISHED
    )
    html = client.get(f"/consultations/{consultation.slug}").get_data(as_text=True)
    assert f'href="{results_url(consultation)}"' in html


def test_the_consultation_page_has_no_results_link_for_citizens_before_publication(
    client, auth, factory
):
    consultation, _ = consultation_with(factory, [1])
    auth.login(factory.user().email)
    html = client.get(f"/consultations/{consultation.slug}").get_data(as_text=True)
    assert results_url(consultation) not in html


def test_the_moderator_panel_links_to_the_winner_selection(client, auth, factory):
    consultation, _ = consultation_with(factory, [1])
    auth.login(factory.moderator().email)
    html = client.get(f"/consultations/{consultation.slug}").get_data(as_text=True)
    assert f'href="{results_url(consultation)}"' in html


def test_closing_through_the_phase_form_makes_the_results_public(app, client, auth, factory):
    consultation, _ = consultation_with(factory, [1])
    auth.login(factory.moderator().email)
    client.post(
        f"/consultations/{consultation.slug}/phase",
        data={"to_phase": "closed", "confirmed": "yes"},
    )
    auth.logout()
    assert client.get(results_url(consultation)).status_code == 200
    with app.app_context():
        assert db.session.get(Consultation, consultation.id).results_published_at is not None


# Choosing the winners


def test_moderator_chooses_the_top_n(app, client, auth, factory):
    consultation, (_low, high, middle) = consultation_with(factory, [1, 9, 4])
    auth.login(factory.moderator().email)
    response = choose(client, consultation, "top_n", "2")
    assert response.status_code == 302
    assert response.headers["Location"] == results_url(consultation)
    assert selected_ids(app, consultation) == {high, middle}
    assert audit_actions(app, consultation) == ["results.winners_selected"]


def test_the_chosen_winners_are_shown_in_the_preview(client, auth, factory):
    consultation, (_low, high) = consultation_with(factory, [1, 9])
    auth.login(factory.moderator().email)
    html = choose(
        client, consultation, "threshold", "5", headers=ENGLISH, follow_redirects=True
    ).get_data(as_text=True)
    assert "1 proposal was chosen." in html
    assert "Winner" in html.split(f'id="rank-{high}"')[1].split("</tr>")[0]


def test_a_rule_without_its_number_is_shown_next_to_the_field(app, client, auth, factory):
    consultation, _ = consultation_with(factory, [1, 9])
    auth.login(factory.moderator().email)
    response = choose(client, consultation, "top_n", "", headers=ENGLISH)
    assert response.status_code == 422
    assert 'id="value-error"' in response.get_data(as_text=True)
    assert selected_ids(app, consultation) == set()


def test_a_negative_number_is_refused_with_422(app, client, auth, factory):
    consultation, _ = consultation_with(factory, [1, 9])
    auth.login(factory.moderator().email)
    response = choose(client, consultation, "threshold", "-3")
    assert response.status_code == 422
    assert selected_ids(app, consultation) == set()


def test_the_budget_rule_is_not_offered_without_a_budget(app, client, auth, factory):
    consultation, _ = consultation_with(factory, [1, 9])
    auth.login(factory.moderator().email)
    html = client.get(results_url(consultation)).get_data(as_text=True)
    assert 'value="budget_greedy"' not in html
    assert choose(client, consultation, "budget_greedy").status_code == 422
    assert selected_ids(app, consultation) == set()


def test_choosing_winners_after_closing_is_refused_with_a_message(app, client, auth, factory):
    consultation, _ = consultation_with(factory, [1, 9], phase=Phase.CLOSED)
    auth.login(factory.moderator().email)
    response = choose(client, consultation, "top_n", "1", headers=ENGLISH, follow_redirects=True)
    assert "only be chosen while the consultation is being evaluated" in response.get_data(
        as_text=True
    )
    assert selected_ids(app, consultation) == set()


def test_citizens_get_403_when_choosing_winners(app, client, auth, factory):
    consultation, _ = consultation_with(factory, [1, 9])
    auth.login(factory.user().email)
    assert choose(client, consultation, "top_n", "1").status_code == 403
    assert selected_ids(app, consultation) == set()


def test_visitors_choosing_winners_are_sent_to_log_in(app, client, factory):
    consultation, _ = consultation_with(factory, [1, 9])
    response = choose(client, consultation, "top_n", "1")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")
    assert selected_ids(app, consultation) == set()


def test_citizens_see_no_selection_form_on_published_results(client, auth, factory):
    consultation, _ = consultation_with(
        factory, [1], phase=Phase.CLOSED, results_published_at=PUBLISHED
    )
    auth.login(factory.user().email)
    html = client.get(results_url(consultation)).get_data(as_text=True)
    assert "/winners" not in html
    assert "/selection" not in html


# Changing single proposals by hand


def test_moderator_marks_a_single_proposal_as_winner(app, client, auth, factory):
    consultation, (low, _) = consultation_with(factory, [1, 9])
    auth.login(factory.moderator().email)
    response = set_selection(client, consultation, low, "1")
    assert response.status_code == 302
    assert selected_ids(app, consultation) == {low}
    assert audit_actions(app, consultation) == ["results.selection_changed"]


def test_moderator_takes_a_proposal_out_of_the_winners(app, client, auth, factory):
    consultation, (low, high) = consultation_with(factory, [1, 9])
    auth.login(factory.moderator().email)
    choose(client, consultation, "top_n", "2")
    set_selection(client, consultation, high, "0")
    assert selected_ids(app, consultation) == {low}


def test_a_change_by_hand_without_a_reason_is_422_next_to_the_field(app, client, auth, factory):
    consultation, (low, _) = consultation_with(factory, [1, 9])
    auth.login(factory.moderator().email)
    response = set_selection(client, consultation, low, "1", reason="", headers=ENGLISH)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="selection-reason-{low}-error"' in html
    assert selected_ids(app, consultation) == set()


def test_the_results_page_shows_which_proposal_was_changed_by_hand_and_why(client, auth, factory):
    consultation, (low, _) = consultation_with(factory, [1, 9])
    auth.login(factory.moderator().email)
    choose(client, consultation, "top_n", "1")
    set_selection(client, consultation, low, "1")
    client.post(
        f"/consultations/{consultation.slug}/phase", data={"to_phase": "closed", "confirmed": "yes"}
    )
    auth.logout()
    html = client.get(results_url(consultation), headers=ENGLISH).get_data(as_text=True)
    row = html.split(f'id="rank-{low}"')[1].split("</tr>")[0]
    assert ("Winner by the moderators' decision" in row, f"Reason: {REASON}" in row) == (
        True,
        True,
    )
    assert "made a winner although the rule did not choose it" in html


def test_the_toggle_says_what_it_does(client, auth, factory):
    consultation, (low, high) = consultation_with(factory, [1, 9])
    auth.login(factory.moderator().email)
    choose(client, consultation, "top_n", "1")
    html = client.get(results_url(consultation), headers=ENGLISH).get_data(as_text=True)
    assert "Remove from winners" in html.split(f'id="rank-{high}"')[1].split("</tr>")[0]
    assert "Mark as winner" in html.split(f'id="rank-{low}"')[1].split("</tr>")[0]


def test_a_proposal_of_another_consultation_cannot_be_toggled_here(app, client, auth, factory):
    consultation, _ = consultation_with(factory, [1])
    elsewhere, (foreign,) = consultation_with(factory, [1])
    auth.login(factory.moderator().email)
    assert set_selection(client, consultation, foreign, "1").status_code == 404
    assert selected_ids(app, elsewhere) == set()


def test_citizens_get_403_when_toggling(app, client, auth, factory):
    consultation, (only,) = consultation_with(factory, [1])
    auth.login(factory.user().email)
    assert set_selection(client, consultation, only, "1").status_code == 403
    assert selected_ids(app, consultation) == set()


# CSRF


def test_winner_form_without_csrf_token_is_refused(app, csrf_client, factory):
    consultation, _ = consultation_with(factory, [1, 9])
    login_with_csrf(csrf_client, factory.moderator().email)
    assert choose(csrf_client, consultation, "top_n", "1").status_code == 400
    assert selected_ids(app, consultation) == set()


def test_winner_form_with_the_token_from_the_page_works(app, csrf_client, factory):
    consultation, (_, high) = consultation_with(factory, [1, 9])
    login_with_csrf(csrf_client, factory.moderator().email)
    token = csrf_token_from(csrf_client.get(results_url(consultation)).get_data(as_text=True))
    response = csrf_client.post(
        f"{results_url(consultation)}/winners",
        data={"rule": "top_n", "value": "1", "csrf_token": token},
    )
    assert response.status_code == 302
    assert selected_ids(app, consultation) == {high}


def test_toggle_without_csrf_token_is_refused(app, csrf_client, factory):
    consultation, (only,) = consultation_with(factory, [1])
    login_with_csrf(csrf_client, factory.moderator().email)
    assert set_selection(csrf_client, consultation, only, "1").status_code == 400
    assert selected_ids(app, consultation) == set()
