"""Comments and replies on the proposal page, through HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event

from participation.extensions import db
from participation.models import (
    AccountType,
    Comment,
    CommentState,
    Phase,
    Proposal,
    ProposalState,
)
from tests.conftest import csrf_token_from, login_with_csrf

ENGLISH = {"Accept-Language": "en"}


def stored_comments(app) -> list[Comment]:
    with app.app_context():
        return list(db.session.scalars(db.select(Comment).order_by(Comment.id)))


def stored_comment(app, comment) -> Comment:
    with app.app_context():
        return db.session.get(Comment, comment.id)


def counter_and_rows(app, proposal) -> tuple[int, int]:
    """The stored comment_count next to the published comments it counts."""
    with app.app_context():
        rows = db.session.scalar(
            db.select(db.func.count())
            .select_from(Comment)
            .where(Comment.proposal_id == proposal.id, Comment.state == CommentState.PUBLISHED)
        )
        return db.session.get(Proposal, proposal.id).comment_count, rows


def post_comment(client, proposal, body, **options):
    return client.post(f"/proposals/{proposal.id}/comments", data={"comment-body": body}, **options)


def post_reply(client, comment, body, **options):
    return client.post(
        f"/comments/{comment.id}/replies", data={f"reply-{comment.id}-body": body}, **options
    )


def page(client, proposal) -> str:
    response = client.get(f"/proposals/{proposal.id}", headers=ENGLISH)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def comments_section(html: str) -> str:
    return html[html.index('<section id="comments"') :]


def login_target(response) -> str:
    """Where a visitor sent to the login page will go afterwards."""
    location = urlsplit(response.headers["Location"])
    assert location.path == "/account/login"
    return parse_qs(location.query)["next"][0]


@pytest.fixture
def open_proposal(factory) -> Proposal:
    return factory.proposal(factory.consultation(phase=Phase.COLLECTING), factory.user())


@pytest.fixture
def citizen(factory, auth):
    """A logged-in citizen."""
    user = factory.user()
    auth.login(user.email)
    return user


# Writing


def test_citizen_comments_and_lands_on_the_comment(app, client, citizen, open_proposal):
    response = post_comment(client, open_proposal, "  Good idea!  ")
    [comment] = stored_comments(app)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposals/{open_proposal.id}#comment-{comment.id}"
    assert (comment.author_id, comment.body) == (citizen.id, "Good idea!")


def test_comment_counts_on_the_proposal(app, client, citizen, open_proposal):
    post_comment(client, open_proposal, "One")
    post_comment(client, open_proposal, "Two")
    assert counter_and_rows(app, open_proposal) == (2, 2)


def test_comment_count_shows_on_the_proposal_list(app, client, citizen, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    proposal = factory.proposal(consultation, factory.user())
    post_comment(client, proposal, "One")
    post_comment(client, proposal, "Two")
    html = client.get(f"/consultations/{consultation.slug}", headers=ENGLISH).get_data(as_text=True)
    assert "2 comments" in html


def test_comment_is_shown_with_author_and_time(client, citizen, open_proposal):
    post_comment(client, open_proposal, "Good idea!")
    section = comments_section(page(client, open_proposal))
    article = re.search(r'<article id="comment-\d+" class="comment">(.*?)</article>', section, re.S)
    assert article is not None
    assert citizen.display_name in article.group(1)
    assert "<time datetime=" in article.group(1)
    assert "Good idea!" in article.group(1)


def test_organisation_comment_carries_the_badge(client, auth, factory, open_proposal):
    organisation = factory.user(account_type=AccountType.ORGANISATION)
    auth.login(organisation.email)
    post_comment(client, open_proposal, "We can help.")
    section = comments_section(page(client, open_proposal))
    assert 'class="badge org-badge">Organisation</span>' in section


def test_line_breaks_are_kept(client, citizen, open_proposal):
    post_comment(client, open_proposal, "First line\nSecond line")
    assert "First line<br>\nSecond line" in page(client, open_proposal)


def test_reply_is_shown_under_its_comment(app, client, citizen, open_proposal):
    post_comment(client, open_proposal, "Top")
    [top] = stored_comments(app)
    response = post_reply(client, top, "A reply")
    [_, reply] = stored_comments(app)
    section = comments_section(page(client, open_proposal))
    replies = re.search(r'<ol class="comment-replies[^>]*>(.*?)</ol>', section, re.S)
    assert response.headers["Location"] == f"/proposals/{open_proposal.id}#comment-{reply.id}"
    assert reply.parent_id == top.id
    assert f'id="comment-{reply.id}"' in replies.group(1)


def test_reply_to_a_reply_is_attached_to_the_top_level_comment(app, client, citizen, open_proposal):
    post_comment(client, open_proposal, "Top")
    [top] = stored_comments(app)
    post_reply(client, top, "Reply")
    [_, reply] = stored_comments(app)
    post_reply(client, reply, "Reply to the reply")
    assert stored_comments(app)[-1].parent_id == top.id


def test_reply_form_works_without_javascript(client, citizen, open_proposal, app):
    post_comment(client, open_proposal, "Top")
    [top] = stored_comments(app)
    section = comments_section(page(client, open_proposal))
    assert "<details" in section
    assert f'<form method="post" action="/comments/{top.id}/replies" novalidate>' in section
    assert f'<label class="form-label" for="reply-{top.id}-body">Your reply</label>' in section


def test_comment_form_has_a_label_and_a_character_hint(client, citizen, open_proposal):
    section = comments_section(page(client, open_proposal))
    assert '<label class="form-label" for="comment-body">Your comment</label>' in section
    assert 'aria-describedby="comment-body-hint"' in section
    assert "at most 5000 characters" in section
    assert 'maxlength="5000"' in section


@pytest.mark.parametrize("body", ["", "   "])
def test_empty_comment_is_shown_again_with_an_error(app, client, citizen, open_proposal, body):
    response = post_comment(client, open_proposal, body, headers=ENGLISH)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="comment-body-error"' in html
    assert "Please write a comment." in html
    assert stored_comments(app) == []


def test_too_long_comment_is_shown_again_with_an_error(app, client, citizen, open_proposal):
    response = post_comment(client, open_proposal, "x" * 5001, headers=ENGLISH)
    assert response.status_code == 422
    assert "at most 5000 characters" in response.get_data(as_text=True)
    assert stored_comments(app) == []


@pytest.mark.parametrize("phase", [Phase.VOTING, Phase.EVALUATING])
def test_comments_stay_open_until_the_consultation_closes(app, client, citizen, factory, phase):
    proposal = factory.proposal(factory.consultation(phase=phase), factory.user())
    post_comment(client, proposal, "Still discussing")
    assert len(stored_comments(app)) == 1


def test_comment_in_a_closed_consultation_is_refused_with_a_message(app, client, citizen, factory):
    proposal = factory.proposal(factory.consultation(phase=Phase.CLOSED), factory.user())
    response = post_comment(client, proposal, "Too late", headers=ENGLISH, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Comments are not open" in html
    assert "Comments are closed." in comments_section(html)
    assert stored_comments(app) == []


def test_comment_in_a_draft_consultation_is_not_found(app, client, citizen, factory):
    proposal = factory.proposal(factory.consultation(phase=Phase.DRAFT), factory.user())
    assert post_comment(client, proposal, "Hello").status_code == 404
    assert stored_comments(app) == []


@pytest.mark.parametrize("state", [ProposalState.WITHDRAWN, ProposalState.HIDDEN])
def test_comment_on_a_proposal_that_is_not_published_is_refused(app, client, auth, factory, state):
    moderator = factory.moderator()  # moderators still see withdrawn and hidden proposals
    proposal = factory.proposal(factory.consultation(), factory.user(), state=state)
    auth.login(moderator.email)
    response = post_comment(client, proposal, "Hello", headers=ENGLISH, follow_redirects=True)
    assert "cannot be commented on" in response.get_data(as_text=True)
    assert stored_comments(app) == []


def test_comment_on_a_hidden_proposal_is_not_found_for_citizens(app, client, citizen, factory):
    proposal = factory.proposal(factory.consultation(), factory.user(), state=ProposalState.HIDDEN)
    assert post_comment(client, proposal, "Hello").status_code == 404
    assert stored_comments(app) == []


# Visitors


def test_visitor_is_sent_to_log_in_and_back_to_the_proposal(app, client, open_proposal):
    response = post_comment(client, open_proposal, "Anonymous")
    assert response.status_code == 302
    assert login_target(response) == f"/proposals/{open_proposal.id}#comments"
    assert stored_comments(app) == []


@pytest.mark.parametrize(
    ("method", "address"),
    [("post", "/comments/{id}/replies"), ("get", "/comments/{id}/edit"),
     ("post", "/comments/{id}/edit"), ("post", "/comments/{id}/delete")],
)  # fmt: skip
def test_visitor_acting_on_a_comment_is_sent_to_log_in(
    app, client, factory, open_proposal, method, address
):
    comment = factory.comment(open_proposal, factory.user())
    response = getattr(client, method)(address.format(id=comment.id), data={})
    assert login_target(response) == f"/proposals/{open_proposal.id}#comments"
    assert stored_comment(app, comment).state is CommentState.PUBLISHED


def test_visitor_comes_back_to_the_proposal_after_logging_in(client, factory, open_proposal):
    user = factory.user()
    target = login_target(post_comment(client, open_proposal, "Anonymous"))
    response = client.post(
        "/account/login",
        query_string={"next": target},
        data={"email": user.email, "password": factory.PASSWORD},
    )
    assert response.headers["Location"] == f"/proposals/{open_proposal.id}#comments"


def test_visitor_sees_a_login_link_instead_of_the_form(client, open_proposal):
    section = comments_section(page(client, open_proposal))
    assert "Log in to comment" in section
    assert f'action="/proposals/{open_proposal.id}/comments"' not in section


# Editing


def test_author_edits_within_15_minutes(app, client, citizen, open_proposal):
    post_comment(client, open_proposal, "Frist")
    [comment] = stored_comments(app)
    form = client.get(f"/comments/{comment.id}/edit", headers=ENGLISH)
    response = client.post(f"/comments/{comment.id}/edit", data={"body": "First"})
    stored = stored_comment(app, comment)
    assert form.status_code == 200
    assert "Frist</textarea>" in form.get_data(as_text=True)
    assert response.headers["Location"] == f"/proposals/{open_proposal.id}#comment-{comment.id}"
    assert (stored.body, stored.edited_at is not None) == ("First", True)


def test_edited_comment_is_marked(app, client, citizen, open_proposal):
    post_comment(client, open_proposal, "Frist")
    [comment] = stored_comments(app)
    client.post(f"/comments/{comment.id}/edit", data={"body": "First"})
    assert "· edited" in comments_section(page(client, open_proposal))


def test_edit_to_an_empty_text_is_shown_again_with_an_error(app, client, citizen, open_proposal):
    post_comment(client, open_proposal, "Mine")
    [comment] = stored_comments(app)
    response = client.post(f"/comments/{comment.id}/edit", data={"body": " "}, headers=ENGLISH)
    assert response.status_code == 422
    assert 'id="body-error"' in response.get_data(as_text=True)
    assert stored_comment(app, comment).body == "Mine"


@pytest.fixture
def old_comment(factory, open_proposal, citizen) -> Comment:
    """The logged-in citizen's comment, written 20 minutes ago."""
    return factory.comment(
        open_proposal, citizen, created_at=datetime.now(UTC) - timedelta(minutes=20)
    )


