"""The demo's closing hint points to read-only commands: its sandboxes are gone once it ends
and its database has no config, so cash resolved there would be applied in arsync only."""

from __future__ import annotations

from sync.demo import next_steps


def test_the_closing_hint_invites_no_resolve_against_the_demo_database() -> None:
    told, command = next_steps("sqlite:///var/demo/arsync.db")
    invited = told.split(" to look at it with ")[1].split(" (")[0]
    assert invited == "status, outbox or report"
    assert "applied in arsync only" in told and "no system is configured to write to" in told
    assert command.strip().endswith("arsync status")
