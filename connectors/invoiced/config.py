"""How to reach one Invoiced account."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class InvoicedConfig(BaseModel):
    """Invoiced settings. The API key belongs in ``ARSYNC_INVOICED__API_KEY``."""

    model_config = ConfigDict(extra="forbid")

    api_key: SecretStr
    base_url: str = "https://api.invoiced.com"  # sandbox: https://api.sandbox.invoiced.com
    page_size: int = Field(default=100, ge=1, le=100)  # per_page maximum
    lag_seconds: int = 0
    timeout: float = 60.0
    per_second: float = 0.0