def test_edit_after_15_minutes_is_refused_with_a_message(app, client, old_comment):
    response = client.post(
        f"/comments/{old_comment.id}/edit",
        data={"body": "Changed"},
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "within 15 minutes of writing it" in response.get_data(as_text=True)
    assert stored_comment(app, old_comment).body == old_comment.body


def test_edit_form_after_15_minutes_goes_back_to_the_comment(client, old_comment):
    response = client.get(f"/comments/{old_comment.id}/edit")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/proposals/{old_comment.proposal_id}#comment-{old_comment.id}"
    )


def test_edit_button_disappears_after_15_minutes(client, old_comment, open_proposal):
    section = comments_section(page(client, open_proposal))
    assert f"/comments/{old_comment.id}/edit" not in section
    assert f"/comments/{old_comment.id}/delete" in section


@pytest.mark.parametrize("method", ["get", "post"])
def test_only_the_author_edits(app, client, citizen, factory, open_proposal, method):
    comment = factory.comment(open_proposal, factory.user(), body="Theirs")
    response = getattr(client, method)(f"/comments/{comment.id}/edit", data={"body": "Mine"})
    assert response.status_code == 403
    assert stored_comment(app, comment).body == "Theirs"


def test_other_citizens_see_no_edit_or_delete_buttons(client, citizen, factory, open_proposal):
    comment = factory.comment(open_proposal, factory.user())
    section = comments_section(page(client, open_proposal))
    assert f'id="comment-{comment.id}"' in section
    assert f"/comments/{comment.id}/edit" not in section
    assert f"/comments/{comment.id}/delete" not in section


