"""Plain-language guidance for a consultation's page: the phase it is in, what the reader can do
now and until when.

The wording depends on the phase, the voting method and the reader: a visitor is told to log
in first, a citizen whose e-mail address is not confirmed yet to confirm it first, a citizen
who has already supported proposals or filled in a ballot is told where they stand.
Dates are the moderators' planned dates, formatted in the reader's language; the
moderators move the phases by hand, so a planned date that has passed is said to have passed,
and a phase without a planned end says so plainly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, date, datetime

from flask_babel import gettext as _
from flask_babel import ngettext, to_user_timezone

from participation import formatting
from participation.extensions import db
from participation.models import Consultation, Initiative, Phase, User
from participation.services import budgeting, votes
from participation.services.budgeting import ballots
from participation.services.consultations.phases import phase_label
from participation.services.errors import DomainError


class Action(enum.Enum):
    """Where the guidance box sends the reader; the template turns each into a link."""

    SUBMIT_PROPOSAL = "submit_proposal"
    READ_PROPOSALS = "read_proposals"
    FILL_BALLOT = "fill_ballot"
    VOTE_WITH_CODE = "vote_with_code"
    CONFIRM_REGISTER = "confirm_register"
    SEE_RESULTS = "see_results"
    FOLLOW_INITIATIVES = "follow_initiatives"


@dataclass(frozen=True)
class Link:
    action: Action
    label: str


@dataclass(frozen=True)
class Guidance:
    """The box at the top of a consultation's page, in the reader's language."""

    phase: Phase
    phase_label: str
    # One sentence: what this phase is about.
    summary: str
    # What the reader can do now, one short sentence each.
    can_do: tuple[str, ...]
    # Until when, in words; says plainly when no date is planned or the date has passed.
    deadline: str
    # The planned end of the phase (for the draft: the planned opening), if there is one.
    ends_on: date | None
    links: tuple[Link, ...]


@dataclass(frozen=True)
class _Reader:
    logged_in: bool
    # Logged in, but the e-mail address is not confirmed: may read, not take part yet.
    confirmed: bool = True
    supports: int = 0
    has_ballot: bool = False
    # Why this account may not vote here (budgeting.electorate.require_may_vote), if it may not.
    not_allowed: str | None = None
    has_register: bool = False


def for_consultation(
    consultation: Consultation, viewer: User | None, *, today: date | None = None
) -> Guidance:
    """What `viewer` (None or anonymous for a visitor) can do in the consultation now.

    `today` is the town's date (the default time zone's), unless a test fixes it.
    """
    if today is None:
        today = to_user_timezone(datetime.now(UTC)).date()
    reader = _reader(consultation, viewer)
    phase = consultation.phase
    build = {
        Phase.DRAFT: _draft,
        Phase.COLLECTING: _collecting,
        Phase.VOTING: _voting,
        Phase.EVALUATING: _evaluating,
        Phase.CLOSED: _closed,
    }[phase]
    summary, can_do, links = build(consultation, reader)
    ends_on = _planned_end(consultation)
    return Guidance(
        phase=phase,
        phase_label=phase_label(phase),
        summary=summary,
        can_do=tuple(can_do),
        deadline=_deadline(phase, ends_on, today),
        ends_on=ends_on,
        links=tuple(links),
    )


def _reader(consultation: Consultation, viewer: User | None) -> _Reader:
    if viewer is None or not viewer.is_authenticated:
        return _Reader(logged_in=False)
    if not viewer.is_confirmed:
        return _Reader(logged_in=True, confirmed=False)  # cannot have supported or voted
    if consultation.is_before_voting:
        return _Reader(logged_in=True)  # nobody has voted yet
    try:
        budgeting.electorate.require_may_vote(consultation, viewer)
        not_allowed = None
    except DomainError as error:
        not_allowed = str(error.message)
    electorate = {"not_allowed": not_allowed, "has_register": consultation.has_voter_register}
    if consultation.uses_ballots:
        ballot = ballots.get_ballot(consultation, viewer)
        return _Reader(logged_in=True, has_ballot=ballot is not None, **electorate)
    return _Reader(
        logged_in=True, supports=len(votes.supported_ids(consultation, viewer)), **electorate
    )


_Parts = tuple[str, list[str], list[Link]]


def _draft(consultation: Consultation, reader: _Reader) -> _Parts:
    return (
        _("This consultation is a draft and visible to moderators only."),
        [
            _(
                "Citizens cannot see it or take part yet. Check the settings, then move it to "
                "the phase “%(phase)s”.",
                phase=phase_label(Phase.COLLECTING),
            )
        ],
        [],
    )


def _collecting(consultation: Consultation, reader: _Reader) -> _Parts:
    if not reader.logged_in:
        can_do = [
            _(
                "Read the proposals. To submit a proposal or to comment, please log in or "
                "register first."
            )
        ]
    elif not reader.confirmed:
        can_do = [
            _(
                "Read the proposals. To submit a proposal or to comment, please confirm your "
                "e-mail address first: open the link we have sent you."
            )
        ]
    else:
        can_do = [_("Submit your own proposal and comment on the proposals of others.")]
    if consultation.uses_ballots:
        limit = consultation.ballot_limit
        if limit is None:
            can_do.append(
                _(
                    "When voting opens, you choose on a ballot the projects you want funded, "
                    "within the budget."
                )
            )
        else:
            can_do.append(
                _(
                    "When voting opens, you choose on a ballot the projects you want funded; "
                    "together they may cost at most %(limit)s.",
                    limit=formatting.money(limit, consultation.currency),
                )
            )
    elif consultation.max_supports:
        can_do.append(
            ngettext(
                "When voting opens, you can support up to %(num)d proposal.",
                "When voting opens, you can support up to %(num)d proposals.",
                consultation.max_supports,
            )
        )
    else:
        can_do.append(_("When voting opens, you can support as many proposals as you like."))
    link = (
        Link(Action.SUBMIT_PROPOSAL, _("Submit a proposal"))
        if reader.confirmed
        else Link(Action.READ_PROPOSALS, _("Go to the proposals"))
    )
    return (
        _("Proposals are being collected: everybody can suggest ideas and discuss them."),
        can_do,
        [link],
    )


def _voting(consultation: Consultation, reader: _Reader) -> _Parts:
    summary = _("Voting is open. The proposals can no longer be changed.")
    if ballots.votes_with_codes(consultation):
        return (
            summary,
            _voting_with_a_code(consultation),
            [Link(Action.VOTE_WITH_CODE, _("Vote with your voting code"))],
        )
    if reader.not_allowed and not reader.has_ballot and not reader.supports:
        links = [Link(Action.READ_PROPOSALS, _("Go to the proposals"))]
        if reader.has_register:
            links.insert(
                0, Link(Action.CONFIRM_REGISTER, _("Confirm that you are on the voter register"))
            )
        return summary, [reader.not_allowed], links
    if consultation.uses_ballots:
        link = (
            _ballot_link(reader)
            if reader.confirmed
            else Link(Action.READ_PROPOSALS, _("Go to the proposals"))
        )
        return summary, _voting_by_ballot(consultation, reader), [link]
    return (
        summary,
        _voting_by_support(consultation, reader),
        [Link(Action.READ_PROPOSALS, _("Go to the proposals"))],
    )


def _ballot_link(reader: _Reader) -> Link:
    if reader.has_ballot:
        return Link(Action.FILL_BALLOT, _("Change your ballot"))
    return Link(Action.FILL_BALLOT, _("Fill in your ballot"))


def _voting_with_a_code(consultation: Consultation) -> list[str]:
    """Anybody may hold a letter's code, logged in or not: the same words for every reader."""
    return [
        _(
            "Choose on your ballot the projects you want funded; together they may cost at "
            "most %(limit)s.",
            limit=formatting.money(consultation.ballot_limit, consultation.currency),
        ),
        _(
            "You vote with the voting code from the letter the town has sent you; you need no "
            "account. With the same code you can change your ballot until voting closes."
        ),
    ]


