"""The bell in the header, the notifications page, the choice of e-mails and the unsubscribe
pages."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from participation.extensions import db
from participation.models import (
    Comment,
    EmailFrequency,
    User,
)
from participation.services import notifications
from tests.helpers import add_comment_notifications

BELL = re.compile(r'<a class="nav-link notification-bell".*?</a>', re.S)


@pytest.fixture
def scene(factory):
    """Anna's proposal with a comment by Bruno; Anna reads her notifications."""
    consultation = factory.consultation()
    anna = factory.user(display_name="Anna", locale="en")
    bruno = factory.user(display_name="Bruno")
    proposal = factory.proposal(consultation, anna, title="Benches")
    comment = factory.comment(proposal, bruno)
    return anna, bruno, proposal, comment


def notify(app, recipient, proposal, comment, count: int) -> list[int]:
    """`count` comment notifications a minute apart, oldest first."""
    with app.app_context():
        return add_comment_notifications(recipient.id, proposal, comment.id, count)


def bell(html: str) -> str:
    match = BELL.search(html)
    assert match, "the page has no bell"
    return match.group(0)


def visible_text(fragment: str) -> str:
    """The text a screen reader reads: without aria-hidden parts and tags."""
    fragment = re.sub(r"<(\w+)[^>]*aria-hidden=\"true\"[^>]*>.*?</\1>", "", fragment, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", fragment).split())


def unread(app, user) -> int:
    with app.app_context():
        return notifications.unread_count(db.session.get(User, user.id))


# The bell


def test_the_bell_is_named_with_the_unread_count(app, client, auth, scene):
    anna, _, proposal, comment = scene
    notify(app, anna, proposal, comment, 3)
    auth.login(anna.email)

    link = bell(client.get("/").get_data(as_text=True))

    assert visible_text(link) == "Notifications, 3 unread"
    assert re.search(
        r'<span class="badge[^"]*notification-count" aria-hidden="true">3</span>', link
    )


def test_the_bell_without_unread_notifications_has_no_count(client, auth, scene):
    anna, *_ = scene
    auth.login(anna.email)

    link = bell(client.get("/").get_data(as_text=True))

    assert visible_text(link) == "Notifications"
    assert "notification-count" not in link


def test_the_count_is_written_in_the_readers_language(app, client, auth, factory, scene):
    _, _, proposal, comment = scene
    german = factory.user(locale="de")
    notify(app, german, proposal, comment, 1234)
    auth.login(german.email)

    link = bell(client.get("/").get_data(as_text=True))

    assert ">1.234<" in link


def test_visitors_have_no_bell(client):
    assert "notification-bell" not in client.get("/").get_data(as_text=True)


def test_the_bell_leads_to_the_notifications_page(client, auth, scene):
    anna, *_ = scene
    auth.login(anna.email)

    link = bell(client.get("/").get_data(as_text=True))

    assert 'href="/notifications"' in link


# The page


def page_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/notifications/(\d+)"', html)]


def test_the_page_lists_the_notifications_newest_first(app, client, auth, scene):
    anna, _, proposal, comment = scene
    ids = notify(app, anna, proposal, comment, 3)
    auth.login(anna.email)

    html = client.get("/notifications").get_data(as_text=True)

    assert page_ids(html) == ids[::-1]
    assert "Bruno commented on “Benches”." in html


def test_the_page_shows_twenty_and_links_to_the_next(app, client, auth, scene):
    anna, _, proposal, comment = scene
    ids = notify(app, anna, proposal, comment, 25)
    auth.login(anna.email)

    first = client.get("/notifications").get_data(as_text=True)
    second = client.get("/notifications?page=2").get_data(as_text=True)

    assert page_ids(first) == ids[::-1][:20]
    assert page_ids(second) == ids[::-1][20:]
    assert 'href="/notifications?page=2"' in first


def test_the_page_needs_a_login(client):
    response = client.get("/notifications")

    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]


def test_the_page_shows_only_the_readers_own(app, client, auth, factory, scene):
    anna, bruno, proposal, comment = scene
    notify(app, bruno, proposal, comment, 2)
    auth.login(anna.email)

    html = client.get("/notifications").get_data(as_text=True)

    assert page_ids(html) == []
    assert "No notifications yet." in html


def test_marking_one_as_read(app, client, auth, scene):
    anna, _, proposal, comment = scene
    first, second = notify(app, anna, proposal, comment, 2)
    auth.login(anna.email)

    response = client.post(f"/notifications/{first}/read")

    assert response.status_code == 302
    assert unread(app, anna) == 1
    html = client.get("/notifications").get_data(as_text=True)
    assert f'action="/notifications/{first}/read"' not in html
    assert f'action="/notifications/{second}/read"' in html


def test_marking_all_as_read(app, client, auth, scene):
    anna, _, proposal, comment = scene
    notify(app, anna, proposal, comment, 3)
    auth.login(anna.email)

    client.post("/notifications/read")

    assert unread(app, anna) == 0
    assert "Mark all as read" not in client.get("/notifications").get_data(as_text=True)


def test_marking_returns_to_the_same_page(app, client, auth, scene):
    anna, _, proposal, comment = scene
    ids = notify(app, anna, proposal, comment, 25)
    auth.login(anna.email)

    response = client.post(f"/notifications/{ids[0]}/read", data={"page": "2"})

    assert response.headers["Location"].endswith("/notifications?page=2")


def test_nobody_marks_another_persons_notification(app, client, auth, scene):
    anna, bruno, proposal, comment = scene
    (brunos,) = notify(app, bruno, proposal, comment, 1)
    auth.login(anna.email)

    response = client.post(f"/notifications/{brunos}/read")

    assert response.status_code == 404
    assert unread(app, bruno) == 1


