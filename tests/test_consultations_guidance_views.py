"""The "What you can do now" box on a consultation's page, through real HTTP requests: every
phase and voting method in German and in English, and what a logged-in citizen who has voted
is told."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from participation.models import Phase, VotingMethod
from participation.models.base import utcnow
from tests.guidance_wording import CASE_IDS, CASES, WORDING, consultation_fields

HEADING = {"de": "Was Sie jetzt tun können", "en": "What you can do now"}
CURRENT_PHASE = {"de": "Aktuelle Phase:", "en": "Current phase:"}
UNTIL_WHEN = {"de": "Bis wann:", "en": "Until when:"}
BOX = re.compile(r'<section class="now-box[^"]*" aria-labelledby="now-title">.*?</section>', re.S)


def box_of(client, slug: str, locale: str) -> str:
    response = client.get(f"/consultations/{slug}", headers={"Accept-Language": locale})
    assert response.status_code == 200
    found = BOX.findall(response.get_data(as_text=True))
    assert len(found) == 1, "the page has exactly one guidance box"
    # Line breaks and indentation collapse; the no-break space inside "50.000 €" stays.
    return re.sub(r"[ \t\r\n]+", " ", html_lib.unescape(found[0]))


def targets(slug: str) -> dict[str, str]:
    return {
        "submit_proposal": f"/consultations/{slug}/proposals/new",
        "read_proposals": "#proposals-title",
        "fill_ballot": f"/consultations/{slug}/ballot",
        "see_results": f"/consultations/{slug}/results",
        "follow_initiatives": f"/initiatives?consultation={slug}",
    }


def assert_links(box: str, slug: str, expected: tuple) -> None:
    found = re.findall(r'<a class="btn [^"]*" href="([^"]*)">([^<]*)</a>', box)
    assert found == [(targets(slug)[action], label) for action, label in expected]


@pytest.mark.parametrize(("locale", "phase", "method"), CASES, ids=CASE_IDS)
def test_the_box_explains_phase_what_to_do_and_until_when(
    client, auth, factory, locale, phase, method
):
    consultation = factory.consultation(**consultation_fields(phase, method))
    if phase is Phase.DRAFT:
        auth.login(factory.moderator().email)  # only moderators see drafts
    expected = WORDING[locale][phase, method]

    box = box_of(client, consultation.slug, locale)

    assert f'<h2 id="now-title" class="h5">{HEADING[locale]}</h2>' in box
    assert (
        f"<strong>{CURRENT_PHASE[locale]}</strong> {expected['phase']}. {expected['summary']}"
        in box
    )
    assert re.findall(r"<li>(.*?)</li>", box) == list(expected["can_do"])
    assert f"<strong>{UNTIL_WHEN[locale]}</strong> {expected['deadline']}</p>" in box
    assert_links(box, consultation.slug, expected["links"])


def test_the_box_is_a_labelled_section_that_does_not_rely_on_colour(client, factory):
    consultation = factory.consultation(**consultation_fields(Phase.VOTING, VotingMethod.SUPPORT))
    box = box_of(client, consultation.slug, "en")
    # The phase, what to do and until when are written out, each introduced by words.
    assert box.startswith('<section class="now-box mb-4" aria-labelledby="now-title">')
    assert "<strong>Current phase:</strong> Voting." in box
    assert "<strong>Until when:</strong> You can vote until June 1, 2099." in box


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", ["You support 1 proposal so far.", "You can support 1 more proposal."]),
        ("de", ["Sie unterstützen bisher 1 Vorschlag.", "Sie können noch 1 weiteren Vorschlag"]),
    ],
)
def test_a_logged_in_supporter_sees_their_supports_and_the_cap(
    client, auth, factory, locale, expected
):
    consultation = factory.consultation(phase=Phase.VOTING, max_supports=2)
    citizen = factory.user()
    factory.support(factory.proposal(consultation, factory.user()), citizen)
    auth.login(citizen.email)

    box = box_of(client, consultation.slug, locale)

    for sentence in expected:
        assert sentence in box


@pytest.mark.parametrize(
    ("locale", "recorded", "link"),
    [
        ("en", "Your ballot is recorded.", "Change your ballot"),
        ("de", "Ihr Stimmzettel ist erfasst.", "Stimmzettel ändern"),
    ],
)
def test_a_citizen_who_filled_in_a_ballot_is_offered_to_change_it(
    client, auth, factory, locale, recorded, link
):
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=VotingMethod.BUDGET, budget=1000
    )
    project = factory.proposal(consultation, factory.user(), estimated_cost=400)
    citizen = factory.user()
    factory.ballot(consultation, citizen, [project])
    auth.login(citizen.email)

    box = box_of(client, consultation.slug, locale)

    assert recorded in box
    assert_links(box, consultation.slug, (("fill_ballot", link),))


def test_a_logged_in_citizen_is_invited_to_submit_without_being_told_to_log_in(
    client, auth, factory
):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    auth.login(factory.user().email)
    box = box_of(client, consultation.slug, "en")
    assert "<li>Submit your own proposal and comment on the proposals of others.</li>" in box
    assert "log in" not in box


def test_a_closed_consultation_links_to_its_initiatives(client, factory):
    consultation = factory.consultation(phase=Phase.CLOSED, results_published_at=utcnow())
    factory.initiative(factory.proposal(consultation, factory.user()))
    box = box_of(client, consultation.slug, "en")
    assert "1 winning proposal is being carried out as an initiative" in box
    assert_links(
        box,
        consultation.slug,
        (("see_results", "See the results"), ("follow_initiatives", "Follow the initiatives")),
    )


def test_the_links_of_the_box_lead_to_pages_that_exist(client, auth, factory):
    consultation = factory.consultation(phase=Phase.CLOSED, results_published_at=utcnow())
    factory.initiative(factory.proposal(consultation, factory.user()))
    for target in (
        f"/consultations/{consultation.slug}/results",
        f"/initiatives?consultation={consultation.slug}",
    ):
        assert client.get(target).status_code == 200
    collecting = factory.consultation(phase=Phase.COLLECTING)
    auth.login(factory.user().email)
    assert client.get(f"/consultations/{collecting.slug}/proposals/new").status_code == 200


@pytest.mark.parametrize("phase", [Phase.COLLECTING, Phase.VOTING])
def test_an_unconfirmed_citizen_is_asked_to_confirm_instead_of_invited_to_take_part(
    client, auth, factory, phase
):
    consultation = factory.consultation(phase=phase)
    auth.login(factory.user(email_confirmed_at=None).email)
    box = box_of(client, consultation.slug, "en")
    assert "please confirm your e-mail address first" in box.lower()
    assert "Submit your own proposal" not in box
    assert "Press “Support this proposal”" not in box
    assert "log in" not in box
    assert_links(box, consultation.slug, (("read_proposals", "Go to the proposals"),))
