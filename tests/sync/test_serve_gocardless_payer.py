"""``POST /webhooks/gocardless``: a payer that could not be read just now never holds the cash
back: the payment is stored without it and the delivery answered 200 (a 503 had GoCardless
send it again, and with the mandate endpoint failing for days give up: cash never stored)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import responses
from fastapi.testclient import TestClient
from sqlmodel import select

from canonical.models import Remittance
from sync.runtime import Runtime
from sync.serve import create_app
from sync.settings import load_settings

BASE = "https://api.gocardless.test"
SECRET = "gc_serve_payer_secret"


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'serve.db'}",
        webhooks={
            "gocardless_secret": SECRET,
            "gocardless_access_token": "gc_serve_payer_token",
            "gocardless_base_url": BASE,
        },
    )
    rt = Runtime.open(settings)
    yield rt
    rt.close()


def serve_gocardless(mandate_status: int) -> None:
    responses.add(
        responses.GET,
        f"{BASE}/payments/PM00SV1",
        json={
            "payments": {
                "id": "PM00SV1",
                "amount": 4250,
                "currency": "GBP",
                "charge_date": "2026-11-03",
                "reference": "DD-SV1",
                "metadata": {},
                "status": "confirmed",
                "links": {"mandate": "MD00SV1", "creditor": "CR00SV"},
            }
        },
    )
    mandate = {"mandates": {"id": "MD00SV1", "links": {"customer": "CU00SV1"}}}
    failed = {"error": {"message": "Internal server error", "type": "gocardless"}}
    responses.add(
        responses.GET,
        f"{BASE}/mandates/MD00SV1",
        status=mandate_status,
        json=mandate if mandate_status == 200 else failed,
    )
    responses.add(
        responses.GET,
        f"{BASE}/customers/CU00SV1",
        json={"customers": {"id": "CU00SV1", "company_name": "Northwind Ltd"}},
    )


@responses.activate
def test_a_payer_read_failing_just_now_keeps_the_cash_and_answers_200(
    runtime: Runtime,
) -> None:
    client = TestClient(create_app(runtime, schedule=False))
    raw = json.dumps(
        {
            "events": [
                {
                    "id": "EV00SV1",
                    "created_at": "2026-11-03T09:13:51.404Z",
                    "resource_type": "payments",
                    "action": "confirmed",
                    "links": {"payment": "PM00SV1"},
                    "details": {"origin": "gocardless", "cause": "payment_confirmed"},
                    "metadata": {},
                }
            ],
            "meta": {"webhook_id": "WB00SV1"},
        }
    ).encode()
    headers = {"Webhook-Signature": hmac.new(SECRET.encode(), raw, hashlib.sha256).hexdigest()}
    serve_gocardless(500)
    first = client.post("/webhooks/gocardless", content=raw, headers=headers)
    assert first.status_code == 200
    with runtime.store.session() as s:
        [remittance] = s.exec(select(Remittance)).all()
    assert (remittance.amount_minor, remittance.payer_name) == (4250, None)
