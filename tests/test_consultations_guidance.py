"""consultations.guidance: the plain-language box of a consultation page, for every phase, voting
method and reader, in German and in English."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from flask_login import AnonymousUserMixin

from participation.models import (
    Consultation,
    Electorate,
    Phase,
    TallyRule,
    User,
    VotingMethod,
)
from participation.models.base import utcnow
from participation.services.consultations import guidance
from participation.services.consultations.guidance import Action
from tests.guidance_wording import (
    AFTER_ALL_DATES,
    BEFORE_ALL_DATES,
    CASE_IDS,
    CASES,
    NBSP,
    PLANNED,
    WORDING,
    consultation_fields,
)
from tests.helpers import attached

SUPPORT, BUDGET = VotingMethod.SUPPORT, VotingMethod.BUDGET


def say(consultation, viewer=None, *, locale="en", today=BEFORE_ALL_DATES):
    with force_locale(locale):
        return guidance.for_consultation(
            attached(Consultation, consultation),
            attached(User, viewer) if viewer is not None else None,
            today=today,
        )


def links(box) -> tuple:
    return tuple((link.action.value, link.label) for link in box.links)


# --- every phase and voting method, for a visitor ----------------------------------------


@pytest.mark.parametrize(("locale", "phase", "method"), CASES, ids=CASE_IDS)
def test_the_box_says_phase_what_to_do_and_until_when(ctx, factory, locale, phase, method):
    consultation = factory.consultation(**consultation_fields(phase, method))
    expected = WORDING[locale][phase, method]

    box = say(consultation, locale=locale)

    assert box.phase is phase
    assert box.phase_label == expected["phase"]
    assert box.summary == expected["summary"]
    assert box.can_do == expected["can_do"]
    assert box.deadline == expected["deadline"]
    assert links(box) == expected["links"]


def test_an_anonymous_user_is_a_visitor(ctx, factory):
    consultation = factory.consultation(**consultation_fields(Phase.VOTING, SUPPORT))
    with force_locale("en"):
        box = guidance.for_consultation(
            attached(Consultation, consultation), AnonymousUserMixin(), today=BEFORE_ALL_DATES
        )
    assert box.can_do == WORDING["en"][Phase.VOTING, SUPPORT]["can_do"]


@pytest.mark.parametrize(
    ("phase", "planned_end"),
    [
        (Phase.DRAFT, "collecting_starts_on"),
        (Phase.COLLECTING, "voting_starts_on"),
        (Phase.VOTING, "voting_ends_on"),
        (Phase.EVALUATING, "results_on"),
        (Phase.CLOSED, None),
    ],
)
def test_the_planned_end_is_the_date_that_ends_the_phase(ctx, factory, phase, planned_end):
    consultation = factory.consultation(**consultation_fields(phase, SUPPORT))
    assert say(consultation).ends_on == (PLANNED[planned_end] if planned_end else None)


# --- until when: no date planned, and a planned date that has passed ---------------------

NO_DATE = {
    "en": {
        Phase.DRAFT: "No opening date is planned yet.",
        Phase.COLLECTING: "No end date is planned yet: proposals can be submitted until the "
        "moderators open voting.",
        Phase.VOTING: "No end date is planned yet: voting stays open until the moderators "
        "close it.",
        Phase.EVALUATING: "No date is planned for the results yet.",
        Phase.CLOSED: "No deadline: the results and the initiatives stay online.",
    },
    "de": {
        Phase.DRAFT: "Ein Starttermin ist noch nicht geplant.",
        Phase.COLLECTING: "Ein Enddatum ist noch nicht geplant: Vorschläge können eingereicht "
        "werden, bis das Moderationsteam die Abstimmung eröffnet.",
        Phase.VOTING: "Ein Enddatum ist noch nicht geplant: Die Abstimmung bleibt offen, bis "
        "das Moderationsteam sie beendet.",
        Phase.EVALUATING: "Ein Termin für die Ergebnisse ist noch nicht geplant.",
        Phase.CLOSED: "Keine Frist: Die Ergebnisse und die Vorhaben bleiben online.",
    },
}

PASSED = {
    "en": {
        Phase.DRAFT: "Collecting proposals was planned to start on April 1, 2099.",
        Phase.COLLECTING: "Voting was planned to open on May 1, 2099; until the moderators "
        "open it, proposals can still be submitted.",
        Phase.VOTING: "Voting was planned to close on June 1, 2099; it stays open until the "
        "moderators close it.",
        Phase.EVALUATING: "The results were expected on July 1, 2099; they are published as "
        "soon as the evaluation is finished.",
        Phase.CLOSED: "No deadline: the results and the initiatives stay online.",
    },
    "de": {
        Phase.DRAFT: "Das Sammeln von Vorschlägen sollte am 1. April 2099 beginnen.",
        Phase.COLLECTING: "Die Abstimmung sollte am 1. Mai 2099 beginnen; bis das "
        "Moderationsteam sie eröffnet, können weiterhin Vorschläge eingereicht werden.",
        Phase.VOTING: "Die Abstimmung sollte am 1. Juni 2099 enden; sie bleibt offen, bis das "
        "Moderationsteam sie beendet.",
        Phase.EVALUATING: "Die Ergebnisse wurden für den 1. Juli 2099 erwartet; sie werden "
        "veröffentlicht, sobald die Auswertung abgeschlossen ist.",
        Phase.CLOSED: "Keine Frist: Die Ergebnisse und die Vorhaben bleiben online.",
    },
}


@pytest.mark.parametrize("locale", ["de", "en"])
@pytest.mark.parametrize("phase", list(Phase), ids=[phase.value for phase in Phase])
def test_without_a_planned_date_the_box_says_so_plainly(ctx, factory, locale, phase):
    consultation = factory.consultation(phase=phase)
    box = say(consultation, locale=locale)
    assert box.deadline == NO_DATE[locale][phase]
    assert box.ends_on is None


@pytest.mark.parametrize("locale", ["de", "en"])
@pytest.mark.parametrize("phase", list(Phase), ids=[phase.value for phase in Phase])
def test_a_planned_date_that_has_passed_is_not_announced_as_ahead(ctx, factory, locale, phase):
    consultation = factory.consultation(**consultation_fields(phase, SUPPORT))
    assert say(consultation, locale=locale, today=AFTER_ALL_DATES).deadline == PASSED[locale][phase]


def test_the_planned_day_itself_still_counts_as_ahead(ctx, factory):
    consultation = factory.consultation(**consultation_fields(Phase.VOTING, SUPPORT))
    box = say(consultation, today=PLANNED["voting_ends_on"])
    assert box.deadline == "You can vote until June 1, 2099."


def test_without_a_given_day_the_towns_today_decides(ctx, factory):
    today = date.today()
    ahead = factory.consultation(phase=Phase.VOTING, voting_ends_on=today + timedelta(days=9))
    passed = factory.consultation(phase=Phase.VOTING, voting_ends_on=today - timedelta(days=9))
    with force_locale("en"):
        assert guidance.for_consultation(attached(Consultation, ahead), None).deadline.startswith(
            "You can vote until "
        )
        assert guidance.for_consultation(attached(Consultation, passed), None).deadline.startswith(
            "Voting was planned to close on "
        )


# --- a citizen who is logged in, has supported or has filled in a ballot -----------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Submit your own proposal and comment on the proposals of others."),
        (
            "de",
            "Reichen Sie einen eigenen Vorschlag ein und kommentieren Sie die Vorschläge anderer.",
        ),
    ],
)
def test_a_citizen_is_invited_to_submit_while_collecting(ctx, factory, locale, expected):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    box = say(consultation, factory.user(), locale=locale)
    assert box.can_do[0] == expected
    assert [link.action for link in box.links] == [Action.SUBMIT_PROPOSAL]


@pytest.mark.parametrize(
    ("locale", "cap", "expected"),
    [
        ("en", 1, "When voting opens, you can support up to 1 proposal."),
        ("en", 3, "When voting opens, you can support up to 3 proposals."),
        ("de", 1, "Sobald die Abstimmung beginnt, können Sie bis zu 1 Vorschlag unterstützen."),
        ("de", 3, "Sobald die Abstimmung beginnt, können Sie bis zu 3 Vorschläge unterstützen."),
    ],
)
def test_the_cap_on_supports_is_announced_while_collecting(ctx, factory, locale, cap, expected):
    consultation = factory.consultation(phase=Phase.COLLECTING, max_supports=cap)
    assert say(consultation, locale=locale).can_do[1] == expected


def test_a_ballot_limited_to_a_share_of_the_budget_announces_that_share(ctx, factory):
    consultation = factory.consultation(
        phase=Phase.COLLECTING, voting_method=BUDGET, budget=50_000, ballot_max_share=30
    )
    assert say(consultation).can_do[1] == (
        "When voting opens, you choose on a ballot the projects you want funded; together they "
        "may cost at most €15,000."
    )
    assert say(consultation, locale="de").can_do[1].endswith(f"höchstens 15.000{NBSP}€ kosten.")


def test_a_budget_consultation_without_a_budget_yet_speaks_of_the_budget(ctx, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING, voting_method=BUDGET)
    assert say(consultation).can_do[1] == (
        "When voting opens, you choose on a ballot the projects you want funded, within the budget."
    )


def support_consultation(factory, count: int, cap: int | None = None, phase=Phase.VOTING):
    """A consultation with three proposals; a citizen supports `count` of them."""
    consultation = factory.consultation(phase=phase, max_supports=cap)
    author, citizen = factory.user(), factory.user()
    proposals = [factory.proposal(consultation, author) for _ in range(3)]
    for proposal in proposals[:count]:
        factory.support(proposal, citizen)
    return consultation, citizen, proposals


@pytest.mark.parametrize(
    ("locale", "count", "cap", "expected"),
    [
        ("en", 0, None, ("Press “Support this proposal” on each proposal you like.",)),
        (
            "en",
            0,
            2,
            (
                "Press “Support this proposal” on each proposal you like.",
                "You can support up to 2 proposals.",
            ),
        ),
        (
            "en",
            1,
            None,
            ("You support 1 proposal so far.", "You can withdraw a support until voting closes."),
        ),
        (
            "en",
            2,
            3,
            (
                "You support 2 proposals so far.",
                "You can support 1 more proposal.",
                "You can withdraw a support until voting closes.",
            ),
        ),
        (
            "en",
            1,
            3,
            (
                "You support 1 proposal so far.",
                "You can support 2 more proposals.",
                "You can withdraw a support until voting closes.",
            ),
        ),
        (
            "en",
            3,
            3,
            (
                "You support 3 proposals so far.",
                "You have used all your supports. To support another proposal, withdraw one first.",
                "You can withdraw a support until voting closes.",
            ),
        ),
        (
            "de",
            0,
            None,
            (
                "Drücken Sie bei jedem Vorschlag, der Ihnen gefällt, auf „Diesen Vorschlag "
                "unterstützen“.",
            ),
        ),
        (
            "de",
            2,
            3,
            (
                "Sie unterstützen bisher 2 Vorschläge.",
                "Sie können noch 1 weiteren Vorschlag unterstützen.",
                "Sie können eine Unterstützung zurücknehmen, bis die Abstimmung endet.",
            ),
        ),
        (
            "de",
            3,
            3,
            (
                "Sie unterstützen bisher 3 Vorschläge.",
                "Sie haben alle Ihre Unterstützungen vergeben. Um einen weiteren Vorschlag zu "
                "unterstützen, nehmen Sie zuerst eine zurück.",
                "Sie können eine Unterstützung zurücknehmen, bis die Abstimmung endet.",
            ),
        ),
    ],
)
def test_a_supporter_learns_where_they_stand(ctx, factory, locale, count, cap, expected):
    consultation, citizen, _ = support_consultation(factory, count, cap)
    box = say(consultation, citizen, locale=locale)
    assert box.can_do == expected
    assert [link.action for link in box.links] == [Action.READ_PROPOSALS]


def test_supports_in_another_consultation_do_not_count(ctx, factory):
    consultation, citizen, _ = support_consultation(factory, 0)
    _, _, other_proposals = support_consultation(factory, 0)
    factory.support(other_proposals[0], citizen)
    assert say(consultation, citizen).can_do == (
        "Press “Support this proposal” on each proposal you like.",
    )


def test_a_visitor_is_told_the_cap_while_voting(ctx, factory):
    consultation = factory.consultation(phase=Phase.VOTING, max_supports=3)
    assert say(consultation).can_do[-1] == "You can support up to 3 proposals."


def ballot_consultation(factory, phase=Phase.VOTING):
    consultation = factory.consultation(phase=phase, voting_method=BUDGET, budget=50_000)
    project = factory.proposal(consultation, factory.user(), estimated_cost=20_000)
    return consultation, project


@pytest.mark.parametrize(
    ("locale", "expected", "link"),
    [
        (
            "en",
            (
                "Choose on your ballot the projects you want funded; together they may cost at "
                "most €50,000.",
                "You have not filled in a ballot yet.",
            ),
            "Fill in your ballot",
        ),
        (
            "de",
            (
                "Wählen Sie auf Ihrem Stimmzettel die Projekte aus, die gefördert werden sollen; "
                f"zusammen dürfen sie höchstens 50.000{NBSP}€ kosten.",
                "Sie haben noch keinen Stimmzettel ausgefüllt.",
            ),
            "Stimmzettel ausfüllen",
        ),
    ],
)
def test_a_citizen_without_a_ballot_is_asked_to_fill_one_in(ctx, factory, locale, expected, link):
    consultation, project = ballot_consultation(factory)
    someone_else = factory.user()
    factory.ballot(consultation, someone_else, [project])
    box = say(consultation, factory.user(), locale=locale)
    assert box.can_do == expected
    assert links(box) == (("fill_ballot", link),)


@pytest.mark.parametrize(
    ("locale", "expected", "link"),
    [
        (
            "en",
            "Your ballot is recorded. You can change it until voting closes; the last one you "
            "submit counts.",
            "Change your ballot",
        ),
        (
            "de",
            "Ihr Stimmzettel ist erfasst. Sie können ihn ändern, bis die Abstimmung endet; es "
            "zählt der zuletzt abgegebene.",
            "Stimmzettel ändern",
        ),
    ],
)
def test_a_citizen_with_a_ballot_may_change_it(ctx, factory, locale, expected, link):
    consultation, project = ballot_consultation(factory)
    citizen = factory.user()
    factory.ballot(consultation, citizen, [project])
    box = say(consultation, citizen, locale=locale)
    assert box.can_do == (expected,)
    assert links(box) == (("fill_ballot", link),)


@pytest.mark.parametrize("viewer", ["visitor", "citizen", "unconfirmed"])
@pytest.mark.parametrize(
    ("locale", "expected", "link"),
    [
        (
            "en",
            "You vote with the voting code from the letter the town has sent you; you need no "
            "account. With the same code you can change your ballot until voting closes.",
            "Vote with your voting code",
        ),
        (
            "de",
            "Sie stimmen mit dem Abstimmungscode aus dem Brief ab, den die Stadt Ihnen geschickt "
            "hat; ein Konto brauchen Sie nicht. Mit demselben Code können Sie Ihren Stimmzettel "
            "ändern, bis die Abstimmung endet.",
            "Mit Abstimmungscode abstimmen",
        ),
    ],
)
def test_where_residents_vote_with_codes_everybody_is_sent_to_the_code(
    ctx, factory, locale, expected, link, viewer
):
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=BUDGET, budget=50_000, electorate=Electorate.VOTING_CODES
    )
    factory.proposal(consultation, factory.user(), estimated_cost=20_000)
    reader = {
        "visitor": None,
        "citizen": factory.user(),
        "unconfirmed": factory.user(email_confirmed_at=None),
    }[viewer]
    box = say(consultation, reader, locale=locale)
    assert box.can_do[1] == expected and len(box.can_do) == 2
    assert links(box) == (("vote_with_code", link),)


@pytest.mark.parametrize(
    ("locale", "count", "expected"),
    [
        ("en", 1, "Your support for 1 proposal is being counted."),
        ("en", 2, "Your supports for 2 proposals are being counted."),
        ("de", 1, "Ihre Unterstützung für 1 Vorschlag wird ausgewertet."),
        ("de", 2, "Ihre Unterstützungen für 2 Vorschläge werden ausgewertet."),
    ],
)
def test_a_supporter_is_told_the_supports_are_counted(ctx, factory, locale, count, expected):
    consultation, citizen, _ = support_consultation(factory, count, phase=Phase.EVALUATING)
    assert say(consultation, citizen, locale=locale).can_do[1] == expected


def test_a_citizen_who_did_not_vote_is_told_nothing_about_their_vote(ctx, factory):
    consultation, _, _ = support_consultation(factory, 0, phase=Phase.EVALUATING)
    box = say(consultation, factory.user())
    assert box.can_do == WORDING["en"][Phase.EVALUATING, SUPPORT]["can_do"]


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Your ballot is being counted; it can no longer be changed."),
        ("de", "Ihr Stimmzettel wird ausgewertet; er kann nicht mehr geändert werden."),
    ],
)
def test_a_voter_is_told_the_ballot_is_counted(ctx, factory, locale, expected):
    consultation, project = ballot_consultation(factory, Phase.EVALUATING)
    citizen = factory.user()
    factory.ballot(consultation, citizen, [project])
    assert say(consultation, citizen, locale=locale).can_do[1] == expected


def test_the_counting_rule_is_named_while_evaluating(ctx, factory):
    consultation = factory.consultation(
        phase=Phase.EVALUATING, voting_method=BUDGET, budget=1000, tally_rule=TallyRule.EQUAL_SHARES
    )
    assert say(consultation).can_do[1] == (
        "The ballots are counted by the rule announced before voting: Method of Equal Shares."
    )


# --- closed: results and initiatives ----------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "count", "expected", "link"),
    [
        (
            "en",
            1,
            "1 winning proposal is being carried out as an initiative: follow its progress.",
            "Follow the initiatives",
        ),
        (
            "en",
            2,
            "2 winning proposals are being carried out as initiatives: follow their progress.",
            "Follow the initiatives",
        ),
        (
            "de",
            2,
            "2 erfolgreiche Vorschläge werden als Vorhaben umgesetzt: Verfolgen Sie den "
            "Fortschritt.",
            "Vorhaben verfolgen",
        ),
    ],
)
def test_a_closed_consultation_points_to_its_initiatives(
    ctx, factory, locale, count, expected, link
):
    consultation = factory.consultation(phase=Phase.CLOSED, results_published_at=utcnow())
    author = factory.user()
    for _ in range(count):
        factory.initiative(factory.proposal(consultation, author))
    box = say(consultation, locale=locale)
    assert box.can_do[1] == expected
    assert [action for action, _ in links(box)] == ["see_results", "follow_initiatives"]
    assert links(box)[1][1] == link


def test_initiatives_of_another_consultation_do_not_count(ctx, factory):
    consultation = factory.consultation(phase=Phase.CLOSED, results_published_at=utcnow())
    other = factory.consultation(phase=Phase.CLOSED)
    factory.initiative(factory.proposal(other, factory.user()))
    assert [link.action for link in say(consultation).links] == [Action.SEE_RESULTS]


def test_a_closed_consultation_without_published_results_offers_no_results(ctx, factory):
    consultation = factory.consultation(phase=Phase.CLOSED)
    box = say(consultation)
    assert box.links == ()
    assert box.can_do == (
        "Once the town starts carrying out the winning proposals, you can follow their "
        "progress as initiatives.",
    )


# --- logged in, e-mail address not confirmed yet: confirm first -----------------------------

CONFIRM_FIRST = {
    (Phase.COLLECTING, SUPPORT): (
        "Read the proposals. To submit a proposal or to comment, please confirm your e-mail "
        "address first: open the link we have sent you.",
        "When voting opens, you can support as many proposals as you like.",
    ),
    (Phase.COLLECTING, BUDGET): (
        "Read the proposals. To submit a proposal or to comment, please confirm your e-mail "
        "address first: open the link we have sent you.",
        "When voting opens, you choose on a ballot the projects you want funded; together they "
        "may cost at most €50,000.",
    ),
    (Phase.VOTING, SUPPORT): (
        "Read the proposals and support the ones you like.",
        "Please confirm your e-mail address first to support proposals: open the link we have "
        "sent you.",
    ),
    (Phase.VOTING, BUDGET): (
        "Choose on your ballot the projects you want funded; together they may cost at most "
        "€50,000.",
        "Please confirm your e-mail address first to fill in your ballot: open the link we have "
        "sent you.",
    ),
}


@pytest.mark.parametrize(
    ("phase", "method"),
    list(CONFIRM_FIRST),
    ids=[f"{phase.value}-{method.value}" for phase, method in CONFIRM_FIRST],
)
def test_an_unconfirmed_citizen_is_told_to_confirm_their_address_first(ctx, factory, phase, method):
    """Submitting, commenting, supporting and the ballot all wait for the confirmed address, so
    the box does not invite a citizen who has not opened the link yet to do them."""
    consultation = factory.consultation(**consultation_fields(phase, method))
    unconfirmed = factory.user(email_confirmed_at=None)

    box = say(consultation, unconfirmed)

    assert box.can_do == CONFIRM_FIRST[phase, method]
    assert [link.action for link in box.links] == [Action.READ_PROPOSALS], (
        "no link to a form the citizen may not send yet"
    )
    confirmed = say(consultation, factory.user())
    assert not any("confirm your e-mail" in sentence for sentence in confirmed.can_do), (
        "a confirmed citizen is invited to take part"
    )


def test_an_unconfirmed_citizen_is_still_told_the_cap_while_voting(ctx, factory):
    consultation = factory.consultation(phase=Phase.VOTING, max_supports=3)
    box = say(consultation, factory.user(email_confirmed_at=None))
    assert box.can_do[-1] == "You can support up to 3 proposals."
