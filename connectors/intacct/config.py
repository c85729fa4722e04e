"""Settings of one Sage Intacct company connection (XML gateway, Web Services sender)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from canonical.types import TimeZoneName, zone

GATEWAY_URL = "https://api.intacct.com/ia/xml/xmlgw.phtml"


class IntacctConfig(BaseModel):
    """Where and how to reach one Intacct company.

    The Web Services sender (``sender_id``/``sender_password``) authenticates the
    application; the user (``user_id``/``user_password`` at ``company_id``) opens an API
    session with ``getAPISession``. ``company_timezone`` is the company's time zone, in which
    Intacct writes ``WHENMODIFIED``.
    """

    model_config = ConfigDict(extra="forbid")

    sender_id: str = Field(min_length=1)
    sender_password: SecretStr
    company_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    user_password: SecretStr
    endpoint_url: str = Field(default=GATEWAY_URL, description="gateway used to log in")
    company_timezone: TimeZoneName = Field(default="UTC", description="IANA zone of WHENMODIFIED")
    page_size: int = Field(default=1000, ge=1, le=1000, description="readByQuery pagesize")
    per_second: float = Field(default=0.0, ge=0, description="client-side throttle; 0 = none")
    timeout_seconds: float = Field(default=60.0, gt=0)
    lag_seconds: int = Field(
        default=3600, ge=0, description="bookmark rewind: WHENMODIFIED is stamped in-transaction"
    )
    # writes
    write_batch_size: int = Field(default=50, ge=1, le=100, description="functions per request")
    deposit_account: str | None = Field(
        default=None, description="FINANCIALENTITY (bank/checking account id) receiving payments"
    )
    undeposited_account: str | None = Field(
        default=None, description="UNDEPOSITEDACCOUNTNO (GL account) when no bank account is set"
    )
    payment_method: str = Field(
        default="EFT", description="PAYMENTMETHOD of payments arsync writes"
    )
    write_off_account: str | None = Field(
        default=None, description="GL account of the credit adjustments that write off deductions"
    )

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.company_timezone)
