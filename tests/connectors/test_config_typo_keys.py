"""A misspelt key in [quickbooks] or [intacct] is refused, naming it, as in every other
section: before, it was dropped and the default used (QuickBooks' production API for a
misspelt sandbox URL, UTC for a misspelt company time zone)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from connectors.intacct.config import IntacctConfig
from connectors.quickbooks.config import SANDBOX_API, QuickBooksConfig
from sync.runtime import Runtime
from sync.settings import ConfigError, load_settings

QUICKBOOKS = {"realm_id": "9130", "client_id": "AB", "client_secret": "qbo_secret_abcdef"}
INTACCT = {
    "sender_id": "s",
    "sender_password": "pw_abcdef1",
    "company_id": "c",
    "user_id": "u",
    "user_password": "pw_abcdef2",
}


@pytest.mark.parametrize(
    ("model", "good", "typo", "value"),
    [
        (QuickBooksConfig, QUICKBOOKS, "api_base_uri", SANDBOX_API),
        (QuickBooksConfig, QUICKBOOKS, "write_off_itemid", "42"),
        (IntacctConfig, INTACCT, "company_time_zone", "America/Los_Angeles"),
        (IntacctConfig, INTACCT, "deposit_acount", "BOA-CHECKING"),
    ],
)
def test_the_model_refuses_an_unknown_key(
    model: type[QuickBooksConfig | IntacctConfig], good: dict[str, str], typo: str, value: str
) -> None:
    model.model_validate(good)  # the right keys alone still validate
    with pytest.raises(ValidationError) as caught:
        model.model_validate({**good, typo: value})
    [error] = caught.value.errors()
    assert error["type"] == "extra_forbidden" and error["loc"] == (typo,)


@pytest.mark.parametrize(
    ("system", "section", "typo", "value"),
    [
        ("quickbooks", QUICKBOOKS, "api_base_uri", SANDBOX_API),
        ("intacct", INTACCT, "company_time_zone", "America/Los_Angeles"),
    ],
)
def test_the_section_with_a_misspelt_key_is_a_config_error_naming_it(
    tmp_path: Path, system: str, section: dict[str, Any], typo: str, value: str
) -> None:
    settings = load_settings(
        None, database_url=f"sqlite:///{tmp_path / 'a.db'}", **{system: {**section, typo: value}}
    )
    runtime = Runtime.open(settings)
    try:
        with pytest.raises(ConfigError) as caught:
            runtime.config(system)
    finally:
        runtime.close()
    assert str(caught.value) == f"config error: {system}.{typo}: Extra inputs are not permitted"


def test_every_documented_key_is_still_accepted(tmp_path: Path) -> None:
    """The README's [quickbooks] and [intacct] examples (with their secrets) validate."""
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'a.db'}",
        quickbooks={**QUICKBOOKS, "write_off_item_id": "42"},
        intacct={
            **INTACCT,
            "company_timezone": "America/Los_Angeles",
            "deposit_account": "BOA-CHECKING",
            "write_off_account": "4900",
        },
    )
    runtime = Runtime.open(settings)
    try:
        qbo: Any = runtime.config("quickbooks")
        intacct: Any = runtime.config("intacct")
    finally:
        runtime.close()
    assert qbo.write_off_item_id == "42"
    assert (intacct.company_timezone, intacct.deposit_account) == (
        "America/Los_Angeles",
        "BOA-CHECKING",
    )
