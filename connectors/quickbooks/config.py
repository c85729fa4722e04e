"""Settings of one QuickBooks Online company (realm) connection."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

PRODUCTION_API = "https://quickbooks.api.intuit.com"
SANDBOX_API = "https://sandbox-quickbooks.api.intuit.com"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"


class QuickBooksConfig(BaseModel):
    """Where and how to reach one QuickBooks Online company."""

    model_config = ConfigDict(extra="forbid")

    realm_id: str = Field(min_length=1, description="the company id (realmId)")
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr | None = Field(
        default=None,
        description="first refresh token; once rotated, the token store's value is used",
    )
    api_base_url: str = Field(default=PRODUCTION_API, description="without the /v3 suffix")
    token_url: str = TOKEN_URL
    minorversion: int = Field(default=75, ge=1)
    page_size: int = Field(default=1000, ge=1, le=1000, description="query MAXRESULTS")
    cdc_window_days: int = Field(default=30, ge=0, description="CDC look-back limit; 0 disables")
    cdc_max_objects: int = Field(
        default=1000, ge=1, description="CDC objects per entity per response (the server's cap)"
    )
    per_second: float = Field(default=8.0, ge=0, description="client-side throttle; 0 = none")
    rate_limit_wait_seconds: float = Field(
        default=60.0, ge=0, description="wait after a throttle without Retry-After"
    )
    timeout_seconds: float = Field(default=60.0, gt=0)
    lag_seconds: int = Field(default=0, ge=0, description="bookmark rewind hint")
    write_off_item_id: str | None = Field(
        default=None, description="Item (e.g. a 'Bad debt' service) used for write-off credits"
    )
    po_number_field: str = Field(
        default="P.O. Number", description="the CustomField Name holding the customer's PO"
    )
