"""participation: a web application for digital participation.

`create_app` lists what the application is made of; each part lives in its own module.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from config import CONFIGS, ProductionConfig
from participation import blueprints, extensions, i18n, logs, security, templating
from participation.blueprints import accounts, limits
from participation.cli import register_commands
from participation.services import mail

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH", os.path.join(PROJECT_ROOT, "instance")),
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
        static_folder=os.path.join(PROJECT_ROOT, "static"),
    )
    _load_config(app, test_config)
    extensions.init_app(app, PROJECT_ROOT)  # database, migrations, CSRF, rate limits
    i18n.install(app, PROJECT_ROOT)  # the language of each page
    accounts.install_login(app)  # who the login cookies name
    limits.install(app)  # what a request may bring before any view sees it
    blueprints.register(app)  # the areas' pages, and the error pages
    templating.install(app)  # filters and globals of every template
    security.install(app)  # response headers
    register_commands(app)  # flask seed, users, mail, pb, doctor …
    mail.deliver_in_process(app)  # development only: the outbox without `flask mail send`
    logs.configure(app)  # operational logs: text in development, JSON lines in production
    return app


def _load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    env = os.environ.get("APP_ENV", "development")
    if env not in CONFIGS:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}, not {env!r}.")
    app.config.from_object(CONFIGS[env])
    if test_config:
        app.config.update(test_config)
    if env == "production":
        ProductionConfig.check(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
