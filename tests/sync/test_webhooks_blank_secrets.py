"""A webhook secret configured blank (``ARSYNC_WEBHOOKS__QUICKBOOKS_VERIFIER=" "``) is no
secret: anybody can sign under it. Every source answers 503 "no signing secret is configured"
and stores nothing, as when none is set."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest
from sqlalchemy import func, select

from canonical.models import WebhookEvent
from sync.runtime import Runtime
from sync.settings import load_settings
from sync.webhooks import Rejected, receive

QBO_BODY = (
    b'{"eventNotifications": [{"realmId": "9130", "dataChangeEvent": {"entities": '
    b'[{"name": "Payment", "id": "77", "operation": "Create", '
    b'"lastUpdated": "2026-12-01T10:00:00.000Z"}]}}]}'
)
INVOICED_BODY = (
    b'{"id": 1, "type": "payment.created", "timestamp": 1764583200, '
    b'"data": {"object": {"id": 5, "object": "payment"}}}'
)


@pytest.mark.parametrize("blank", [" ", "\n", "   "])
def test_a_blank_secret_is_no_secret(tmp_path: Path, blank: str) -> None:
    settings = load_settings(
        None,
        database_url=f"sqlite:///{tmp_path / 'hooks.db'}",
        webhooks={
            "quickbooks_verifier": blank,
            "invoiced_secret": blank,
            "gocardless_secret": blank,
            "stripe_secrets": [blank],
            "adyen_hmac_key": [blank],
        },
    )
    rt = Runtime.open(settings)
    try:
        qbo_sig = base64.b64encode(
            hmac.new(blank.encode(), QBO_BODY, hashlib.sha256).digest()
        ).decode()
        invoiced_sig = hmac.new(blank.encode(), INVOICED_BODY, hashlib.sha256).hexdigest()
        deliveries = [
            ("quickbooks", QBO_BODY, {"intuit-signature": qbo_sig}),
            ("invoiced", INVOICED_BODY, {"X-Invoiced-Signature": invoiced_sig}),
            ("gocardless", b'{"events": []}', {}),
            ("stripe", b"{}", {}),
            ("adyen", b'{"notificationItems": []}', {}),
        ]
        for source, body, headers in deliveries:
            with pytest.raises(Rejected) as refusal:
                receive(rt.store, rt.settings, source, body, headers)
            assert refusal.value.status == 503, source
            assert "no signing secret is configured" in str(refusal.value), source
        with rt.store.session() as session:
            stored = session.execute(select(func.count()).select_from(WebhookEvent))
            assert stored.scalar_one() == 0
    finally:
        rt.close()
