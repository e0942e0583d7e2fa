"""Budget ballots: citizens choose projects within the budget while a budget consultation votes.

One ballot per citizen and consultation. The database refuses a second one (unique
consultation and user); the service stores a whole ballot at once, in one transaction, with
the ballot row locked, so that two submits sent at the same moment leave one complete ballot,
the one stored last, never a mix of both. A ballot's random code (generate_code) is given once
and stays when the ballot changes: it is how a citizen finds their ballot in the anonymised
exports. The choices are secret: they are neither audited nor logged.

Where the electorate is voting codes (the town's letters), a ballot belongs to a code instead of
an account (submit_ballot_with_code): the database refuses a second ballot of one code (unique
voting_code_id), the same code changes its ballot until voting closes, and a code whose ballot
was entered on paper is used up. Accounts do not vote there.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from flask_babel import LazyString, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from participation import formatting
from participation.extensions import db
from participation.logs import operation
from participation.models import (
    Ballot,
    BallotChannel,
    BallotChoice,
    Consultation,
    Proposal,
    TallyRule,
    User,
)
from participation.models.base import utcnow
from participation.services import accounts
from participation.services.budgeting import electorate
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from participation.services.limits import parse_id
from participation.services.votes import require_still_voting

log = logging.getLogger(__name__)

# Crockford's alphabet without the letters people confuse (I, L, O, U).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS = 3
CODE_GROUP_LENGTH = 4

# The counting rules in words a citizen understands, shown on the consultation page before and
# during voting (the rule is announced in advance).
RULE_EXPLANATIONS: dict[TallyRule, LazyString] = {
    TallyRule.GREEDY: _l(
        "The projects chosen on the most ballots are funded first. Going down the list, every "
        "project that still fits in the money left is funded; a project that no longer fits "
        "is skipped and the next one is checked."
    ),
    TallyRule.EQUAL_SHARES: _l(
        "The budget is split into equal shares, one for every person who votes, and each "
        "project is paid for from the shares of the people who chose it. So every group of "
        "voters gets projects in proportion to its size, not only the largest group. If money "
        "is left, all shares are raised step by step as long as the result still fits in the "
        "budget."
    ),
    TallyRule.EQUAL_SHARES_GREEDY: _l(
        "The budget is split into equal shares, one for every person who votes, and each "
        "project is paid for from the shares of the people who chose it, so every group of "
        "voters gets projects in proportion to its size. Money left over at the end is spent "
        "on the projects chosen on the most ballots that still fit."
    ),
}

NOT_VOTING = _l("Ballots can only be filled in while the consultation is in the voting phase.")
NO_VOTING_CODES = _l("In this consultation you vote with your account, not with a voting code.")
USED_ON_PAPER = _l("This voting code was already used on a paper ballot.")


# What people type for the letters Crockford's alphabet leaves out.
CODE_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
CODE_LENGTH = CODE_GROUPS * CODE_GROUP_LENGTH


def generate_code() -> str:
    """A random ballot code such as `K7QF-M2XD-9P4T`: 60 bits from `secrets`, never derived
    from the user, so the anonymised ballots cannot be linked back to accounts."""
    return "-".join(
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )


def rule_explanation(consultation: Consultation) -> list[str]:
    """The counting rule in plain words, and the approvals a project needs if there is a
    minimum: one or two paragraphs for the consultation page."""
    paragraphs = [str(RULE_EXPLANATIONS[consultation.tally_rule])]
    if consultation.min_approvals:
        paragraphs.append(
            ngettext(
                "A project must be chosen on at least %(num)d ballot to be funded.",
                "A project must be chosen on at least %(num)d ballots to be funded.",
                consultation.min_approvals,
            )
        )
    return paragraphs


def require_ballots(consultation: Consultation) -> None:
    """Only a budget consultation has a ballot (and ballot codes to look up)."""
    if not consultation.uses_ballots:
        raise NotFound(_l("This consultation has no budget ballot."))


def get_consultation(slug: str, viewer: User | None) -> Consultation:
    """The budget consultation this viewer may see, otherwise NotFound."""
    from participation.services import consultations

    consultation = consultations.get_visible(slug, viewer)
    require_ballots(consultation)
    return consultation


def is_open_for_ballots(consultation: Consultation) -> bool:
    return consultation.uses_ballots and consultation.is_voting


# The projects on the ballot and what a set of choices adds up to


def ballot_projects(consultation: Consultation) -> list[Proposal]:
    """The published proposals with a cost, by category (in the consultation's order, those
    without a category last), then by title."""
    projects = db.session.scalars(
        select(Proposal)
        .options(selectinload(Proposal.category))
        .where(
            Proposal.consultation_id == consultation.id,
            Proposal.is_on_ballot,
        )
    )
    return sorted(
        projects,
        key=lambda p: (
            p.category is None,
            p.category.position if p.category else 0,
            p.title.casefold(),
            p.id,
        ),
    )


@dataclass(frozen=True)
class BallotSummary:
    """What a set of choices adds up to, and everything that keeps it from being stored."""

    chosen: tuple[int, ...]
    used: int
    limit: int
    min_projects: int | None
    max_projects: int | None
    errors: tuple[str, ...] = field(default=())

    @property
    def count(self) -> int:
        return len(self.chosen)

    @property
    def remaining(self) -> int:
        """What is left of the limit; negative when the ballot is over it."""
        return self.limit - self.used

    @property
    def over_by(self) -> int:
        return max(self.used - self.limit, 0)

    @property
    def ok(self) -> bool:
        return not self.errors


def _as_ids(proposal_ids: Iterable[int | str]) -> tuple[list[int], int]:
    """The ids in the order given without repeats, and how many values were not ids at all."""
    ids: list[int] = []
    malformed = 0
    for value in proposal_ids:
        proposal_id = parse_id(str(value))
        if proposal_id is None:
            malformed += 1
        elif proposal_id not in ids:
            ids.append(proposal_id)
    return ids, malformed


def summary(
    consultation: Consultation,
    proposal_ids: Iterable[int | str],
    projects: list[Proposal] | None = None,
) -> BallotSummary:
    """Add up the chosen projects and say what is wrong, in the reader's language: projects not
    on the ballot, a total over the limit (by how much), too few or too many projects."""
    if projects is None:
        projects = ballot_projects(consultation)
    costs = {project.id: project.estimated_cost or 0 for project in projects}
    ids, malformed = _as_ids(proposal_ids)
    chosen = tuple(project_id for project_id in ids if project_id in costs)
    unknown = malformed + len(ids) - len(chosen)
    used = sum(costs[project_id] for project_id in chosen)
    limit = consultation.ballot_limit or 0
    low, high = consultation.ballot_min_projects, consultation.ballot_max_projects
    errors: list[str] = []
    if unknown:
        errors.append(
            ngettext(
                "%(num)d of the chosen projects is not on this ballot (it may have been "
                "withdrawn or hidden). Please choose again from the list.",
                "%(num)d of the chosen projects are not on this ballot (they may have been "
                "withdrawn or hidden). Please choose again from the list.",
                unknown,
            )
        )
    if used > limit:
        money = formatting.money
        errors.append(
            _(
                "Your choices cost %(used)s, %(over)s more than the %(limit)s a ballot may use. "
                "Please untick projects worth at least %(over)s.",
                used=money(used, consultation.currency),
                over=money(used - limit, consultation.currency),
                limit=money(limit, consultation.currency),
            )
        )
    if not chosen and not unknown:
        errors.append(_("Your ballot is empty. Please choose at least one project."))
    elif low is not None and len(chosen) < low:
        errors.append(
            ngettext(
                "Please choose at least %(num)d project: you chose %(count)d, so %(missing)d more.",
                "Please choose at least %(num)d projects: you chose %(count)d, so %(missing)d "
                "more.",
                low,
                count=len(chosen),
                missing=low - len(chosen),
            )
        )
    if high is not None and len(chosen) > high:
        errors.append(
            ngettext(
                "Please choose at most %(num)d project: you chose %(count)d, %(extra)d too many.",
                "Please choose at most %(num)d projects: you chose %(count)d, %(extra)d too many.",
                high,
                count=len(chosen),
                extra=len(chosen) - high,
            )
        )
    return BallotSummary(
        chosen=chosen,
        used=used,
        limit=limit,
        min_projects=low,
        max_projects=high,
        errors=tuple(errors),
    )


class BallotRefused(DomainError):
    """The ballot breaks one or more of its rules; `errors` says every one, nothing is stored."""

    def __init__(self, errors: tuple[str, ...]) -> None:
        super().__init__(" ".join(errors), "projects")
        self.errors = errors


# Reading and storing a citizen's ballot


def get_ballot(consultation: Consultation, user: User | None) -> Ballot | None:
    """The user's ballot in the consultation with its choices, or None."""
    if user is None or not user.is_authenticated:
        return None
    return db.session.scalar(
        select(Ballot)
        .options(selectinload(Ballot.choices))
        .where(Ballot.consultation_id == consultation.id, Ballot.user_id == user.id)
    )


