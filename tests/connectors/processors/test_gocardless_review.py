"""GoCardless deliveries a review found mishandled: an event without ``created_at`` keeps its
place in its delivery, and a chargeback whose payment could not be read again while settling
is taken in when the sender delivers again (the delivery is answered 5xx)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connectors.errors import ApiError, ErrorKind
from sync.runtime import Runtime
from tests.connectors.processors.test_processors_probe2 import (
    Payments,
    _runtime,
    amounts,
    gc_event,
    gc_payment,
    post_gc,
)


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    yield from _runtime(f"sqlite:///{tmp_path / 'gc.db'}")


def test_an_undated_event_keeps_its_place_in_the_delivery(rt: Runtime) -> None:
    """A ``confirmed`` without ``created_at`` listed before a dated late failure: the failure
    follows it and takes the cash back (sorting the undated event last left the cash)."""
    client = Payments({"PMY": gc_payment("PMY", 1500)})
    confirmed = gc_event("EVY1", "confirmed", "PMY")
    del confirmed["created_at"]
    failed = {**gc_event("EVY2", "failed", "PMY"), "created_at": "2026-11-06T08:00:00Z"}
    post_gc(rt, [confirmed, failed], client)
    assert sorted(amounts(rt)) == [-1500, 1500]


class FailingOnce(Payments):
    """Reads a payment, but the third read of it answers 503 (a transient outage)."""

    def payment(self, payment_id: str) -> dict[str, Any]:
        self.reads.append(payment_id)
        if self.reads.count(payment_id) == 3:
            raise ApiError(
                "gocardless", "503 Service Unavailable", kind=ErrorKind.RETRY, status=503
            )
        return dict(self.payments[payment_id])


def test_a_chargeback_left_waiting_by_an_outage_is_taken_in_when_delivered_again(
    rt: Runtime,
) -> None:
    client = FailingOnce({"PMZ": gc_payment("PMZ", 4100)})
    post_gc(rt, [gc_event("EVZ2", "charged_back", "PMZ")], client)  # no cash yet: it waits
    confirmed = [gc_event("EVZ1", "confirmed", "PMZ")]
    with pytest.raises(ApiError):  # answered 5xx: GoCardless delivers it again
        post_gc(rt, confirmed, client)
    assert amounts(rt) == [4100]  # the cash is in; the chargeback still waits
    again = post_gc(rt, confirmed, client)
    assert again.duplicates == 1 and again.events == 0
    assert sorted(amounts(rt)) == [-4100, 4100]
