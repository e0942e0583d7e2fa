"""Consultations: creating, configuring and finding them."""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

from flask_babel import lazy_gettext as _l

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    Category,
    Consultation,
    Electorate,
    Phase,
    TallyRule,
    User,
    VotingMethod,
)
from participation.services import audit, budgeting
from participation.services.errors import NotAllowed, NotFound, ValidationFailed

log = logging.getLogger(__name__)

MAX_CATEGORIES = 30
MAX_BALLOT_PROJECTS = 1000
# Announced before voting: a budget ballot's limits and the counting rule. Changing them once
# citizens vote would change the rules of a running vote, so they freeze when voting opens.
BALLOT_SETTINGS = (
    "ballot_min_projects",
    "ballot_max_projects",
    "ballot_max_share",
    "tally_rule",
    "min_approvals",
)


@dataclass
class ConsultationSettings:
    """What a moderator fills in when creating or editing a consultation."""

    title: str
    summary: str = ""
    description: str = ""
    categories: list[str] = field(default_factory=list)
    budget: int | None = None
    currency: str = "EUR"
    voting_method: VotingMethod = VotingMethod.SUPPORT
    max_supports: int | None = None
    ballot_min_projects: int | None = None
    ballot_max_projects: int | None = None
    ballot_max_share: int | None = None
    tally_rule: TallyRule = TallyRule.GREEDY
    min_approvals: int | None = None
    # Who may vote, announced on the consultation's page; frozen once voting opens.
    electorate: Electorate = Electorate.OPEN
    min_voting_age: int | None = None
    collecting_starts_on: date | None = None
    voting_starts_on: date | None = None
    voting_ends_on: date | None = None
    results_on: date | None = None


GERMAN_TRANSLITERATION = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ẞ": "SS"}
)


def slugify(text: str) -> str:
    """German umlauts as ae/oe/ue (as in the demo slugs), other accents dropped."""
    composed = unicodedata.normalize("NFC", text).translate(GERMAN_TRANSLITERATION)
    normalised = unicodedata.normalize("NFKD", composed)
    ascii_text = normalised.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:60].rstrip("-") or "consultation"


def _unique_slug(title: str) -> str:
    base = slugify(title)
    slug, suffix = base, 2
    while db.session.scalar(db.select(Consultation.id).where(Consultation.slug == slug)):
        slug = f"{base}-{suffix}"
        suffix += 1
    return slug


def parse_categories(text: str) -> list[str]:
    """One category a line (or comma-separated); blanks and repeats dropped, order kept."""
    names: list[str] = []
    for raw in re.split(r"[\n,]", text or ""):
        name = " ".join(raw.split())
        if name and name.casefold() not in {n.casefold() for n in names}:
            names.append(name)
    return names


def _check(settings: ConsultationSettings, consultation: Consultation | None) -> None:
    errors: dict = {}
    if not settings.title.strip():
        errors["title"] = _l("Please enter a title.")
    if settings.budget is not None and settings.budget <= 0:
        errors["budget"] = _l("The budget must be a positive amount.")
    if settings.voting_method is VotingMethod.BUDGET and settings.budget is None:
        errors["budget"] = _l("A consultation that votes on a budget needs a budget.")
    if (
        consultation is not None
        and consultation.is_public
        and settings.voting_method is not consultation.voting_method
    ):
        errors["voting_method"] = _l("The voting method can only be changed while in draft.")
    if settings.max_supports is not None:
        if settings.max_supports < 1:
            errors["max_supports"] = _l("Please enter a number of at least 1.")
        elif settings.voting_method is not VotingMethod.SUPPORT:
            errors["max_supports"] = _l(
                "A limit of supports only applies to the support voting method."
            )
    if (
        consultation is not None
        and not consultation.is_before_voting
        and settings.max_supports != consultation.max_supports
    ):
        errors["max_supports"] = _l(
            "The limit of supports can only be changed before voting opens."
        )
    _check_ballot(settings, consultation, errors)
    budgeting.electorate.check_settings(
        settings.electorate,
        settings.min_voting_age,
        settings.voting_method is VotingMethod.BUDGET,
        consultation,
        errors,
    )
    if len(settings.categories) > MAX_CATEGORIES:
        errors["categories"] = _l("At most %(count)d categories.", count=MAX_CATEGORIES)
    if any(len(name) > 80 for name in settings.categories):
        errors["categories"] = _l("A category name may have at most 80 characters.")
    dates = [
        ("collecting_starts_on", settings.collecting_starts_on),
        ("voting_starts_on", settings.voting_starts_on),
        ("voting_ends_on", settings.voting_ends_on),
        ("results_on", settings.results_on),
    ]
    planned = [(name, value) for name, value in dates if value is not None]
    for (_, earlier), (later_name, later) in pairwise(planned):
        if later < earlier:
            errors[later_name] = _l("The planned dates must follow the order of the phases.")
            break
    if errors:
        raise ValidationFailed(errors)


