"""Moderation through HTTP: reporting, the queue, hiding and restoring, dismissing, the audit
log, and blocking accounts."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from participation.extensions import db
from participation.models import (
    Comment,
    CommentState,
    Phase,
    Proposal,
    ProposalState,
    Report,
    ReportReason,
    ReportState,
    User,
)
from tests.conftest import csrf_token_from, login_with_csrf

ENGLISH = {"Accept-Language": "en"}
PROPOSAL_LINK = re.compile(r'<h3 class="h5 card-title"><a href="/proposals/(\d+)">')


def stored(app, model, instance):
    with app.app_context():
        return db.session.get(model, instance.id)


def stored_reports(app) -> list[Report]:
    with app.app_context():
        return list(db.session.scalars(db.select(Report).order_by(Report.id)))


def listed_ids(client, consultation, **params) -> list[int]:
    response = client.get(f"/consultations/{consultation.slug}", query_string=params)
    assert response.status_code == 200
    return [int(found) for found in PROPOSAL_LINK.findall(response.get_data(as_text=True))]


@pytest.fixture
def scene(factory):
    """A collecting consultation; a citizen's published proposal with one counted comment."""
    consultation = factory.consultation(phase=Phase.COLLECTING)
    author = factory.user()
    proposal = factory.proposal(consultation, author, title="Benches", comment_count=1)
    comment = factory.comment(proposal, author, body="Buy my watches!")
    return consultation, author, proposal, comment


def hide(client, proposal, reason="Advertising, not a proposal", **data):
    return client.post(f"/moderation/proposals/{proposal.id}/hide", data={"reason": reason, **data})


# Reporting


def test_report_link_is_the_named_url(app, scene):
    _, _, proposal, comment = scene
    with app.test_request_context():
        assert (
            url_for("moderation.report_proposal", proposal_id=proposal.id),
            url_for("moderation.report_comment", comment_id=comment.id),
        ) == (f"/proposals/{proposal.id}/report", f"/comments/{comment.id}/report")


@pytest.mark.parametrize("subject", ["proposal", "comment"])
def test_visitor_is_sent_to_login_with_next(client, scene, subject):
    _, _, proposal, comment = scene
    path = (
        f"/proposals/{proposal.id}/report"
        if subject == "proposal"
        else (f"/comments/{comment.id}/report")
    )
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/account/login?next={path.replace('/', '%2F')}"


def test_citizen_sees_the_report_form_with_the_reasons(client, auth, scene, factory):
    _, _, proposal, _ = scene
    auth.login(factory.user().email)
    html = client.get(f"/proposals/{proposal.id}/report", headers=ENGLISH).get_data(as_text=True)
    assert [value for value in re.findall(r'name="reason"[^>]*value="(\w+)"', html)] == [
        "spam",
        "offensive",
        "off_topic",
        "other",
    ]


