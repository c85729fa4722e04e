"""The one settings object: a documented TOML file plus environment variables.

Precedence: environment (``ARSYNC_...``, nested with ``__``, e.g.
``ARSYNC_QUICKBOOKS__CLIENT_SECRET``) over the file (``--config`` or ``ARSYNC_CONFIG``) over
defaults. Secrets belong in the environment; they are ``SecretStr`` and never printed.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from canonical.enums import System
from canonical.money import MoneyError, normalize_currency
from sync.columns import TABLES

DEFAULT_PRIORITY = [System.QUICKBOOKS, System.INTACCT, System.INVOICED, System.SALESFORCE]
SYNC_ORDER = ("quickbooks", "invoiced", "salesforce", "intacct")


class ConfigError(Exception):
    """A missing or wrong setting; the message names the key."""


# canonical columns no system decides: bookkeeping, match keys, the outbox's own link
_NOT_DECIDED = frozenset(
    {"id", "tenant", "created_at", "updated_at", "name_key", "number_key", "adjustment_id"}
)


def _decided_fields(canonical_type: str) -> list[str]:
    """The fields of a canonical type a system of record decides, as the report names them
    (``balance`` for the ``balance_minor`` column)."""
    return [
        name.removesuffix("_minor")
        for name in TABLES[canonical_type].model_fields
        if name not in _NOT_DECIDED
    ]


def _system_list(value: Any) -> Any:
    """A priority list as the environment may give it: a JSON list, or system names separated
    by commas (``quickbooks,intacct``; no system name holds a comma)."""
    if not isinstance(value, str):
        return value
    if value.lstrip().startswith("["):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise PydanticCustomError(
                "systems_json",
                'not a JSON list: {value}; write ["quickbooks","intacct"] or quickbooks,intacct',
                {"value": value},
            ) from None
    return [part.strip() for part in value.split(",") if part.strip()]


def _systems(value: list[str]) -> list[str]:
    """A priority list: known systems only, at least one (an empty list lets any system win)."""
    from connectors.registry import SYSTEMS

    if not value:
        raise PydanticCustomError(
            "systems", "list at least one of {known}", {"known": ", ".join(SYSTEMS)}
        )
    for system in value:
        if system not in SYSTEMS:
            raise PydanticCustomError(
                "system",
                "unknown system {system}; known: {known}",
                {"system": repr(system), "known": ", ".join(SYSTEMS)},
            )
    return value


def _object(value: str) -> str:
    if value not in TABLES:
        raise PydanticCustomError(
            "object",
            "unknown object {name}; known: {known}",
            {"name": repr(value), "known": ", ".join(TABLES)},
        )
    return value


def _field(value: str) -> str:
    """``invoice.balance`` (or ``invoice.balance_minor``): a decided field of a canonical
    object, kept as its column name (what the pull asks for)."""
    canonical_type, _, name = value.partition(".")
    _object(canonical_type)
    allowed = _decided_fields(canonical_type)
    name = name.removesuffix("_minor")
    if name not in allowed:
        raise PydanticCustomError(
            "field",
            "unknown field {name} of {type}; known: {known}",
            {"name": repr(value), "type": canonical_type, "known": ", ".join(allowed)},
        )
    column = f"{name}_minor"
    return f"{canonical_type}.{column if column in TABLES[canonical_type].model_fields else name}"


def _currency(value: str) -> str:
    try:
        return normalize_currency(value)
    except MoneyError:
        raise PydanticCustomError(
            "currency",
            "not an ISO 4217 currency code: {value} (three letters, such as USD or EUR)",
            {"value": repr(value)},
        ) from None


# NoDecode: the environment gives a JSON list or comma-separated names (see _system_list)
Systems = Annotated[list[str], NoDecode, BeforeValidator(_system_list), AfterValidator(_systems)]
CurrencyCode = Annotated[str, AfterValidator(_currency)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SyncSettings(_Section):
    lag_seconds: int = Field(default=60, ge=0, description="bookmark cap: run start minus this")
    page_size: int | None = Field(default=None, ge=1, description="override every page size")


class PushSettings(_Section):
    """How the outbox sends: where, how often it retries, and how hard."""

    systems: Systems | None = Field(
        default=None, description="systems to write to (default: every configured system)"
    )
    max_attempts: int = Field(default=6, ge=1, description="then a command is dead")
    backoff_seconds: float = Field(
        default=60.0, ge=0, description="first retry delay; doubles each attempt"
    )
    backoff_max_seconds: float = Field(default=6 * 3600, ge=0)
    chunk: int = Field(default=1000, ge=1, description="commands read per round")


class WebhookSettings(_Section):
    """Secrets that sign incoming webhooks (from the environment, never the file), and how
    processor events become remittances."""

    stripe_secrets: list[SecretStr] = Field(
        default_factory=list, description="whsec_... signing secrets; several while rotating"
    )
    stripe_tolerance_seconds: int = Field(default=300, ge=1)
    stripe_test_mode: bool = Field(
        default=False,
        description="the Stripe endpoint is a test-mode one (staging): a Connect endpoint is "
        "sent its connected accounts' events of both modes, and only those of its own are read",
    )
    # NoDecode: the environment variable is one key as is, or a JSON list (see _keys)
    adyen_hmac_key: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list, description="hex HMAC key, or a list of keys while rotating"
    )
    adyen_username: SecretStr | None = Field(
        default=None, description="HTTP Basic user name Adyen must send (with adyen_password)"
    )
    adyen_password: SecretStr | None = None
    adyen_auto_capture: bool = Field(
        default=True,
        description="AUTHORISATION is cash (Adyen's default: the account captures every "
        "authorisation); false for manual capture, where each CAPTURE is the cash",
    )
    gocardless_secret: SecretStr | None = None
    gocardless_access_token: SecretStr | None = Field(
        default=None, description="to read the payment an event names (events carry no amount)"
    )
    gocardless_base_url: str = "https://api.gocardless.com"
    quickbooks_verifier: SecretStr | None = None
    invoiced_secret: SecretStr | None = None
    salesforce_org_id: str | None = Field(
        default=None,
        description="the org id (15 or 18 characters) Salesforce outbound messages must name",
    )

    @field_validator("adyen_hmac_key", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        """One key (a string, as the environment gives it), a JSON list of keys, or a list."""
        if not isinstance(value, str):
            return value
        if value.lstrip().startswith("["):
            return json.loads(value)
        return [value] if value.strip() else []

    @model_validator(mode="after")
    def _basic_auth_pair(self) -> WebhookSettings:
        if (self.adyen_username is None) != (self.adyen_password is None):
            raise ValueError("adyen_username and adyen_password are set together or not at all")
        return self


class ScheduleSettings(_Section):
    interval_minutes: int | None = Field(
        default=None, ge=1, description="`arsync serve` runs sync, reconcile, push this often"
    )


class ServeSettings(_Section):
    """What ``arsync serve`` shows beyond its webhooks."""

    report_token: SecretStr | None = Field(
        default=None,
        description="the token /report and /report.json require (Bearer, or as the password "
        "of HTTP Basic); without one the report is not served",
    )


class SystemOfRecord(_Section):
    """Which system wins, per object and optionally per field (``invoice.balance``).

    Every key and system is checked: a misspelt one would silently hand the decision to
    another system."""

    default: Systems = Field(default_factory=lambda: [s.value for s in DEFAULT_PRIORITY])
    objects: dict[Annotated[str, AfterValidator(_object)], Systems] = Field(
        default_factory=lambda: {
            "customer": ["quickbooks", "intacct", "invoiced", "salesforce"],
            "invoice": ["quickbooks", "intacct", "invoiced", "salesforce"],
            "credit_memo": ["quickbooks", "intacct", "invoiced", "salesforce"],
            "payment": ["invoiced", "quickbooks", "intacct", "salesforce"],
        }
    )
    fields: dict[Annotated[str, AfterValidator(_field)], Systems] = Field(
        default_factory=lambda: {"customer.email": ["salesforce", "invoiced", "quickbooks"]}
    )

    @field_validator("fields", mode="before")
    @classmethod
    def _one_spelling(cls, value: Any) -> Any:
        """``invoice.balance`` and ``invoice.balance_minor`` are one field: given both, the
        later would silently win, so neither is guessed."""
        if not isinstance(value, dict):
            return value
        seen: dict[str, str] = {}
        for key in value:
            if not isinstance(key, str):
                continue
            canonical_type, _, name = key.partition(".")
            same = f"{canonical_type}.{name.removesuffix('_minor')}"
            if same in seen:
                raise PydanticCustomError(
                    "field_twice",
                    "{first} and {second} are the same field; keep one",
                    {"first": repr(seen[same]), "second": repr(key)},
                )
            seen[same] = key
        return value

    def priority(self, canonical_type: str, field: str) -> list[str]:
        return self.fields.get(f"{canonical_type}.{field}") or self.objects.get(
            canonical_type, self.default
        )


class ReconcilerSettings(_Section):
    rules_path: Path | None = None


class Settings(BaseSettings):
    """Everything arsync can be told. See README "Configuration"."""

    model_config = SettingsConfigDict(
        env_prefix="ARSYNC_",
        env_nested_delimiter="__",
        extra="forbid",
        nested_model_default_partial_update=True,
    )

    database_url: str = "sqlite:///var/arsync.db"
    tenant: str = "default"
    home_currency: CurrencyCode = "USD"
    sync: SyncSettings = Field(default_factory=SyncSettings)
    system_of_record: SystemOfRecord = Field(default_factory=SystemOfRecord)
    reconciler: ReconcilerSettings = Field(default_factory=ReconcilerSettings)
    push: PushSettings = Field(default_factory=PushSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    # per-system connection settings; each is the connector's own config model (dicts here,
    # validated by the connector registry so a wrong key names its system)
    quickbooks: dict[str, Any] | None = None
    intacct: dict[str, Any] | None = None
    invoiced: dict[str, Any] | None = None
    salesforce: dict[str, Any] | None = None
    # what the operator should fix though it works (a secret written in the file), one line
    # each, never with a value: the CLI shows them as warnings
    _warnings: list[str] = PrivateAttr(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return list(self._warnings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, init_settings)

    def system_config(self, system: str) -> dict[str, Any] | None:
        value: dict[str, Any] | None = getattr(self, system)
        return value

    def push_systems(self) -> list[str]:
        """Systems the outbox writes to, in sync order."""
        configured = self.configured_systems()
        if self.push.systems is None:
            return configured
        return [s for s in configured if s in self.push.systems]

    def configured_systems(self) -> list[str]:
        """Configured systems in sync order: systems that carry links to others come after
        them, and the system that matches only by number and name comes last."""
        return [s for s in SYNC_ORDER if self.system_config(s) is not None]


def env_name(parts: list[str] | tuple[str, ...]) -> str:
    """The environment variable that sets a key: ``ARSYNC_QUICKBOOKS__CLIENT_SECRET``."""
    return "ARSYNC_" + "__".join(part.upper() for part in parts)


def _is_secret(model: type[BaseModel] | None, parts: list[str]) -> bool:
    """Whether the field at ``parts`` of ``model`` holds a secret (a ``SecretStr``)."""
    for number, part in enumerate(parts):
        field = model.model_fields.get(part) if model is not None else None
        if field is None:
            return False
        if number == len(parts) - 1:
            return "SecretStr" in str(field.annotation)
        annotation = field.annotation
        model = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    return False


def describe_validation_error(
    exc: ValidationError,
    prefix: str = "",
    *,
    section: str | None = None,
    model: type[BaseModel] | None = None,
) -> str:
    """One line naming the first bad key: ``quickbooks.client_id: Field required``.

    ``section`` is put before the key (a system's own config model); ``model`` is the model
    validated, so a missing secret names the environment variable it belongs in. A value
    that came from the environment names its variable (the file may look right)."""
    first = exc.errors()[0]
    # a bad dict key is reported at ``<key>.[key]``: the key itself names it
    parts = [str(part) for part in first["loc"] if part != "[key]"]
    if section:
        parts = [section, *parts]
    key = ".".join(parts) or (section or "settings")
    hint = ""
    if parts and env_name(parts) in os.environ:
        hint = f" (from {env_name(parts)})"
    elif (
        parts and first["type"] == "missing" and _is_secret(model, parts[1:] if section else parts)
    ):
        hint = f" (set {env_name(parts)} in the environment)"
    return f"{prefix}{key}: {first['msg']}{hint}"


# what an environment variable that must hold JSON looks like, by key
_JSON_EXAMPLES = {
    "system_of_record.objects": '{"invoice": ["intacct","quickbooks"]}',
    "system_of_record.fields": '{"customer.email": ["salesforce","invoiced"]}',
    "webhooks.stripe_secrets": '["whsec_..."]',
}


def describe_settings_error(exc: SettingsError, prefix: str = "") -> str:
    """One line naming the environment variable pydantic-settings could not decode as JSON
    (its message names only the top-level field), and what it should hold."""
    cause = exc.__cause__
    bad = cause.doc if isinstance(cause, json.JSONDecodeError) else None
    # the variables under the field the message names; the culprit holds the undecodable text
    field = str(exc).split('"')[1] if str(exc).count('"') >= 2 else ""
    head = env_name([field]) if field else "ARSYNC_"
    names = sorted(
        name
        for name in os.environ
        if (name.upper() == head or name.upper().startswith(f"{head}__"))
        and (bad is None or os.environ[name] == bad)
    )
    if not names:
        return f"{prefix}{field or 'settings'}: an environment variable is not valid JSON"
    name = names[0]
    parts = name.upper().removeprefix("ARSYNC_").lower().split("__")
    key = ".".join(parts)
    what = "a JSON object"
    model: type[BaseModel] | None = Settings
    for part in parts:
        info = model.model_fields.get(part) if model is not None else None
        annotation = info.annotation if info is not None else None
        if get_origin(annotation) is list:
            what = "a JSON list"
        model = (
            annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel)
            else None
        )
    example = _JSON_EXAMPLES.get(key)
    return f"{prefix}{key}: not {what}{f' such as {example}' if example else ''} (from {name})"


def secrets_in_file(data: dict[str, Any]) -> list[str]:
    """Secret keys written in the config file itself (README: secrets come from the
    environment), as ``invoiced.api_key``; their values are never read here."""
    from connectors.registry import SYSTEMS, entry

    found: list[str] = []
    for name, value in data.items():
        if not isinstance(value, dict):
            continue
        model: type[BaseModel] | None = None
        if name in SYSTEMS:
            model = entry(name).config
        else:
            field = Settings.model_fields.get(name)
            annotation = field.annotation if field is not None else None
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation
        found.extend(f"{name}.{key}" for key in value if _is_secret(model, [key]))
    return found


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings from ``path`` (or ``$ARSYNC_CONFIG``), the environment, and overrides.

    A secret written in the file works, with a warning in :attr:`Settings.warnings` naming
    the key and the environment variable it belongs in."""
    source = path or os.environ.get("ARSYNC_CONFIG")
    data: dict[str, Any] = {}
    in_file: list[str] = []
    if source:
        file = Path(source)
        if not file.is_file():
            raise ConfigError(f"config file not found: {file}")
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {file} is not valid TOML: {exc}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {file} cannot be read: {exc}") from exc
        in_file = secrets_in_file(data)
    data.update(overrides)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, "config error: ", model=Settings)) from exc
    except SettingsError as exc:
        raise ConfigError(describe_settings_error(exc, "config error: ")) from exc
    settings._warnings = [
        f"{key} is written in the config file {source}: keep secrets in the environment "
        f"({env_name(key.split('.'))})"
        for key in in_file
    ]
    return settings
