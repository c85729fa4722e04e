"""Deliveries that used to be answered a bare 500 (and so delivered again and again):

- a signed event whose payload the database's JSON encoder refuses (an integer beyond 64
  bits, nesting deeper than it goes) is kept as failed with the reason, answered 2xx, and a
  delivery of it again is a duplicate;
- a Salesforce outbound message while ``[salesforce.objects]`` is wrong is refused 503 with a
  one-line config error naming ``salesforce.objects``, as the other unconfigured cases are."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from canonical.models import Remittance, WebhookEvent
from connectors.invoiced.webhooks import SIGNATURE_HEADER
from connectors.invoiced.webhooks import sign as invoiced_sign
from sync.runtime import Runtime
from sync.serve import create_app
from sync.settings import load_settings
from sync.webhooks import receive

STRIPE_SECRET = "whsec_unstorable_secret"
INVOICED_SECRET = "invoiced_unstorable_secret"
ORG = "00D5e000000XyZ1"


def _runtime(tmp_path: Path, **sections: Any) -> Runtime:
    hooks = {"stripe_secrets": [STRIPE_SECRET], "invoiced_secret": INVOICED_SECRET}
    return Runtime.open(
        load_settings(
            None,
            database_url=f"sqlite:///{tmp_path / 'a.db'}",
            webhooks={**hooks, **sections.pop("webhooks", {})},
            **sections,
        )
    )


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    runtime = _runtime(tmp_path)
    with TestClient(create_app(runtime, schedule=False), raise_server_exceptions=False) as c:
        yield c
    runtime.close()


def _stripe(client: TestClient, event_id: str, obj: dict[str, Any]) -> Any:
    body = {
        "id": event_id,
        "object": "event",
        "created": 1763800100,
        "type": "payment_intent.succeeded",
        "livemode": False,
        "data": {"object": {"id": f"pi_{event_id}", "object": "payment_intent", **obj}},
    }
    raw = json.dumps(body).encode()
    stamp = str(int(time.time()))
    digest = hmac.new(STRIPE_SECRET.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
    headers = {"Stripe-Signature": f"t={stamp},v1={digest.hexdigest()}"}
    return client.post("/webhooks/stripe", content=raw, headers=headers)


def _events(runtime: Runtime) -> dict[str, WebhookEvent]:
    with runtime.store.session() as session:
        return {e.event_id: e for e in session.execute(select(WebhookEvent)).scalars()}


def _nested(depth: int) -> dict[str, Any]:
    inner: dict[str, Any] = {}
    for _ in range(depth):
        inner = {"x": inner}
    return inner


PAID = {"amount": 20000, "amount_received": 20000, "currency": "usd", "status": "succeeded"}


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"amount_received": 10**30}, "Integer exceeds 64-bit range"),
        ({"created": 10**20}, "Integer exceeds 64-bit range"),
        ({"metadata": _nested(300)}, "Recursion limit reached"),
    ],
)
def test_a_stripe_event_the_database_cannot_store_is_kept_as_failed_not_a_500(
    client: TestClient, extra: dict[str, Any], why: str
) -> None:
    runtime: Runtime = client.app.state.pipeline.runtime  # type: ignore[attr-defined]
    answer = _stripe(client, "evt_big", {**PAID, **extra})
    assert answer.status_code == 200, answer.text
    reason = f"stripe event evt_big: the payload cannot be stored as JSON: {why}; not read"
    assert answer.json()["failed"] == [reason]
    stored = _events(runtime)["evt_big"]
    assert (stored.status, stored.error) == ("failed", reason)
    assert stored.payload["unstorable"] == why
    assert '"evt_big"' in stored.payload["text"]  # what was sent, kept as text
    with runtime.store.session() as session:
        assert session.execute(select(Remittance)).first() is None  # no cash from it
    # delivered again (a retry): a duplicate, answered 2xx as well
    again = _stripe(client, "evt_big", {**PAID, **extra})
    assert again.status_code == 200 and again.json()["duplicates"] == 1
    # the next event of the same delivery stream is taken in as ever
    fine = _stripe(client, "evt_fine", PAID)
    assert fine.status_code == 200 and fine.json()["failed"] == []
    assert _events(runtime)["evt_fine"].status == "processed"


def test_an_invoiced_event_the_database_cannot_store_is_kept_as_failed(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)
    body = {
        "id": 123,
        "type": "invoice.updated",
        "timestamp": 1700000000,
        "data": {"object": {"id": 5, "total": 10**20}},
    }
    raw = json.dumps(body).encode()
    try:
        intake = receive(
            runtime.store,
            runtime.settings,
            "invoiced",
            raw,
            {SIGNATURE_HEADER: invoiced_sign(raw, INVOICED_SECRET)},
        )
        stored = _events(runtime)["123"]
    finally:
        runtime.close()
    reason = (
        "invoiced event 123: the payload cannot be stored as JSON: Integer exceeds 64-bit "
        "range; not read"
    )
    assert intake.failed == [reason] and intake.events == 1
    assert (stored.status, stored.error) == ("failed", reason)
    assert intake.sync_due == "invoiced"  # the change it announced is read by a sync


def _outbound_message() -> bytes:
    return (
        b'<?xml version="1.0"?><soapenv:Envelope '
        b'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
        b'<notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>'
        + ORG.encode()
        + b"</OrganizationId><Notification><Id>04l1</Id>"
        b'<sObject xsi:type="sf:Invoice__c" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        b'<sf:Id xmlns:sf="urn:sobject.enterprise.soap.sforce.com">a01</sf:Id></sObject>'
        b"</Notification></notifications></soapenv:Body></soapenv:Envelope>"
    )


@pytest.mark.parametrize(
    ("objects", "said"),
    [
        (
            {"preset": "revenue_clod"},
            "config error: salesforce.objects: Value error, unknown Salesforce preset "
            "'revenue_clod'; known: custom_objects, revenue_cloud, salesforce_billing",
        ),
        ({"invoice": "Invoice__c"}, "config error: salesforce.objects.invoice: "),
    ],
)
def test_a_wrong_salesforce_objects_section_is_a_503_config_error(
    tmp_path: Path, objects: dict[str, Any], said: str
) -> None:
    runtime = _runtime(
        tmp_path,
        webhooks={"salesforce_org_id": ORG},
        salesforce={"instance_url": "https://x.my.salesforce.com", "objects": objects},
    )
    try:
        with TestClient(
            create_app(runtime, schedule=False), raise_server_exceptions=False
        ) as client:
            answer = client.post(
                "/webhooks/salesforce",
                content=_outbound_message(),
                headers={"content-type": "text/xml"},
            )
        stored = _events(runtime)
    finally:
        runtime.close()
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error.startswith(said) and "\n" not in error
    assert stored == {}  # nothing stored: the org delivers it again once the setting is right


def test_a_signed_body_nested_deeper_than_the_parser_goes_is_refused_not_a_500(
    client: TestClient,
) -> None:
    deep = '{"x":' * 5000 + "{}" + "}" * 5000
    raw = ('{"id": "evt_deep", "object": "event", "data": ' + deep + "}").encode()
    stamp = str(int(time.time()))
    digest = hmac.new(STRIPE_SECRET.encode(), stamp.encode() + b"." + raw, hashlib.sha256)
    headers = {"Stripe-Signature": f"t={stamp},v1={digest.hexdigest()}"}
    answer = client.post("/webhooks/stripe", content=raw, headers=headers)
    assert answer.status_code == 400, answer.text
    assert "not JSON" in answer.text
