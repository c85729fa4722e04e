"""Money-relevant settings are checked: a misspelt system, object, field or currency is one
config error line naming the key and what is allowed, never a silent change of who wins."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sync.settings import ConfigError, load_settings

KNOWN = "known: quickbooks, intacct, invoiced, salesforce"


def _config(tmp_path: Path, text: str) -> Path:
    config = tmp_path / "arsync.toml"
    config.write_text(text, encoding="utf-8")
    return config


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(_config(tmp_path, text))
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_a_misspelt_system_of_record_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, '[system_of_record.objects]\ninvoice = ["quickbook", "intacct"]\n')
    assert message == (
        f"config error: system_of_record.objects.invoice: unknown system 'quickbook'; {KNOWN}"
    )


def test_misspelt_systems_in_the_default_fields_and_push_are_refused(tmp_path: Path) -> None:
    assert _error(tmp_path, '[system_of_record]\ndefault = ["intact"]\n').startswith(
        "config error: system_of_record.default: unknown system 'intact'"
    )
    message = _error(tmp_path, '[system_of_record.fields]\n"customer.email" = ["SalesForce"]\n')
    assert message.startswith("config error: system_of_record.fields.customer.email: unknown")
    assert _error(tmp_path, '[push]\nsystems = ["quickbooks", "salesforc"]\n') == (
        f"config error: push.systems: unknown system 'salesforc'; {KNOWN}"
    )


def test_an_empty_priority_is_refused(tmp_path: Path) -> None:
    # with no system listed, every system would win its own pull: the last one read
    message = _error(tmp_path, "[system_of_record.objects]\npayment = []\n")
    assert message.startswith("config error: system_of_record.objects.payment: list at least one")


def test_an_unknown_object_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, '[system_of_record.objects]\ninvoices = ["quickbooks"]\n')
    assert message == (
        "config error: system_of_record.objects.invoices: unknown object 'invoices'; "
        "known: customer, invoice, credit_memo, payment"
    )


def test_an_unknown_field_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, '[system_of_record.fields]\n"invoice.balanc" = ["intacct"]\n')
    assert message.startswith(
        "config error: system_of_record.fields.invoice.balanc: unknown field 'invoice.balanc' "
        "of invoice; known: "
    )
    assert "balance" in message and "total" in message and "name_key" not in message
    message = _error(tmp_path, '[system_of_record.fields]\n"invoce.total" = ["intacct"]\n')
    assert "unknown object 'invoce'" in message


def test_fields_are_named_as_the_report_shows_them_or_by_column(tmp_path: Path) -> None:
    settings = load_settings(
        _config(
            tmp_path,
            '[system_of_record.fields]\n"invoice.balance" = ["intacct"]\n'
            '"payment.amount_minor" = ["invoiced"]\n"customer.email" = ["salesforce"]\n',
        )
    )
    sor = settings.system_of_record
    assert sor.priority("invoice", "balance_minor") == ["intacct"]  # the column the pull asks
    assert sor.priority("payment", "amount_minor") == ["invoiced"]
    assert sor.priority("customer", "email") == ["salesforce"]


def test_home_currency_must_be_an_iso_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert _error(tmp_path, 'home_currency = "DOLLARS"\n') == (
        "config error: home_currency: not an ISO 4217 currency code: 'DOLLARS' "
        "(three letters, such as USD or EUR)"
    )
    assert "'XYZ'" in _error(tmp_path, 'home_currency = "XYZ"\n')
    assert load_settings(_config(tmp_path, 'home_currency = "eur"\n')).home_currency == "EUR"
    monkeypatch.setenv("ARSYNC_HOME_CURRENCY", "dollars")
    with pytest.raises(ConfigError, match=r"\(from ARSYNC_HOME_CURRENCY\)$"):
        load_settings(None)


def test_the_readme_configuration_and_the_defaults_load(tmp_path: Path) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1]
    example = re.search(r"```toml\n(.*?)```", section, re.S)
    assert example is not None
    settings = load_settings(_config(tmp_path, example.group(1)))
    assert settings.system_of_record.priority("payment", "amount_minor")[0] == "invoiced"
    assert settings.system_of_record.priority("customer", "email")[0] == "salesforce"
    defaults = load_settings(None, database_url="sqlite://", sync={"lag_seconds": 0})
    assert defaults.home_currency == "USD"
    assert defaults.system_of_record.priority("invoice", "balance_minor")[0] == "quickbooks"
