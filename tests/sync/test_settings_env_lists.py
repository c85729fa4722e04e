"""Lists and tables under [system_of_record] given in the environment: a priority list is a
JSON list or names separated by commas; any other value that must be JSON is one
``config error:`` line naming its variable (never a pydantic-settings traceback); one field
under two spellings is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sync.cli import app
from sync.settings import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _no_arsync_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("ARSYNC_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("value", "systems"),
    [
        ("quickbooks", ["quickbooks"]),
        ("quickbooks,intacct", ["quickbooks", "intacct"]),
        (" quickbooks , intacct ", ["quickbooks", "intacct"]),
        ('["intacct","quickbooks"]', ["intacct", "quickbooks"]),
    ],
)
def test_a_priority_list_from_the_environment_is_json_or_comma_separated(
    monkeypatch: pytest.MonkeyPatch, value: str, systems: list[str]
) -> None:
    monkeypatch.setenv("ARSYNC_SYSTEM_OF_RECORD__DEFAULT", value)
    monkeypatch.setenv("ARSYNC_PUSH__SYSTEMS", value)
    monkeypatch.setenv("ARSYNC_SYSTEM_OF_RECORD__OBJECTS__INVOICE", value)
    settings = load_settings(None)
    assert settings.system_of_record.default == systems
    assert settings.push.systems == systems
    assert settings.system_of_record.objects["invoice"] == systems


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        (
            "ARSYNC_SYSTEM_OF_RECORD__FIELDS",
            "customer.email=salesforce",
            "config error: system_of_record.fields: not a JSON object such as "
            '{"customer.email": ["salesforce","invoiced"]} '
            "(from ARSYNC_SYSTEM_OF_RECORD__FIELDS)",
        ),
        (
            "ARSYNC_SYSTEM_OF_RECORD__OBJECTS",
            "invoice=intacct",
            "config error: system_of_record.objects: not a JSON object such as "
            '{"invoice": ["intacct","quickbooks"]} (from ARSYNC_SYSTEM_OF_RECORD__OBJECTS)',
        ),
        (
            "ARSYNC_WEBHOOKS__STRIPE_SECRETS",
            "whsec_not_shown",
            'config error: webhooks.stripe_secrets: not a JSON list such as ["whsec_..."] '
            "(from ARSYNC_WEBHOOKS__STRIPE_SECRETS)",
        ),
        (
            "ARSYNC_SYSTEM_OF_RECORD__DEFAULT",
            '["quickbooks"',
            "config error: system_of_record.default: not a JSON list: "
            '["quickbooks"; write ["quickbooks","intacct"] or quickbooks,intacct '
            "(from ARSYNC_SYSTEM_OF_RECORD__DEFAULT)",
        ),
        (
            "ARSYNC_SYSTEM_OF_RECORD__DEFAULT",
            "quickbooks,intact",
            "config error: system_of_record.default: unknown system 'intact'; known: "
            "quickbooks, intacct, invoiced, salesforce (from ARSYNC_SYSTEM_OF_RECORD__DEFAULT)",
        ),
    ],
)
def test_a_value_that_is_not_json_is_one_line_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, error: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(None)
    assert str(caught.value) == error
    assert "whsec_not_shown" not in str(caught.value)


def test_every_command_exits_2_with_the_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARSYNC_SYSTEM_OF_RECORD__FIELDS", "customer.email=salesforce")
    result = CliRunner().invoke(app, ["report"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "SettingsError" not in result.output
    assert "(from ARSYNC_SYSTEM_OF_RECORD__FIELDS)" in result.output


def test_one_field_under_two_spellings_is_refused_naming_both(tmp_path: Path) -> None:
    config = tmp_path / "arsync.toml"
    config.write_text(
        "[system_of_record.fields]\n"
        '"invoice.balance" = ["intacct"]\n'
        '"invoice.balance_minor" = ["salesforce"]\n'
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert str(caught.value) == (
        "config error: system_of_record.fields: 'invoice.balance' and "
        "'invoice.balance_minor' are the same field; keep one"
    )


def test_one_spelling_of_a_field_still_works(tmp_path: Path) -> None:
    config = tmp_path / "arsync.toml"
    config.write_text(
        '[system_of_record.fields]\n"invoice.balance" = ["intacct"]\n'
        '"invoice.total_minor" = ["salesforce"]\n'
    )
    fields = load_settings(config).system_of_record.fields
    assert fields == {"invoice.balance_minor": ["intacct"], "invoice.total_minor": ["salesforce"]}