# Deleting


def test_author_deletes_a_comment_and_it_is_gone(app, client, citizen, open_proposal):
    post_comment(client, open_proposal, "Oops, wrong proposal")
    [comment] = stored_comments(app)
    response = client.post(f"/comments/{comment.id}/delete")
    stored = stored_comment(app, comment)
    section = comments_section(page(client, open_proposal))
    assert response.headers["Location"] == f"/proposals/{open_proposal.id}#comments"
    assert (stored.state, stored.body) == (CommentState.DELETED, "")
    assert f'id="comment-{comment.id}"' not in section
    assert "Oops, wrong proposal" not in section


def test_deleted_comment_with_replies_shows_deleted_in_its_place(
    app, client, citizen, factory, open_proposal
):
    post_comment(client, open_proposal, "Top")
    [top] = stored_comments(app)
    factory.comment(open_proposal, factory.user(), parent_id=top.id, body="A reply")
    client.post(f"/comments/{top.id}/delete")
    section = comments_section(page(client, open_proposal))
    assert f'id="comment-{top.id}"' in section
    assert "This comment was deleted by its author." in section
    assert "A reply" in section


def test_only_the_author_deletes(app, client, citizen, factory, open_proposal):
    comment = factory.comment(open_proposal, factory.user())
    response = client.post(f"/comments/{comment.id}/delete")
    assert response.status_code == 403
    assert stored_comment(app, comment).state is CommentState.PUBLISHED