def test_opening_a_notification_marks_it_read_and_goes_to_the_comment(app, client, auth, scene):
    anna, _, proposal, comment = scene
    (notification_id,) = notify(app, anna, proposal, comment, 1)
    auth.login(anna.email)

    response = client.get(f"/notifications/{notification_id}")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/proposals/{proposal.id}#comment-{comment.id}")
    assert unread(app, anna) == 0


def test_marking_needs_the_forms_csrf_token(app, csrf_client, scene):
    from tests.conftest import login_with_csrf

    anna, _, proposal, comment = scene
    notify(app, anna, proposal, comment, 1)
    login_with_csrf(csrf_client, anna.email)

    response = csrf_client.post("/notifications/read")

    assert response.status_code == 400
    assert unread(app, anna) == 1


# The choice of e-mails


def chosen(app, user) -> EmailFrequency:
    with app.app_context():
        return notifications.email_frequency(db.session.get(User, user.id))


def test_the_settings_show_the_default_choice_no_e_mails(client, auth, scene):
    anna, *_ = scene
    auth.login(anna.email)

    html = client.get("/account/settings/notifications").get_data(as_text=True)

    assert re.search(r'<input checked[^>]*value="none"|<input[^>]*value="none"[^>]*checked', html)


def test_the_choice_is_a_section_of_the_account_settings(client, auth, scene):
    anna, *_ = scene
    auth.login(anna.email)

    html = client.get("/account/settings/notifications").get_data(as_text=True)

    assert 'href="/account/settings/notifications" aria-current="page"' in html


def test_choosing_the_daily_digest(app, client, auth, scene):
    anna, *_ = scene
    auth.login(anna.email)

    response = client.post("/account/settings/notifications", data={"email_frequency": "daily"})

    assert response.status_code == 302
    assert chosen(app, anna) is EmailFrequency.DAILY


def test_an_unknown_choice_is_refused_with_a_message(app, client, auth, scene):
    anna, *_ = scene
    auth.login(anna.email)

    response = client.post("/account/settings/notifications", data={"email_frequency": "hourly"})

    assert response.status_code == 422
    assert "error-summary" in response.get_data(as_text=True)
    assert chosen(app, anna) is EmailFrequency.NONE


def test_sending_no_choice_is_refused_rather_than_kept(app, client, auth, scene):
    anna, *_ = scene
    auth.login(anna.email)
    client.post("/account/settings/notifications", data={"email_frequency": "daily"})

    response = client.post(
        "/account/settings/notifications", data={}, headers={"Accept-Language": "en"}
    )

    assert response.status_code == 422
    assert "Please choose how often you want an e-mail." in response.get_data(as_text=True)
    assert chosen(app, anna) is EmailFrequency.DAILY


def test_the_settings_need_a_login(client):
    assert client.get("/account/settings/notifications").status_code == 302


# Unsubscribing from an e-mail


@pytest.fixture
def subscribed(app, factory):
    person = factory.user(locale="en")
    factory.email_frequency(person, EmailFrequency.DAILY)
    with app.app_context():
        path = f"/notifications/unsubscribe/{notifications.unsubscribe_token(person.id)}"
    return person, path


def test_opening_the_link_asks_before_unsubscribing(app, client, subscribed):
    person, path = subscribed

    response = client.get(path)

    assert response.status_code == 200
    assert f'<form method="post" action="{path}">' in response.get_data(as_text=True)
    assert chosen(app, person) is EmailFrequency.DAILY


def test_the_button_unsubscribes_without_logging_in(app, csrf_client, subscribed):
    person, path = subscribed

    response = csrf_client.post(path, headers={"Accept-Language": "en"})

    assert response.status_code == 200
    assert "You will get no more notification e-mails" in response.get_data(as_text=True)
    assert chosen(app, person) is EmailFrequency.NONE


def test_a_mail_programs_one_click_post_unsubscribes(app, csrf_client, subscribed):
    """RFC 8058: the mail program POSTs List-Unsubscribe=One-Click, without any form token."""
    person, path = subscribed

    response = csrf_client.post(
        path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert chosen(app, person) is EmailFrequency.NONE


def test_the_unsubscribe_pages_are_neither_cached_nor_referred(client, subscribed):
    _, path = subscribed

    response = client.get(path)

    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_a_broken_unsubscribe_link_gets_a_clear_message(app, client, subscribed):
    person, path = subscribed

    response = client.post(path[:-4], headers={"Accept-Language": "en"})

    assert response.status_code == 400
    assert "This link does not work" in response.get_data(as_text=True)
    assert chosen(app, person) is EmailFrequency.DAILY


# Following, and what the page then says


def test_a_comment_on_a_followed_proposal_reaches_the_followers_page(app, client, auth, factory):
    consultation = factory.consultation()
    anna = factory.user(display_name="Anna", locale="en")
    bruno = factory.user(display_name="Bruno")
    proposal = factory.proposal(consultation, anna, title="Benches")
    factory.follow(anna, proposal)
    auth.login(bruno.email)
    client.post(f"/proposals/{proposal.id}/comments", data={"comment-body": "Where exactly?"})
    auth.logout()

    auth.login(anna.email)
    html = client.get("/notifications").get_data(as_text=True)

    assert "Bruno commented on “Benches”." in html
    assert visible_text(bell(html)) == "Notifications, 1 unread"
    with app.app_context():
        assert db.session.scalar(select(Comment.body)) == "Where exactly?"
