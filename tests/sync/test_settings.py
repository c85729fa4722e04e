"""Settings: file + environment, secrets hidden, a bad key named in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.settings import ConfigError, load_settings


def test_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "arsync.toml"
    config.write_text(
        'tenant = "acme"\n[sync]\nlag_seconds = 120\n[invoiced]\nbase_url = "https://x"\n'
    )
    monkeypatch.setenv("ARSYNC_INVOICED__API_KEY", "sk_live_secret")
    monkeypatch.setenv("ARSYNC_SYNC__LAG_SECONDS", "30")
    settings = load_settings(config)
    assert settings.tenant == "acme"
    assert settings.sync.lag_seconds == 30  # the environment wins
    assert settings.invoiced == {"base_url": "https://x", "api_key": "sk_live_secret"}
    assert settings.configured_systems() == ["invoiced"]


def test_config_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.toml"
    config.write_text('home_currency = "EUR"\n')
    monkeypatch.setenv("ARSYNC_CONFIG", str(config))
    assert load_settings().home_currency == "EUR"


def test_unknown_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("[sync]\nlag_secnds = 5\n")
    with pytest.raises(ConfigError, match=r"^config error: sync\.lag_secnds: Extra inputs"):
        load_settings(config)


def test_wrong_type_is_named(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[sync]\nlag_seconds = "soon"\n')
    with pytest.raises(ConfigError, match=r"sync\.lag_seconds"):
        load_settings(config)


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("tenant = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)


def test_adyen_hmac_keys_one_or_several_from_the_file_or_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key, previous = "44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056", "0A" * 32

    def keys() -> list[str]:
        return [k.get_secret_value() for k in load_settings().webhooks.adyen_hmac_key]

    assert keys() == []
    monkeypatch.setenv("ARSYNC_WEBHOOKS__ADYEN_HMAC_KEY", key)  # one key, as before
    assert keys() == [key]
    monkeypatch.setenv("ARSYNC_WEBHOOKS__ADYEN_HMAC_KEY", f'["{key}", "{previous}"]')
    assert keys() == [key, previous]  # while rotating
    monkeypatch.setenv("ARSYNC_WEBHOOKS__ADYEN_HMAC_KEY", "1234")  # digits stay a key
    assert keys() == ["1234"]
    monkeypatch.delenv("ARSYNC_WEBHOOKS__ADYEN_HMAC_KEY")
    listed = load_settings(webhooks={"adyen_hmac_key": [key, previous]}).webhooks
    assert [k.get_secret_value() for k in listed.adyen_hmac_key] == [key, previous]


def test_adyen_webhook_defaults_and_basic_credentials_come_in_pairs() -> None:
    hooks = load_settings().webhooks
    assert hooks.adyen_auto_capture is True  # Adyen's default: captured at once
    assert hooks.adyen_username is None and hooks.adyen_password is None
    with pytest.raises(ConfigError, match="adyen_username and adyen_password"):
        load_settings(webhooks={"adyen_username": "adyen-hooks"})