def test_citizen_reports_a_proposal(app, client, auth, scene, factory):
    _, _, proposal, _ = scene
    reporter = factory.user()
    auth.login(reporter.email)
    response = client.post(
        f"/proposals/{proposal.id}/report", data={"reason": "offensive", "text": ""}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposals/{proposal.id}"
    [report] = stored_reports(app)
    assert (report.reporter_id, report.proposal_id, report.reason) == (
        reporter.id,
        proposal.id,
        ReportReason.OFFENSIVE,
    )


def test_citizen_reports_a_comment_and_returns_to_it(app, client, auth, scene, factory):
    _, _, proposal, comment = scene
    auth.login(factory.user().email)
    response = client.post(f"/comments/{comment.id}/report", data={"reason": "spam"})
    assert response.headers["Location"] == f"/proposals/{proposal.id}#comment-{comment.id}"
    assert [report.comment_id for report in stored_reports(app)] == [comment.id]


def test_comment_report_form_quotes_the_comment(client, auth, scene, factory):
    _, _, _, comment = scene
    auth.login(factory.user().email)
    response = client.get(f"/comments/{comment.id}/report", headers=ENGLISH)
    assert response.status_code == 200
    assert "<blockquote" in response.get_data(as_text=True)
    assert "Buy my watches!</blockquote>" in response.get_data(as_text=True)


def test_second_report_is_refused_with_a_message(app, client, auth, scene, factory):
    _, _, proposal, _ = scene
    auth.login(factory.user().email)
    client.post(f"/proposals/{proposal.id}/report", data={"reason": "spam"})
    response = client.post(
        f"/proposals/{proposal.id}/report",
        data={"reason": "other", "text": "Again"},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "already reported this proposal" in response.get_data(as_text=True)
    assert [(r.reason, r.text) for r in stored_reports(app)] == [(ReportReason.SPAM, "")]


def test_reason_other_without_text_is_422_next_to_the_field(app, client, auth, scene, factory):
    _, _, proposal, _ = scene
    auth.login(factory.user().email)
    response = client.post(
        f"/proposals/{proposal.id}/report", data={"reason": "other", "text": " "}, headers=ENGLISH
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="text-error"' in html
    assert "Please tell the moderators what is wrong." in html
    assert stored_reports(app) == []


def test_report_without_reason_is_422(app, client, auth, scene, factory):
    _, _, proposal, _ = scene
    auth.login(factory.user().email)
    response = client.post(f"/proposals/{proposal.id}/report", data={"text": "Bad"})
    assert response.status_code == 422
    assert stored_reports(app) == []


def test_citizen_sees_the_report_link_and_the_author_does_not(client, auth, scene, factory):
    _, author, proposal, _ = scene
    link = f'href="/proposals/{proposal.id}/report"'
    auth.login(factory.user().email)
    shown_to_citizen = link in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    auth.logout()
    auth.login(author.email)
    shown_to_author = link in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert (shown_to_citizen, shown_to_author) == (True, False)


def test_report_form_without_csrf_token_is_refused(app, csrf_client, scene, factory):
    _, _, proposal, _ = scene
    login_with_csrf(csrf_client, factory.user().email)
    response = csrf_client.post(f"/proposals/{proposal.id}/report", data={"reason": "spam"})
    assert response.status_code == 400
    assert stored_reports(app) == []


def test_report_form_with_the_token_from_the_page_is_accepted(app, csrf_client, scene, factory):
    _, _, proposal, _ = scene
    login_with_csrf(csrf_client, factory.user().email)
    url = f"/proposals/{proposal.id}/report"
    token = csrf_token_from(csrf_client.get(url).get_data(as_text=True))
    response = csrf_client.post(url, data={"reason": "spam", "csrf_token": token})
    assert response.status_code == 302
    assert len(stored_reports(app)) == 1


# The queue


def test_moderator_sees_open_reports_grouped_with_their_count(client, auth, scene, factory):
    _, _, proposal, _ = scene
    for reason in (ReportReason.SPAM, ReportReason.OFFENSIVE):
        factory.report(factory.user(), proposal=proposal, reason=reason, text="Look at it")
    auth.login(factory.moderator().email)
    html = client.get("/moderation/reports", headers=ENGLISH).get_data(as_text=True)
    assert f'<a href="/proposals/{proposal.id}">Benches</a>' in html
    assert "2 reports" in html
    assert html.count("<q>Look at it</q>") == 2


def test_queue_leaves_out_dismissed_reports(client, auth, scene, factory):
    _, _, proposal, _ = scene
    factory.report(factory.user(), proposal=proposal, state=ReportState.DISMISSED)
    auth.login(factory.moderator().email)
    html = client.get("/moderation/reports", headers=ENGLISH).get_data(as_text=True)
    assert "No open reports" in html


def test_queue_is_403_for_citizens(client, auth, factory):
    auth.login(factory.user().email)
    assert client.get("/moderation/reports").status_code == 403


def test_queue_sends_visitors_to_login(client):
    response = client.get("/moderation/reports")
    assert response.headers["Location"] == "/account/login?next=%2Fmoderation%2Freports"


def test_consultation_panel_links_the_queue_with_the_count(client, auth, scene, factory):
    consultation, _, proposal, comment = scene
    factory.report(factory.user(), proposal=proposal)
    factory.report(factory.user(), comment=comment)
    auth.login(factory.moderator().email)
    html = client.get(f"/consultations/{consultation.slug}", headers=ENGLISH).get_data(as_text=True)
    assert re.search(
        rf'href="/moderation/reports\?consultation={consultation.slug}">2 open reports</a>', html
    )


def test_queue_of_one_consultation_leaves_out_the_others(client, auth, scene, factory):
    consultation, _, proposal, _ = scene
    elsewhere = factory.proposal(factory.consultation(), factory.user(), title="Elsewhere")
    factory.report(factory.user(), proposal=proposal)
    factory.report(factory.user(), proposal=elsewhere)
    auth.login(factory.moderator().email)
    html = client.get(
        "/moderation/reports", query_string={"consultation": consultation.slug}
    ).get_data(as_text=True)
    assert (">Benches</a>" in html, ">Elsewhere</a>" in html) == (True, False)


def test_nav_links_reports_for_moderators_and_users_for_admins(client, auth, factory):
    auth.login(factory.moderator().email)
    moderator_page = client.get("/", headers=ENGLISH).get_data(as_text=True)
    auth.logout()
    auth.login(factory.admin().email)
    admin_page = client.get("/", headers=ENGLISH).get_data(as_text=True)
    assert (
        'href="/moderation/reports"' in moderator_page,
        'href="/moderation/users"' in moderator_page,
        'href="/moderation/users"' in admin_page,
    ) == (True, False, True)


# Hiding and restoring proposals


def test_moderator_hides_a_proposal(app, client, auth, scene, factory):
    _, _, proposal, _ = scene
    auth.login(factory.moderator().email)
    response = hide(client, proposal)
    assert response.status_code == 302
    hidden = stored(app, Proposal, proposal)
    assert (hidden.state, hidden.hidden_reason) == (
        ProposalState.HIDDEN,
        "Advertising, not a proposal",
    )


def test_hidden_proposal_is_gone_from_the_list_and_the_search(client, auth, scene, factory):
    consultation, _, proposal, _ = scene
    auth.login(factory.moderator().email)
    hide(client, proposal)
    auth.logout()
    assert (listed_ids(client, consultation), listed_ids(client, consultation, q="Benches")) == (
        [],
        [],
    )


def test_moderator_sees_the_hidden_proposal_with_the_reason(client, auth, scene, factory):
    _, _, proposal, _ = scene
    auth.login(factory.moderator().email)
    hide(client, proposal)
    response = client.get(f"/proposals/{proposal.id}", headers=ENGLISH)
    assert response.status_code == 200
    assert "Hidden by moderation: Advertising, not a proposal" in response.get_data(as_text=True)


def test_author_still_sees_the_hidden_proposal_with_the_reason(client, auth, scene, factory):
    _, author, proposal, _ = scene
    factory_moderator = factory.moderator()
    auth.login(factory_moderator.email)
    hide(client, proposal)
    auth.logout()
    auth.login(author.email)
    response = client.get(f"/proposals/{proposal.id}", headers=ENGLISH)
    assert "Hidden by moderation: Advertising" in response.get_data(as_text=True)


@pytest.mark.parametrize("viewer", ["visitor", "citizen"])
def test_hidden_proposal_page_is_404_for_others(client, auth, scene, factory, viewer):
    consultation, author, _, _ = scene
    proposal = factory.proposal(consultation, author, state=ProposalState.HIDDEN)
    if viewer == "citizen":
        auth.login(factory.user().email)
    assert client.get(f"/proposals/{proposal.id}").status_code == 404


def test_hiding_without_a_reason_is_422_and_hides_nothing(app, client, auth, scene, factory):
    _, _, proposal, _ = scene
    auth.login(factory.moderator().email)
    response = hide(client, proposal, reason="  ")
    assert response.status_code == 422
    assert 'id="reason-error"' in response.get_data(as_text=True)
    assert stored(app, Proposal, proposal).state is ProposalState.PUBLISHED


def test_citizen_cannot_hide_a_proposal(app, client, auth, scene, factory):
    _, _, proposal, _ = scene
    auth.login(factory.user().email)
    assert hide(client, proposal).status_code == 403
    assert stored(app, Proposal, proposal).state is ProposalState.PUBLISHED


def test_hiding_from_the_queue_goes_back_to_the_queue(app, client, auth, scene, factory):
    _, _, proposal, _ = scene
    factory.report(factory.user(), proposal=proposal)
    auth.login(factory.moderator().email)
    response = hide(client, proposal, next="/moderation/reports?page=1")
    assert response.headers["Location"] == "/moderation/reports?page=1"
    assert [report.state for report in stored_reports(app)] == [ReportState.ACTIONED]


def test_moderator_sees_the_hide_form_on_the_proposal(client, auth, scene, factory):
    _, _, proposal, _ = scene
    auth.login(factory.moderator().email)
    html = client.get(f"/proposals/{proposal.id}", headers=ENGLISH).get_data(as_text=True)
    assert f'action="/moderation/proposals/{proposal.id}/hide"' in html
    assert '<label class="form-label" for="hide-proposal-reason">Public reason</label>' in html


def test_restored_proposal_is_listed_again(client, auth, scene, factory):
    consultation, _, proposal, _ = scene
    auth.login(factory.moderator().email)
    hide(client, proposal)
    response = client.post(f"/moderation/proposals/{proposal.id}/restore")
    assert response.status_code == 302
    auth.logout()
    assert listed_ids(client, consultation) == [proposal.id]


def test_hide_form_without_csrf_token_is_refused(app, csrf_client, scene, factory):
    _, _, proposal, _ = scene
    login_with_csrf(csrf_client, factory.moderator().email)
    assert hide(csrf_client, proposal).status_code == 400
    assert stored(app, Proposal, proposal).state is ProposalState.PUBLISHED


def test_hide_form_with_the_token_from_the_proposal_page_works(app, csrf_client, scene, factory):
    _, _, proposal, _ = scene
    login_with_csrf(csrf_client, factory.moderator().email)
    page = csrf_client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    response = hide(csrf_client, proposal, csrf_token=csrf_token_from(page))
    assert response.status_code == 302
    assert stored(app, Proposal, proposal).state is ProposalState.HIDDEN


def test_hide_page_shows_the_reason_field(client, auth, scene, factory):
    _, _, proposal, _ = scene
    auth.login(factory.moderator().email)
    response = client.get(f"/moderation/proposals/{proposal.id}/hide", headers=ENGLISH)
    assert response.status_code == 200
    assert re.search(
        r'<textarea[^>]*id="reason"[^>]*name="reason"', response.get_data(as_text=True)
    )


# Hiding and restoring comments


def test_hiding_a_comment_takes_it_off_the_count(app, client, auth, scene, factory):
    _, _, proposal, comment = scene
    auth.login(factory.moderator().email)
    response = client.post(f"/moderation/comments/{comment.id}/hide", data={"reason": "Spam"})
    assert response.headers["Location"] == f"/proposals/{proposal.id}#comment-{comment.id}"
    assert (stored(app, Comment, comment).state, stored(app, Proposal, proposal).comment_count) == (
        CommentState.HIDDEN,
        0,
    )


def test_restoring_a_comment_counts_it_again(app, client, auth, scene, factory):
    _, _, proposal, comment = scene
    auth.login(factory.moderator().email)
    client.post(f"/moderation/comments/{comment.id}/hide", data={"reason": "Spam"})
    client.post(f"/moderation/comments/{comment.id}/restore")
    assert (stored(app, Comment, comment).state, stored(app, Proposal, proposal).comment_count) == (
        CommentState.PUBLISHED,
        1,
    )


def test_every_link_to_a_hidden_comment_lands_on_it(client, auth, scene, factory):
    """The audit log's link and the hidden comment's author's notification point at an anchor
    that the proposal page has, for the moderator and for the comment's author alike."""
    consultation, author, _, comment = scene
    auth.login(factory.moderator().email)
    client.post(f"/moderation/comments/{comment.id}/hide", data={"reason": "Rude"})
    audit_page = client.get(f"/consultations/{consultation.slug}/audit").get_data(as_text=True)
    [link] = re.findall(r'href="(/proposals/\d+#comment-\d+)"', audit_page)
    path, anchor = link.split("#")
    landed = {"moderator": client.get(path).get_data(as_text=True)}
    auth.logout()
    auth.login(author.email)
    landed["author"] = client.get(path).get_data(as_text=True)
    assert (anchor, [f'id="{anchor}"' in html for html in landed.values()]) == (
        f"comment-{comment.id}",
        [True, True],
    )


def test_citizen_cannot_hide_a_comment(app, client, auth, scene, factory):
    _, _, proposal, comment = scene
    auth.login(factory.user().email)
    response = client.post(f"/moderation/comments/{comment.id}/hide", data={"reason": "Spam"})
    assert response.status_code == 403
    assert stored(app, Proposal, proposal).comment_count == 1


# Dismissing


def test_dismissing_keeps_the_content(app, client, auth, scene, factory):
    _, _, proposal, _ = scene
    report = factory.report(factory.user(), proposal=proposal)
    auth.login(factory.moderator().email)
    response = client.post(f"/moderation/reports/{report.id}/dismiss")
    assert response.headers["Location"] == "/moderation/reports"
    assert (stored(app, Report, report).state, stored(app, Proposal, proposal).state) == (
        ReportState.DISMISSED,
        ProposalState.PUBLISHED,
    )


def test_citizen_cannot_dismiss(app, client, auth, scene, factory):
    _, _, proposal, _ = scene
    report = factory.report(factory.user(), proposal=proposal)
    auth.login(factory.user().email)
    assert client.post(f"/moderation/reports/{report.id}/dismiss").status_code == 403
    assert stored(app, Report, report).state is ReportState.OPEN


def test_dismiss_with_the_token_from_the_queue_works(app, csrf_client, scene, factory):
    _, _, proposal, _ = scene
    report = factory.report(factory.user(), proposal=proposal)
    login_with_csrf(csrf_client, factory.moderator().email)
    queue = csrf_client.get("/moderation/reports").get_data(as_text=True)
    response = csrf_client.post(
        f"/moderation/reports/{report.id}/dismiss", data={"csrf_token": csrf_token_from(queue)}
    )
    assert response.status_code == 302
    assert stored(app, Report, report).state is ReportState.DISMISSED


# The audit log


def test_audit_log_shows_the_action_the_subject_and_the_reason(client, auth, scene, factory):
    consultation, _, proposal, comment = scene
    moderator = factory.moderator(display_name="Mona Moderator")
    auth.login(moderator.email)
    hide(client, proposal, reason="Advertising")
    client.post(f"/moderation/comments/{comment.id}/hide", data={"reason": "Rude"})
    html = client.get(f"/consultations/{consultation.slug}/audit", headers=ENGLISH).get_data(
        as_text=True
    )
    assert "Proposal hidden" in html
    assert "Comment hidden" in html
    assert f'<a href="/proposals/{proposal.id}">Benches</a>' in html
    assert "Reason: Advertising" in html
    assert "Reason: Rude" in html
    assert "Mona Moderator" in html


def test_audit_log_shows_the_answer_labels(client, auth, factory):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    proposal = factory.proposal(consultation, factory.user())
    auth.login(factory.moderator().email)
    client.post(
        f"/moderation/proposals/{proposal.id}/answer",
        data={"answer": "accepted", "text": "Agreed by the council."},
    )
    html = client.get(f"/consultations/{consultation.slug}/audit", headers=ENGLISH).get_data(
        as_text=True
    )
    assert "Proposal answered" in html
    assert "<td>Not answered yet</td>" in html
    assert "<td>Accepted</td>" in html


# Blocking accounts


def block(client, user):
    return client.post(f"/moderation/users/{user.id}/block")


def test_admin_blocks_a_user(app, client, auth, factory):
    user = factory.user()
    auth.login(factory.admin().email)
    response = block(client, user)
    assert response.headers["Location"] == "/moderation/users"
    assert stored(app, User, user).is_blocked is True


def test_blocked_user_cannot_log_in(app, client, auth, factory):
    user = factory.user()
    auth.login(factory.admin().email)
    block(client, user)
    auth.logout()
    response = auth.login(user.email)
    assert response.status_code == 422
    assert client.get("/moderation/reports").status_code == 302  # still a visitor


def test_logged_in_user_is_logged_out_once_blocked(app, client, auth, factory):
    user = factory.user()
    auth.login(user.email)
    admin_client = app.test_client()
    admin_client.post(
        "/account/login", data={"email": factory.admin().email, "password": "correct horse battery"}
    )
    block(admin_client, user)
    consultation = factory.consultation(phase=Phase.COLLECTING)
    response = client.get(f"/consultations/{consultation.slug}/proposals/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")


def test_unblocked_user_can_log_in_again(app, client, auth, factory):
    user = factory.user()
    auth.login(factory.admin().email)
    block(client, user)
    client.post(f"/moderation/users/{user.id}/unblock")
    auth.logout()
    assert auth.login(user.email).status_code == 302


def test_moderator_cannot_block(app, client, auth, factory):
    user = factory.user()
    auth.login(factory.moderator().email)
    assert block(client, user).status_code == 403
    assert stored(app, User, user).is_blocked is False


def test_users_page_is_403_for_moderators(client, auth, factory):
    auth.login(factory.moderator().email)
    assert client.get("/moderation/users").status_code == 403


def test_users_page_searches_by_email_or_name(client, auth, factory):
    factory.user(email="anna.schmidt@example.org", display_name="Anna")
    factory.user(email="carla@example.org", display_name="Carla Meier")
    auth.login(factory.admin().email)
    html = client.get("/moderation/users", query_string={"q": "schmidt"}).get_data(as_text=True)
    assert ("anna.schmidt@example.org" in html, "carla@example.org" in html) == (True, False)


def test_users_page_shows_blocked_status_as_text(client, auth, factory):
    factory.user(email="blocked@example.org", is_blocked=True)
    auth.login(factory.admin().email)
    html = client.get(
        "/moderation/users", query_string={"q": "blocked@"}, headers=ENGLISH
    ).get_data(as_text=True)
    assert ">Blocked</span>" in html
    assert ">Unblock<" in html


def test_block_without_csrf_token_is_refused(app, csrf_client, factory):
    user = factory.user()
    login_with_csrf(csrf_client, factory.admin().email)
    assert block(csrf_client, user).status_code == 400
    assert stored(app, User, user).is_blocked is False
