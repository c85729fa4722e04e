"""A failure that is no auth failure partway through a loop of Intacct requests: the
functions answered before it stay answered; the rest share the failure."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import requests

from connectors.errors import UncertainWriteError
from connectors.intacct import IntacctSandbox
from connectors.intacct.writes import ArPaymentCreate, PaymentLine
from tests.connectors.intacct.test_intacct_writes import make, open_invoices

DAY = date(2026, 12, 4)


def test_requests_answered_before_a_failure_keep_their_results(sandbox: IntacctSandbox) -> None:
    invoices = open_invoices(sandbox, 3)
    writes = [
        ArPaymentCreate(
            f"mid-{i}",
            row["CUSTOMERID"],
            DAY,
            (PaymentLine(row["RECORDNO"], Decimal("1.00")),),
            "USD",
        )
        for i, row in enumerate(invoices)
    ]
    connector = make(sandbox, write_batch_size=1)

    def fail_after_first(response: requests.Response, *_: object, **__: object) -> None:
        body = response.request.body or b""
        sent = body if isinstance(body, bytes) else body.encode()
        if b'controlid="mid-0"' in sent:  # every request after the first write's fails
            sandbox.faults.fail_next = 10

    connector.session.hooks["response"].append(fail_after_first)
    results = connector.write(writes)
    assert [r.key for r in results] == ["mid-0", "mid-1", "mid-2"]
    assert results[0].ok and results[0].remote_id  # answered: its record is kept
    # no reply to the second: it may have landed, looked for first; the third was never
    # sent, and is looked for too rather than sent blind
    assert all(isinstance(r.error, UncertainWriteError) for r in results[1:])