def test_counter_equals_published_comments_after_each_action(app, client, citizen, open_proposal):
    seen = []
    post_comment(client, open_proposal, "One")
    seen.append(counter_and_rows(app, open_proposal))
    [first] = stored_comments(app)
    post_reply(client, first, "Two")
    seen.append(counter_and_rows(app, open_proposal))
    post_comment(client, open_proposal, "")  # refused: nothing changes
    seen.append(counter_and_rows(app, open_proposal))
    client.post(f"/comments/{first.id}/edit", data={"body": "One, edited"})
    seen.append(counter_and_rows(app, open_proposal))
    client.post(f"/comments/{first.id}/delete")
    seen.append(counter_and_rows(app, open_proposal))
    client.post(f"/comments/{first.id}/delete")  # a second time: refused
    seen.append(counter_and_rows(app, open_proposal))
    assert seen == [(1, 1), (2, 2), (2, 2), (2, 2), (1, 1), (1, 1)]


# Moderation's placeholders


def test_hidden_comment_with_replies_shows_the_moderation_reason(client, factory, open_proposal):
    hidden = factory.comment(
        open_proposal,
        factory.user(),
        body="Rude words",
        state=CommentState.HIDDEN,
        hidden_reason="Insults <b>another</b> participant",
    )
    factory.comment(open_proposal, factory.user(), parent_id=hidden.id, body="Please be kind")
    section = comments_section(page(client, open_proposal))
    assert "Hidden by moderation: Insults &lt;b&gt;another&lt;/b&gt; participant" in section
    assert "Rude words" not in section
    assert "Please be kind" in section


def hidden_comment(factory, proposal, body="Rude words", reason="Spam", **fields):
    return factory.comment(
        proposal,
        factory.user(),
        body=body,
        state=CommentState.HIDDEN,
        hidden_reason=reason,
        **fields,
    )


def test_hidden_comment_without_replies_shows_the_reason_in_its_place(
    client, factory, open_proposal
):
    hidden = hidden_comment(factory, open_proposal)
    section = comments_section(page(client, open_proposal))
    assert f'id="comment-{hidden.id}"' in section
    assert "Hidden by moderation: Spam" in section
    assert "Rude words" not in section


def test_moderator_sees_the_hidden_text_marked_with_a_restore_button(
    client, auth, factory, open_proposal
):
    hidden = hidden_comment(factory, open_proposal)
    auth.login(factory.moderator().email)
    section = comments_section(page(client, open_proposal))
    assert "Rude words" in section
    assert "only moderators see this text" in section
    assert f'action="/moderation/comments/{hidden.id}/restore"' in section


def test_citizens_see_neither_the_hidden_text_nor_the_restore_button(
    client, auth, factory, open_proposal
):
    hidden = hidden_comment(factory, open_proposal)
    auth.login(factory.user().email)
    section = comments_section(page(client, open_proposal))
    assert "Rude words" not in section
    assert f"/moderation/comments/{hidden.id}/restore" not in section


def test_hidden_reply_shows_the_reason_in_its_place(client, factory, open_proposal):
    top = factory.comment(open_proposal, factory.user(), body="Top")
    hidden = hidden_comment(
        factory, open_proposal, body="Rude reply", reason="Off topic", parent_id=top.id
    )
    section = comments_section(page(client, open_proposal))
    assert f'id="comment-{hidden.id}"' in section
    assert "Hidden by moderation: Off topic" in section
    assert "Rude reply" not in section


# Safe text