def _check_ballot(
    settings: ConsultationSettings, consultation: Consultation | None, errors: dict
) -> None:
    """The budget ballot's limits and the counting rule: in range, only for budget voting,
    and changed only before voting opens."""
    low, high = settings.ballot_min_projects, settings.ballot_max_projects
    for name, value in (("ballot_min_projects", low), ("ballot_max_projects", high)):
        if value is not None and not 1 <= value <= MAX_BALLOT_PROJECTS:
            errors[name] = _l(
                "Please enter a number between 1 and %(max)d.", max=MAX_BALLOT_PROJECTS
            )
    both = low is not None and high is not None
    if both and "ballot_max_projects" not in errors and low > high:
        errors["ballot_max_projects"] = _l(
            "The maximum number of projects cannot be smaller than the minimum."
        )
    share = settings.ballot_max_share
    if share is not None and not 1 <= share <= 100:
        errors["ballot_max_share"] = _l("Please enter a percentage between 1 and 100.")
    if settings.min_approvals is not None and settings.min_approvals < 1:
        errors["min_approvals"] = _l("Please enter a number of at least 1.")
    if settings.voting_method is not VotingMethod.BUDGET:
        for name in ("ballot_min_projects", "ballot_max_projects", "ballot_max_share"):
            if getattr(settings, name) is not None:
                errors.setdefault(
                    name, _l("The limits of a ballot only apply to the budget voting method.")
                )
        if settings.min_approvals is not None:
            errors.setdefault(
                "min_approvals",
                _l("A minimum number of approvals only applies to the budget voting method."),
            )
    if consultation is None or consultation.is_before_voting:
        return
    frozen = list(BALLOT_SETTINGS)
    if consultation.uses_ballots:
        frozen.append("budget")  # the ballots already cast were filled in within it
    for name in frozen:
        if getattr(settings, name) != getattr(consultation, name):
            errors[name] = _l(
                "This can no longer be changed: the budget, the limits of a ballot and the "
                "counting rule are announced before voting opens and stay as announced."
            )


def _apply(consultation: Consultation, settings: ConsultationSettings) -> None:
    consultation.title = settings.title.strip()
    consultation.summary = settings.summary.strip()
    consultation.description = settings.description.strip()
    consultation.budget = settings.budget
    consultation.currency = settings.currency
    consultation.voting_method = settings.voting_method
    consultation.max_supports = settings.max_supports
    for name in BALLOT_SETTINGS:
        setattr(consultation, name, getattr(settings, name))
    consultation.electorate = settings.electorate
    consultation.min_voting_age = settings.min_voting_age
    consultation.collecting_starts_on = settings.collecting_starts_on
    consultation.voting_starts_on = settings.voting_starts_on
    consultation.voting_ends_on = settings.voting_ends_on
    consultation.results_on = settings.results_on

    existing = {category.name.casefold(): category for category in consultation.categories}
    kept: list[Category] = []
    for position, name in enumerate(settings.categories):
        category = existing.pop(name.casefold(), None) or Category(name=name)
        category.name = name
        category.position = position
        kept.append(category)
    # Categories dropped from the list disappear; their proposals keep no category.
    consultation.categories = kept


def create(settings: ConsultationSettings, actor: User) -> Consultation:
    _require_moderator(actor)
    _check(settings, None)
    consultation = Consultation(slug=_unique_slug(settings.title), created_by=actor)
    _apply(consultation, settings)
    db.session.add(consultation)
    db.session.flush()
    audit.record_for_consultation(
        consultation, actor, "consultation.created", to_value=consultation.phase.value
    )
    db.session.commit()
    operation(log, "consultation.created", actor=actor, subject=consultation)
    return consultation


def update(consultation: Consultation, settings: ConsultationSettings, actor: User) -> Consultation:
    _require_moderator(actor)
    _check(settings, consultation)
    _apply(consultation, settings)
    audit.record_for_consultation(consultation, actor, "consultation.edited")
    db.session.commit()
    operation(log, "consultation.edited", actor=actor, subject=consultation)
    return consultation


def _require_moderator(actor: User | None) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_moderator:
        raise NotAllowed(_l("Only moderators can manage consultations."))


def can_see(consultation: Consultation, viewer: User | None) -> bool:
    """Drafts are visible to moderators only."""
    if consultation.is_public:
        return True
    return bool(viewer is not None and viewer.is_authenticated and viewer.is_moderator)


def get_visible(slug: str, viewer: User | None) -> Consultation:
    consultation = db.session.scalar(db.select(Consultation).where(Consultation.slug == slug))
    if consultation is None or not can_see(consultation, viewer):
        raise NotFound(_l("This consultation does not exist."))
    return consultation


PHASE_ORDER = {phase: index for index, phase in enumerate(Phase)}


def list_visible(viewer: User | None) -> list[Consultation]:
    """Open consultations first (collecting, voting), then the rest; drafts for moderators only."""
    query = db.select(Consultation)
    if not (viewer is not None and viewer.is_authenticated and viewer.is_moderator):
        query = query.where(Consultation.is_public)
    consultations = list(db.session.scalars(query.order_by(Consultation.created_at.desc())))
    open_first = {Phase.COLLECTING: 0, Phase.VOTING: 1, Phase.DRAFT: 2, Phase.EVALUATING: 3}
    return sorted(consultations, key=lambda c: open_first.get(c.phase, 4))