def _require_citizen(user: User | None) -> User:
    if getattr(user, "is_blocked", False):  # checked first: a blocked user is not "active"
        raise NotAllowed(_l("Your account is blocked, so you cannot fill in a ballot."))
    if user is None or not user.is_authenticated:
        raise NotAllowed(_l("Please log in to fill in your ballot."))
    return accounts.require_confirmed(user)


def _require_voting(consultation: Consultation) -> None:
    if not consultation.uses_ballots:
        raise DomainError(
            _l("In this consultation you vote by supporting proposals, not with a ballot.")
        )
    if not consultation.is_voting:
        raise DomainError(NOT_VOTING)


def _locked_ballot(
    consultation_id: int, user_id: int | None = None, *, voting_code_id: int | None = None
) -> Ballot | None:
    """The citizen's ballot (or the voting code's), locked until the end of the transaction.

    PostgreSQL locks the row (a first ballot is guarded by the unique constraint instead).
    SQLite ignores FOR UPDATE, so there a write that changes nothing takes the database's
    write lock first (SQLite has one writer at a time), whether the ballot exists or not.
    """
    owner = (
        Ballot.user_id == user_id
        if voting_code_id is None
        else (Ballot.voting_code_id == voting_code_id)
    )
    mine = (Ballot.consultation_id == consultation_id, owner)
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(Ballot)
            .where(*mine)
            .values(updated_at=Ballot.updated_at)
            .execution_options(synchronize_session=False)
        )
    return db.session.scalar(
        select(Ballot).where(*mine).with_for_update().execution_options(populate_existing=True)
    )


