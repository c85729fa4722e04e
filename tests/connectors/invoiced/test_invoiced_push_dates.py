"""Dates arsync sends to Invoiced are days in the company's time zone, as it reads them back:
Invoiced keeps a date as a moment of that day where the company is."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from connectors.invoiced.writes import Application, CreditNoteCreate, PaymentCreate
from mappings.base import MappingContext
from mappings.invoiced.common import company_days

MAY_1 = date(2026, 5, 1)


def payment(received_on: date) -> PaymentCreate:
    return PaymentCreate(
        key="k1",
        customer_id="12",
        amount=Decimal("10.00"),
        applications=(Application("invoice", "34", Decimal("10.00")),),
        currency="NZD",
        received_on=received_on,
    )


@pytest.mark.parametrize(
    "zone_name", ["Pacific/Auckland", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"]
)
def test_a_payment_date_reads_back_as_the_same_day_in_the_company_zone(zone_name: str) -> None:
    body = payment(MAY_1).body("arsync_key", ZoneInfo(zone_name))
    stamp = datetime.fromtimestamp(body["date"], tz=UTC)
    ctx = MappingContext(system="invoiced", options={"company_timezone": zone_name})
    assert company_days({"date": stamp}, ctx, "date")["date"] == MAY_1


def test_noon_utc_would_be_the_next_day_in_auckland() -> None:
    # what was sent before: 1 May 12:00 UTC is 2 May 00:00 in Auckland (UTC+12)
    body = payment(MAY_1).body("arsync_key", ZoneInfo("Pacific/Auckland"))
    assert body["date"] != int(datetime(2026, 5, 1, 12, tzinfo=UTC).timestamp())
    assert body["date"] == int(
        datetime(2026, 5, 1, 12, tzinfo=ZoneInfo("Pacific/Auckland")).timestamp()
    )


def test_a_credit_note_date_is_the_company_day_too() -> None:
    note = CreditNoteCreate(
        key="k2", customer_id="12", amount=Decimal("5.00"), reason="short pay", issued_on=MAY_1
    )
    body = note.body("arsync_key", ZoneInfo("Pacific/Kiritimati"))
    stamp = datetime.fromtimestamp(body["date"], tz=ZoneInfo("Pacific/Kiritimati"))
    assert stamp.date() == MAY_1


def test_without_a_zone_the_day_is_utc_as_before() -> None:
    assert payment(MAY_1).body("arsync_key")["date"] == int(
        datetime(2026, 5, 1, 12, tzinfo=UTC).timestamp()
    )


class _Client:
    """Just what InvoicedWriter reads of its client: the config, and ``post``."""

    def __init__(self, zone_name: str) -> None:
        from connectors.invoiced.config import InvoicedConfig

        self.config = InvoicedConfig(api_key="k", company_timezone=zone_name)  # type: ignore[arg-type]
        self.bodies: list[dict[str, object]] = []

    def post(self, path: str, body: dict[str, object], idempotency_key: str) -> dict[str, object]:
        self.bodies.append(body)
        return {"id": 1}


def test_the_writer_sends_days_in_the_configured_company_zone() -> None:
    from connectors.invoiced.writes import InvoicedWriter

    client = _Client("Pacific/Auckland")
    InvoicedWriter(client).create_payment(payment(MAY_1))  # type: ignore[arg-type]
    sent = client.bodies[0]["date"]
    assert isinstance(sent, int)
    assert datetime.fromtimestamp(sent, tz=ZoneInfo("Pacific/Auckland")).date() == MAY_1