def _voting_by_ballot(consultation: Consultation, reader: _Reader) -> list[str]:
    if reader.has_ballot:
        return [
            _(
                "Your ballot is recorded. You can change it until voting closes; the last one "
                "you submit counts."
            )
        ]
    choose = _(
        "Choose on your ballot the projects you want funded; together they may cost at most "
        "%(limit)s.",
        limit=formatting.money(consultation.ballot_limit, consultation.currency),
    )
    if not reader.logged_in:
        return [choose, _("Please log in or register first to fill in your ballot.")]
    if not reader.confirmed:
        return [
            choose,
            _(
                "Please confirm your e-mail address first to fill in your ballot: open the "
                "link we have sent you."
            ),
        ]
    return [choose, _("You have not filled in a ballot yet.")]


def _voting_by_support(consultation: Consultation, reader: _Reader) -> list[str]:
    cap = consultation.max_supports
    if not reader.logged_in or not reader.confirmed:
        can_do = [
            _("Read the proposals and support the ones you like."),
            _("Please log in or register first to support proposals.")
            if not reader.logged_in
            else _(
                "Please confirm your e-mail address first to support proposals: open the link "
                "we have sent you."
            ),
        ]
        if cap:
            can_do.append(_cap_sentence(cap))
        return can_do
    if not reader.supports:
        can_do = [_("Press “Support this proposal” on each proposal you like.")]
        if cap:
            can_do.append(_cap_sentence(cap))
        return can_do
    can_do = [
        ngettext(
            "You support %(num)d proposal so far.",
            "You support %(num)d proposals so far.",
            reader.supports,
        )
    ]
    if cap and reader.supports >= cap:
        can_do.append(
            _("You have used all your supports. To support another proposal, withdraw one first.")
        )
    elif cap:
        can_do.append(
            ngettext(
                "You can support %(num)d more proposal.",
                "You can support %(num)d more proposals.",
                cap - reader.supports,
            )
        )
    can_do.append(_("You can withdraw a support until voting closes."))
    return can_do