def _store(
    consultation: Consultation, owner: dict[str, int], proposal_ids: list[int | str]
) -> Ballot:
    """Store the whole ballot of `owner` ({"user_id": …} or {"voting_code_id": …})."""
    consultation_id = consultation.id
    ballot = _locked_ballot(consultation_id, **owner)
    require_still_voting(consultation_id, NOT_VOTING)
    if ballot is not None and ballot.is_on_paper:
        raise DomainError(USED_ON_PAPER, "code")
    checked = summary(consultation, proposal_ids)
    if not checked.ok:
        raise BallotRefused(checked.errors)
    if ballot is None:
        ballot = Ballot(
            consultation_id=consultation_id,
            code=generate_code(),
            channel=BallotChannel.ONLINE,
            **owner,
        )
        db.session.add(ballot)
        db.session.flush()  # a ballot sent at the same moment makes this fail: see submit
    else:
        db.session.execute(delete(BallotChoice).where(BallotChoice.ballot_id == ballot.id))
    db.session.execute(
        insert(BallotChoice),
        [{"ballot_id": ballot.id, "proposal_id": project_id} for project_id in checked.chosen],
    )
    ballot.submitted_at = utcnow()
    db.session.flush()
    db.session.expire(ballot, ["choices"])
    return ballot


def _stored_with_retry(
    consultation: Consultation,
    owner: Callable[[], dict[str, int]],
    proposal_ids: Iterable[int | str],
    actor_id: int | None,
) -> Ballot:
    """Store and commit the whole ballot of `owner()` (an account's or a voting code's). A first
    ballot of the same owner stored at the same moment by another request (or, very rarely, a
    random ballot code that is taken) makes the unique constraint fail: once more, now changing
    that ballot. A refusal rolls back, so nothing is stored."""
    wanted = list(proposal_ids)
    for attempt in range(2):
        try:
            ballot = _store(consultation, owner(), wanted)
            db.session.commit()
            # The ballot by its id only: never a code, never its choices.
            operation(
                log, "ballot.submitted", actor=actor_id, subject=ballot, consultation=consultation
            )
            return ballot
        except IntegrityError:
            db.session.rollback()
            if attempt:
                raise
        except DomainError:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def submit_ballot(
    consultation: Consultation, user: User | None, proposal_ids: Iterable[int | str]
) -> Ballot:
    """Store the citizen's whole ballot, replacing the one they had; repeats count once.

    Refused with every reason (BallotRefused) and nothing stored when a project is not on
    the ballot, the total is over the limit, or there are too few or too many projects.
    Who may vote with an account is electorate.require_may_vote's (where residents vote
    with voting codes, no account does).
    """
    user = _require_citizen(user)
    _require_voting(consultation)
    electorate.require_may_vote(consultation, user)
    user_id = user.id
    return _stored_with_retry(consultation, lambda: {"user_id": user_id}, proposal_ids, user_id)


