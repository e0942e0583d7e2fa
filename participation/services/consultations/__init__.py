"""Consultations: creating, configuring and finding them (`configuration`, whose names the
package offers), moving them through their phases (`phases`) and the plain-language guidance on
their page (`guidance`).

Other areas import this package, never its modules."""

from __future__ import annotations

from participation.services.consultations import (
    configuration,
    guidance,
    phases,
)
from participation.services.consultations.configuration import (
    BALLOT_SETTINGS,
    GERMAN_TRANSLITERATION,
    MAX_BALLOT_PROJECTS,
    MAX_CATEGORIES,
    PHASE_ORDER,
    ConsultationSettings,
    can_see,
    create,
    get_visible,
    list_visible,
    parse_categories,
    slugify,
    update,
)

__all__ = [
    "BALLOT_SETTINGS",
    "GERMAN_TRANSLITERATION",
    "MAX_BALLOT_PROJECTS",
    "MAX_CATEGORIES",
    "PHASE_ORDER",
    "ConsultationSettings",
    "can_see",
    "configuration",
    "create",
    "get_visible",
    "guidance",
    "list_visible",
    "parse_categories",
    "phases",
    "slugify",
    "update",
]
