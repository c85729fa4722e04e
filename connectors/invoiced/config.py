"""How to reach one Invoiced account."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from canonical.types import TimeZoneName

PRODUCTION_URL = "https://api.invoiced.com"
SANDBOX_URL = "https://api.sandbox.invoiced.com"
MAX_PAGE_SIZE = 100


class InvoicedConfig(BaseModel):
    """Invoiced settings. The API key belongs in ``ARSYNC_INVOICED__API_KEY``.

    ``company_timezone`` is the Invoiced company's time zone (its settings): Invoiced keeps a
    document's date and due date, and a payment's date, as a moment of that day in that zone,
    so the calendar day is read there (Tokyo's 1 May 06:00 is 30 April in UTC), and a date
    arsync writes is sent as noon of that day there."""

    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr
    base_url: str = PRODUCTION_URL  # Invoiced's sandbox: SANDBOX_URL
    page_size: int = Field(default=MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)  # per_page
    lag_seconds: int = Field(default=0, ge=0)  # extra rewind of the bookmark, if ever needed
    timeout: float = Field(default=60.0, gt=0)
    per_second: float = Field(default=0.0, ge=0)  # client-side throttle; 0 = none
    key_metadata: str = "arsync_key"  # metadata key carrying a write's idempotency key
    company_timezone: TimeZoneName = Field(default="UTC", description="IANA zone of the company")

    def mapping_options(self) -> dict[str, object]:
        """What the mappings need: the zone whose calendar days the timestamps fall on."""
        return {"company_timezone": self.company_timezone}
