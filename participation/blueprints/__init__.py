"""Blueprints, one module (or package) per area. Views stay thin: parse, call a service, render."""

from __future__ import annotations

from flask import Flask


def no_store(page: str, status: int = 200):
    """A page kept out of caches and the browser's history: reached through a token link, or
    showing what only the person who asked may see."""
    return page, status, {"Cache-Control": "no-store"}


def register(app: Flask) -> None:
    from participation.blueprints import (
        accounts,
        ballots,
        comments,
        consultations,
        electorate,
        errors,
        exports,
        follows,
        initiatives,
        main,
        moderation,
        notifications,
        paper,
        profiles,
        proposals,
        results,
        votes,
    )

    for area in (
        main, accounts, consultations, proposals, comments, votes, ballots, paper, electorate,
        moderation, results, initiatives, exports, profiles, follows, notifications, errors,
    ):  # fmt: skip
        app.register_blueprint(area.bp)