# Voting with the code of the town's letter, without an account


def votes_with_codes(consultation: Consultation) -> bool:
    """A budget consultation whose residents vote with the codes of the town's letters."""
    return consultation.uses_voting_codes


def _require_code_voting(consultation: Consultation) -> None:
    if not consultation.uses_ballots:
        raise NotFound(_l("This consultation has no budget ballot."))
    if not consultation.uses_voting_codes:
        raise DomainError(NO_VOTING_CODES)


def ballot_for_code(consultation: Consultation, code_text: str | None) -> Ballot | None:
    """The ballot of this voting code with its choices, None before its first use; the code's
    refusals (electorate.find_code) otherwise, and USED_ON_PAPER for a code used on paper."""
    _require_code_voting(consultation)
    code = electorate.find_code(consultation, code_text)
    ballot = db.session.scalar(
        select(Ballot)
        .options(selectinload(Ballot.choices))
        .where(Ballot.consultation_id == consultation.id, Ballot.voting_code_id == code.id)
    )
    if ballot is not None and ballot.is_on_paper:
        raise DomainError(USED_ON_PAPER, "code")
    return ballot


def submit_ballot_with_code(
    consultation: Consultation, code_text: str | None, proposal_ids: Iterable[int | str]
) -> Ballot:
    """Store the whole ballot of a voting code, replacing the one it had, while voting.

    Refused, and nothing stored, for a code that cannot vote here (electorate.find_code says
    why: not a code, a typo, unknown, another consultation's, revoked), a code used on paper,
    outside voting, and for the ballot's own rules (BallotRefused). Two first uses of one code
    at the same moment leave one ballot: the unique voting_code_id refuses the second, which
    then changes the first.
    """
    _require_code_voting(consultation)
    if not consultation.is_voting:
        raise DomainError(NOT_VOTING)

    def owner() -> dict[str, int]:
        return {"voting_code_id": electorate.find_code(consultation, code_text).id}

    return _stored_with_retry(consultation, owner, proposal_ids, None)


