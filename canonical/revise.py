"""Write a new schema migration from the difference between the models and the migrations.

python -m canonical.revise "add webhook events"
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command

from canonical.store import alembic_config, make_engine


def revise(message: str) -> None:
    """Autogenerate a migration against a scratch database built from the existing ones."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'scratch.db'}")
        cfg = alembic_config(engine)
        command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True)
        engine.dispose()


if __name__ == "__main__":
    revise(" ".join(sys.argv[1:]) or "schema change")
