"""Settings of one Salesforce org connection."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from canonical.types import TimeZoneName
from mappings.salesforce.schema import SalesforceSchema, load_preset

AuthFlow = Literal["client_credentials", "password", "jwt_bearer"]


class SalesforceConfig(BaseModel):
    """How to reach and read one org.

    ``auth_flow``: ``client_credentials`` (connected app with a run-as user; needs the org's
    My Domain token URL, e.g. ``https://acme.my.salesforce.com/services/oauth2/token``),
    ``password`` (username + password [+ security token]) or ``jwt_bearer`` (username +
    the connected app's RSA private key in PEM). ``objects`` names the SObjects and fields
    (a preset plus overrides, see :mod:`mappings.salesforce.schema`). ``org_timezone`` is the
    org's default time zone: a dateTime field mapped to a date (Billing's ``CreatedDate``) is
    the day it falls on there; the org's own ``TimeZoneSidKey``, read at check, wins when it
    can be read. ``org_id``, when set, is the only org arsync will sync (a production store
    never takes a sandbox's records).
    """

    model_config = ConfigDict(extra="forbid")

    token_url: str = "https://login.salesforce.com/services/oauth2/token"
    auth_flow: AuthFlow = "client_credentials"
    client_id: str
    client_secret: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    security_token: SecretStr | None = None
    private_key: SecretStr | None = None
    jwt_audience: str = "https://login.salesforce.com"
    instance_url: str | None = None  # used only when the token response names none
    api_version: str = "62.0"
    page_size: int = Field(default=2000, ge=1, le=2000)  # Sforce-Query-Options batchSize
    write_batch_size: int = Field(default=200, ge=1, le=200)  # sObject Collections maximum
    deleted_window_days: int = Field(default=15, ge=1, le=15)  # getDeleted keeps 15 days
    lag_seconds: int = 0
    timeout: float = 60.0
    per_second: float = 0.0
    objects: SalesforceSchema = Field(default_factory=load_preset)
    org_timezone: TimeZoneName = Field(default="UTC", description="IANA zone of the org")
    org_id: str | None = Field(default=None, min_length=15, max_length=18)

    @model_validator(mode="after")
    def _credentials_for_flow(self) -> SalesforceConfig:
        needed: dict[str, tuple[str, ...]] = {
            "client_credentials": ("client_secret",),
            "password": ("client_secret", "username", "password"),
            "jwt_bearer": ("username", "private_key"),
        }
        missing = [name for name in needed[self.auth_flow] if getattr(self, name) is None]
        if missing:
            raise ValueError(f"auth_flow {self.auth_flow!r} needs {', '.join(missing)}")
        return self

    def mapping_options(self) -> dict[str, object]:
        """What the mappings need to read this org's records: its object and field names, and
        the zone its days are in."""
        return {"schema": self.objects, "timezone": self.org_timezone}