def chosen_ids(ballot: Ballot | None) -> frozenset[int]:
    return frozenset(choice.proposal_id for choice in ballot.choices) if ballot else frozenset()


# Finding a ballot by its code, once voting is over


def normalise_code(text: str | None) -> str | None:
    """A ballot code as it is stored (`K7QF-M2XD-9P4T`), from what a person typed: any case,
    with or without dashes and spaces, O for 0 and I or L for 1; None if it cannot be one."""
    compact = "".join((text or "").split()).replace("-", "").upper().translate(CODE_LOOK_ALIKES)
    if len(compact) != CODE_LENGTH or any(char not in CODE_ALPHABET for char in compact):
        return None
    return "-".join(
        compact[start : start + CODE_GROUP_LENGTH]
        for start in range(0, CODE_LENGTH, CODE_GROUP_LENGTH)
    )


@dataclass(frozen=True)
class BallotLine:
    project: Proposal
    # The final outcome once the result is known to the reader (None before).
    funded: bool | None


@dataclass(frozen=True)
class BallotContent:
    """A ballot as anybody may see it by its code: the projects on it, nothing about the
    person (no name, no time of voting)."""

    code: str
    lines: tuple[BallotLine, ...]
    shows_outcome: bool  # the result is known to the reader

    @property
    def funded_count(self) -> int:
        return sum(1 for line in self.lines if line.funded)


def counted_projects(ballot: Ballot) -> list[Proposal]:
    """The projects of the ballot that the count sees (as in the anonymised ballots export):
    published proposals with a cost, in the order of the projects (oldest first)."""
    return list(
        db.session.scalars(
            select(Proposal)
            .join(BallotChoice, BallotChoice.proposal_id == Proposal.id)
            .where(
                BallotChoice.ballot_id == ballot.id,
                Proposal.is_on_ballot,
            )
            .order_by(Proposal.created_at, Proposal.id)
        )
    )


def content_of(ballot: Ballot, with_outcome: bool) -> BallotContent:
    """What the ballot holds; with the final outcome of each project when `with_outcome`
    (results published, or a moderator's preview)."""
    return BallotContent(
        code=ballot.code,
        lines=tuple(
            BallotLine(project, project.selected if with_outcome else None)
            for project in counted_projects(ballot)
        ),
        shows_outcome=with_outcome,
    )


def own_content(consultation: Consultation, user: User | None, with_outcome: bool):
    """The logged-in voter's own ballot as BallotContent, or None (no ballot, no account)."""
    ballot = get_ballot(consultation, user) if consultation.uses_ballots else None
    return content_of(ballot, with_outcome) if ballot is not None else None


def is_over(consultation: Consultation) -> bool:
    """Voting has ended: ballots can be looked up by their code from now on."""
    return consultation.uses_ballots and consultation.voting_has_ended


def find_by_code(consultation: Consultation, text: str | None) -> Ballot:
    """The consultation's ballot with this code. Refused while voting is open (a code is only
    looked up to check a count), for a code that cannot be one, and for one nobody holds."""
    if not consultation.uses_ballots:
        raise NotFound(_l("This consultation has no budget ballot."))
    if not is_over(consultation):
        raise DomainError(_l("Ballots can be looked up by their code once voting has closed."))
    code = normalise_code(text)
    if code is None:
        raise ValidationFailed(
            {
                "code": _l(
                    "A ballot code has 12 letters and digits, such as K7QF-M2XD-9P4T. "
                    "Please check what you typed."
                )
            }
        )
    ballot = db.session.scalar(
        select(Ballot).where(Ballot.consultation_id == consultation.id, Ballot.code == code)
    )
    if ballot is None:
        raise NotFound(_l("No ballot of this consultation has this code. Please check it."))
    return ballot
