"""The app on the demo data, served by werkzeug from a thread on 127.0.0.1.

For scripts that need the real pages of the demo in a real browser (scripts/screenshots.py):
a throwaway SQLite file, migrated and loaded with seeds/demo.yaml, and a server on a free port
that stops when the `with` block ends. Not for production: `make run` and gunicorn are.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import make_server

from participation import PROJECT_ROOT, create_app
from participation.services import seeding

DEMO_SEEDS = Path(PROJECT_ROOT) / "seeds" / "demo.yaml"


def demo_app(database: Path, **settings: Any) -> Flask:
    """The app (CSRF on, as in production) on `database`, migrated and loaded with the demo."""
    app = create_app(
        {
            "SECRET_KEY": secrets.token_hex(16),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            # The server answers a browser's parallel requests from several threads.
            "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"timeout": 30}},
            "RATELIMIT_ENABLED": False,
            **settings,
        }
    )
    with app.app_context():
        upgrade()
        seeding.load_file(DEMO_SEEDS)
    return app


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """Serve `app` on a free port of 127.0.0.1; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-demo", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