def _cap_sentence(cap: int) -> str:
    return ngettext(
        "You can support up to %(num)d proposal.", "You can support up to %(num)d proposals.", cap
    )


def _evaluating(consultation: Consultation, reader: _Reader) -> _Parts:
    can_do = [_("You can still read the proposals and comment on them.")]
    if consultation.uses_ballots:
        if reader.has_ballot:
            can_do.append(_("Your ballot is being counted; it can no longer be changed."))
        can_do.append(
            _(
                "The ballots are counted by the rule announced before voting: %(rule)s.",
                rule=budgeting.results.RULE_LABELS[consultation.tally_rule],
            )
        )
    else:
        if reader.supports:
            can_do.append(
                ngettext(
                    "Your support for %(num)d proposal is being counted.",
                    "Your supports for %(num)d proposals are being counted.",
                    reader.supports,
                )
            )
        can_do.append(
            _(
                "The moderators rank the proposals by their supports and publish the winners "
                "when the consultation closes."
            )
        )
    return (
        _("Voting has ended. The town is evaluating the results."),
        can_do,
        [Link(Action.READ_PROPOSALS, _("Go to the proposals"))],
    )


def _closed(consultation: Consultation, reader: _Reader) -> _Parts:
    can_do: list[str] = []
    links: list[Link] = []
    if consultation.results_published_at is not None:
        if consultation.uses_ballots:
            can_do.append(_("The results are published: see which projects are funded."))
        else:
            can_do.append(_("The results are published: see which proposals won."))
        links.append(Link(Action.SEE_RESULTS, _("See the results")))
    initiatives = db.session.scalar(
        db.select(db.func.count())
        .select_from(Initiative)
        .where(Initiative.consultation_id == consultation.id)
    )
    if initiatives:
        can_do.append(
            ngettext(
                "%(num)d winning proposal is being carried out as an initiative: follow its "
                "progress.",
                "%(num)d winning proposals are being carried out as initiatives: follow their "
                "progress.",
                initiatives,
            )
        )
        links.append(Link(Action.FOLLOW_INITIATIVES, _("Follow the initiatives")))
    else:
        can_do.append(
            _(
                "Once the town starts carrying out the winning proposals, you can follow their "
                "progress as initiatives."
            )
        )
    return _("This consultation is closed."), can_do, links


def _planned_end(consultation: Consultation) -> date | None:
    """The planned date that ends the current phase (for a draft: the planned opening)."""
    return {
        Phase.DRAFT: consultation.collecting_starts_on,
        Phase.COLLECTING: consultation.voting_starts_on,
        Phase.VOTING: consultation.voting_ends_on,
        Phase.EVALUATING: consultation.results_on,
        Phase.CLOSED: None,
    }[consultation.phase]


def _deadline(phase: Phase, ends_on: date | None, today: date) -> str:
    if phase is Phase.CLOSED:
        return _("No deadline: the results and the initiatives stay online.")
    if ends_on is None:
        return {
            Phase.DRAFT: _("No opening date is planned yet."),
            Phase.COLLECTING: _(
                "No end date is planned yet: proposals can be submitted until the moderators "
                "open voting."
            ),
            Phase.VOTING: _(
                "No end date is planned yet: voting stays open until the moderators close it."
            ),
            Phase.EVALUATING: _("No date is planned for the results yet."),
        }[phase]
    when = formatting.date(ends_on)
    if ends_on < today:
        return {
            Phase.DRAFT: _("Collecting proposals was planned to start on %(date)s.", date=when),
            Phase.COLLECTING: _(
                "Voting was planned to open on %(date)s; until the moderators open it, "
                "proposals can still be submitted.",
                date=when,
            ),
            Phase.VOTING: _(
                "Voting was planned to close on %(date)s; it stays open until the moderators "
                "close it.",
                date=when,
            ),
            Phase.EVALUATING: _(
                "The results were expected on %(date)s; they are published as soon as the "
                "evaluation is finished.",
                date=when,
            ),
        }[phase]
    return {
        Phase.DRAFT: _("Collecting proposals is planned to start on %(date)s.", date=when),
        Phase.COLLECTING: _(
            "You can submit proposals until voting opens, planned for %(date)s.", date=when
        ),
        Phase.VOTING: _("You can vote until %(date)s.", date=when),
        Phase.EVALUATING: _("Results are expected on %(date)s.", date=when),
    }[phase]
