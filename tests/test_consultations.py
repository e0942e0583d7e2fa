"""The consultations service: creating, editing and finding consultations."""

from __future__ import annotations

from datetime import date

import pytest

from participation.extensions import db
from participation.models import AuditEvent, Category, Consultation, Phase, User, VotingMethod
from participation.services import consultations
from participation.services.consultations import ConsultationSettings
from participation.services.errors import NotAllowed, NotFound, ValidationFailed
from tests.helpers import attached


def settings(**overrides) -> ConsultationSettings:
    values = {
        "title": "Ideas for the old town",
        "summary": "What should change in the old town?",
        "description": "Tell us **what** you would change.",
        "categories": ["Mobility", "Green spaces"],
    }
    return ConsultationSettings(**(values | overrides))


def consultation_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Consultation))


def switch_to_budget_voting(created: Consultation, actor: User) -> None:
    consultations.update(
        attached(Consultation, created),
        settings(voting_method=VotingMethod.BUDGET, budget=10_000),
        actor,
    )


def test_moderator_creates_a_consultation_with_what_they_filled_in(moderator):
    created = consultations.create(
        settings(
            budget=50_000,
            voting_method=VotingMethod.BUDGET,
            collecting_starts_on=date(2027, 3, 1),
            voting_starts_on=date(2027, 4, 1),
            voting_ends_on=date(2027, 4, 30),
            results_on=date(2027, 5, 15),
        ),
        moderator,
    )
    db.session.expire_all()
    stored = db.session.get(Consultation, created.id)
    assert (stored.title, stored.summary, stored.description) == (
        "Ideas for the old town",
        "What should change in the old town?",
        "Tell us **what** you would change.",
    )
    assert (stored.budget, stored.voting_method) == (50_000, VotingMethod.BUDGET)
    assert (
        stored.collecting_starts_on,
        stored.voting_starts_on,
        stored.voting_ends_on,
        stored.results_on,
    ) == (date(2027, 3, 1), date(2027, 4, 1), date(2027, 4, 30), date(2027, 5, 15))
    assert stored.created_by_id == moderator.id


def test_new_consultation_starts_as_draft(moderator):
    created = consultations.create(settings(), moderator)
    assert db.session.get(Consultation, created.id).phase is Phase.DRAFT


def test_categories_are_read_one_per_line_without_blanks_or_repeats():
    text = "Mobility\n\n  Green   spaces \nmobility\r\nCulture\n"
    assert consultations.parse_categories(text) == ["Mobility", "Green spaces", "Culture"]


def test_categories_are_stored_in_the_order_given(moderator):
    created = consultations.create(settings(categories=["Culture", "Mobility", "Sport"]), moderator)
    names = db.session.scalars(
        db.select(Category.name)
        .where(Category.consultation_id == created.id)
        .order_by(Category.position)
    ).all()
    assert names == ["Culture", "Mobility", "Sport"]


def test_two_consultations_with_the_same_title_get_different_slugs(moderator):
    first = consultations.create(settings(title="Playgrounds 2027"), moderator)
    second = consultations.create(settings(title="Playgrounds 2027"), moderator)
    assert first.slug == "playgrounds-2027"
    assert second.slug != first.slug
    assert second.slug.startswith("playgrounds-2027")


def test_slug_transliterates_umlauts_and_sharp_s(moderator):
    created = consultations.create(settings(title="Grünflächen für Straßen in Köln"), moderator)
    assert created.slug == "gruenflaechen-fuer-strassen-in-koeln"


def test_slug_transliterates_decomposed_umlauts():
    assert consultations.slugify("Bu\u0308rgerhaushalt") == "buergerhaushalt"


def test_creating_a_consultation_writes_an_audit_event(moderator):
    created = consultations.create(settings(), moderator)
    events = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.consultation_id == created.id)
    ).all()
    assert [(e.action, e.actor_id, e.subject_id, e.to_value) for e in events] == [
        ("consultation.created", moderator.id, created.id, "draft")
    ]


def test_citizen_cannot_create_a_consultation(citizen):
    with pytest.raises(NotAllowed):
        consultations.create(settings(), citizen)
    assert consultation_count() == 0


def test_nobody_logged_in_cannot_create_a_consultation(ctx):
    with pytest.raises(NotAllowed):
        consultations.create(settings(), None)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        pytest.param(
            {"voting_method": VotingMethod.BUDGET, "budget": None},
            "budget",
            id="budget-voting-without-a-budget",
        ),
        pytest.param({"budget": 0}, "budget", id="budget-below-one"),
        pytest.param(
            {"collecting_starts_on": date(2027, 5, 1), "voting_starts_on": date(2027, 4, 1)},
            "voting_starts_on",
            id="planned-dates-out-of-phase-order",
        ),
        pytest.param(
            {"collecting_starts_on": date(2027, 5, 1), "results_on": date(2027, 1, 1)},
            "results_on",
            id="planned-dates-compared-across-gaps",
        ),
    ],
)
def test_invalid_settings_are_refused_at_the_field_and_nothing_is_stored(
    moderator, overrides, field
):
    with pytest.raises(ValidationFailed) as refused:
        consultations.create(settings(**overrides), moderator)
    assert set(refused.value.errors) == {field}
    assert consultation_count() == 0