def test_html_in_a_comment_is_escaped(client, citizen, open_proposal):
    post_comment(client, open_proposal, '<script>alert("x")</script><img src=x onerror=alert(1)>')
    html = page(client, open_proposal)
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_links_in_a_comment_are_clickable_with_rel_nofollow(client, citizen, open_proposal):
    post_comment(client, open_proposal, "See https://example.org/parks?a=1&b=2.")
    section = comments_section(page(client, open_proposal))
    assert (
        '<a href="https://example.org/parks?a=1&amp;b=2" rel="nofollow noopener ugc">'
        "https://example.org/parks?a=1&amp;b=2</a>."
    ) in section


def test_javascript_address_in_a_comment_is_not_linked(client, citizen, open_proposal):
    post_comment(client, open_proposal, "Click javascript:alert(document.cookie)")
    section = comments_section(page(client, open_proposal))
    assert "javascript:alert(document.cookie)" in section
    assert 'href="javascript:' not in section


# CSRF


def test_comment_without_csrf_token_is_refused(app, csrf_client, factory, open_proposal):
    user = factory.user()
    login_with_csrf(csrf_client, user.email)
    response = post_comment(csrf_client, open_proposal, "No token")
    assert response.status_code == 400
    assert stored_comments(app) == []


def test_comment_with_the_csrf_token_of_the_page_is_stored(
    app, csrf_client, factory, open_proposal
):
    user = factory.user()
    login_with_csrf(csrf_client, user.email)
    html = csrf_client.get(f"/proposals/{open_proposal.id}").get_data(as_text=True)
    token = re.search(r'name="comment-csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = csrf_client.post(
        f"/proposals/{open_proposal.id}/comments",
        data={"comment-body": "With token", "comment-csrf_token": token},
    )
    assert response.status_code == 302
    assert [comment.body for comment in stored_comments(app)] == ["With token"]


def test_delete_without_csrf_token_is_refused(app, csrf_client, factory, open_proposal):
    user = factory.user()
    comment = factory.comment(open_proposal, user)
    login_with_csrf(csrf_client, user.email)
    response = csrf_client.post(f"/comments/{comment.id}/delete")
    assert response.status_code == 400
    assert stored_comment(app, comment).state is CommentState.PUBLISHED


def test_delete_button_carries_a_csrf_token(app, csrf_client, factory):
    user = factory.user()
    open_proposal = factory.proposal(factory.consultation(), factory.user(), comment_count=1)
    comment = factory.comment(open_proposal, user)
    login_with_csrf(csrf_client, user.email)
    html = csrf_client.get(f"/proposals/{open_proposal.id}").get_data(as_text=True)
    form = html[html.index(f'action="/comments/{comment.id}/delete"') :]
    response = csrf_client.post(
        f"/comments/{comment.id}/delete", data={"csrf_token": csrf_token_from(form)}
    )
    assert response.status_code == 302
    assert stored_comment(app, comment).state is CommentState.DELETED


# Efficiency


def proposal_with_comments(factory, count: int) -> Proposal:
    """`count` comments by different authors; every third one top-level, the rest replies."""
    proposal = factory.proposal(factory.consultation(phase=Phase.VOTING), factory.user())
    top_level = None
    for number in range(count):
        if number % 3 == 0:
            top_level = factory.comment(proposal, factory.user())
        else:
            factory.comment(proposal, factory.user(), parent_id=top_level.id)
    return proposal


def statements_for_page(app, client, proposal) -> int:
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        assert client.get(f"/proposals/{proposal.id}").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return len(statements)


def test_proposal_page_takes_as_many_queries_for_30_comments_as_for_3(
    app, client, citizen, factory
):
    small = proposal_with_comments(factory, 3)
    large = proposal_with_comments(factory, 30)
    page(client, small)  # warm up whatever is loaded once per process
    assert statements_for_page(app, client, small) == statements_for_page(app, client, large)


def test_other_citizens_see_a_report_link_on_a_comment(client, auth, factory, open_proposal):
    comment = factory.comment(open_proposal, factory.user())
    auth.login(factory.user().email)
    html = comments_section(page(client, open_proposal))
    assert f"/comments/{comment.id}/report" in html


def test_authors_see_no_report_link_on_their_own_comment(client, auth, factory, open_proposal):
    author = factory.user()
    comment = factory.comment(open_proposal, author)
    auth.login(author.email)
    html = comments_section(page(client, open_proposal))
    assert f"/comments/{comment.id}/report" not in html


def test_moderators_see_a_hide_link_on_a_comment(client, auth, factory, open_proposal):
    comment = factory.comment(open_proposal, factory.user())
    auth.login(factory.moderator().email)
    html = comments_section(page(client, open_proposal))
    assert f"/moderation/comments/{comment.id}/hide" in html
