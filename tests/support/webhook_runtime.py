"""A runtime for webhook tests on either backend, with the webhook settings a test signs with."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.runtime import Runtime
from sync.settings import load_settings


def webhook_runtime(
    request: pytest.FixtureRequest, tmp_path: Path, webhooks: dict[str, Any]
) -> Iterator[Runtime]:
    """For a fixture parametrised ``sqlite`` / ``postgres``: a runtime on that backend
    (PostgreSQL skipped with the reason when unreachable) with these webhook settings."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'webhooks.db'}"
    else:
        url = request.getfixturevalue("pg_store").engine.url.render_as_string(hide_password=False)
    runtime = Runtime.open(load_settings(None, database_url=url, webhooks=webhooks))
    yield runtime
    runtime.close()