def test_edit_changes_the_consultation_and_is_audited(factory, moderator):
    consultation = attached(Consultation, factory.consultation(phase=Phase.COLLECTING))
    consultations.update(
        consultation, settings(title="Better title", summary="New summary", budget=9_000), moderator
    )
    db.session.expire_all()
    stored = db.session.get(Consultation, consultation.id)
    assert (stored.title, stored.summary, stored.budget) == ("Better title", "New summary", 9_000)
    actions = db.session.scalars(
        db.select(AuditEvent.action).where(AuditEvent.consultation_id == consultation.id)
    ).all()
    assert actions == ["consultation.edited"]


def test_edit_keeps_the_ids_of_categories_whose_names_stay(factory, moderator):
    created = factory.consultation(phase=Phase.DRAFT, categories=("Mobility", "Culture"))
    consultation = attached(Consultation, created)
    before = {category.name: category.id for category in consultation.categories}
    consultations.update(
        consultation, settings(categories=["Sport", "Culture", "Mobility"]), moderator
    )
    db.session.expire_all()
    after = {
        category.name: (category.id, category.position)
        for category in db.session.get(Consultation, created.id).categories
    }
    assert after["Mobility"] == (before["Mobility"], 2)
    assert after["Culture"] == (before["Culture"], 1)
    assert after["Sport"][0] not in before.values()


def test_edit_removes_categories_left_out(factory, moderator):
    created = factory.consultation(phase=Phase.DRAFT, categories=("Mobility", "Culture"))
    consultations.update(
        attached(Consultation, created), settings(categories=["Culture"]), moderator
    )
    names = db.session.scalars(
        db.select(Category.name).where(Category.consultation_id == created.id)
    ).all()
    assert names == ["Culture"]


def test_voting_method_cannot_change_after_draft(factory, moderator):
    created = factory.consultation(phase=Phase.COLLECTING, voting_method=VotingMethod.SUPPORT)
    with pytest.raises(ValidationFailed) as refused:
        switch_to_budget_voting(created, moderator)
    assert set(refused.value.errors) == {"voting_method"}
    db.session.rollback()
    assert db.session.get(Consultation, created.id).voting_method is VotingMethod.SUPPORT


def test_voting_method_can_change_while_draft(factory, moderator):
    created = factory.consultation(phase=Phase.DRAFT, voting_method=VotingMethod.SUPPORT)
    switch_to_budget_voting(created, moderator)
    db.session.expire_all()
    assert db.session.get(Consultation, created.id).voting_method is VotingMethod.BUDGET


def test_citizen_cannot_edit_a_consultation(factory, citizen):
    created = factory.consultation(title="Original")
    with pytest.raises(NotAllowed):
        consultations.update(attached(Consultation, created), settings(title="Hijacked"), citizen)
    db.session.rollback()
    assert db.session.get(Consultation, created.id).title == "Original"


@pytest.mark.parametrize("viewer_role", ["visitor", "citizen"])
def test_draft_is_not_found_for_visitors_and_citizens(factory, ctx, viewer_role):
    viewer = attached(User, factory.user()) if viewer_role == "citizen" else None
    draft = factory.consultation(phase=Phase.DRAFT)
    with pytest.raises(NotFound):
        consultations.get_visible(draft.slug, viewer)


def test_draft_is_found_for_moderators(factory, moderator):
    draft = factory.consultation(phase=Phase.DRAFT)
    assert consultations.get_visible(draft.slug, moderator).id == draft.id


@pytest.mark.parametrize("viewer_role", ["visitor", "citizen"])
def test_drafts_are_left_out_of_the_list_for_visitors_and_citizens(factory, ctx, viewer_role):
    viewer = attached(User, factory.user()) if viewer_role == "citizen" else None
    public = factory.consultation(phase=Phase.COLLECTING)
    factory.consultation(phase=Phase.DRAFT)
    assert [c.id for c in consultations.list_visible(viewer)] == [public.id]


def test_drafts_are_listed_for_moderators(factory, moderator):
    public = factory.consultation(phase=Phase.COLLECTING)
    draft = factory.consultation(phase=Phase.DRAFT)
    assert {c.id for c in consultations.list_visible(moderator)} == {public.id, draft.id}


def test_open_consultations_are_listed_first(factory, ctx):
    closed = factory.consultation(phase=Phase.CLOSED)
    voting = factory.consultation(phase=Phase.VOTING)
    collecting = factory.consultation(phase=Phase.COLLECTING)
    evaluating = factory.consultation(phase=Phase.EVALUATING)
    listed = [c.id for c in consultations.list_visible(None)]
    assert listed == [collecting.id, voting.id, evaluating.id, closed.id]
