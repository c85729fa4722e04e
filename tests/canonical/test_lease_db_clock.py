"""A lease is judged by the database's clock, not by each host's: a host whose clock runs 16
minutes behind (NTP broken) still writes a lease that a host with a correct clock sees as live,
and a host whose clock runs ahead never takes over a live one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import canonical.lease as leases
from canonical.lease import DEFAULT_TTL, LeaseHeld, lease
from canonical.models import Lease
from canonical.store import Store

HOST_A = "host-a pid 1 in x (aaaa1111)"  # another machine: never taken as a process gone
HOST_B = "host-b pid 2 in y (bbbb2222)"


def _host(monkeypatch: pytest.MonkeyPatch, holder: str, skew: timedelta) -> None:
    """Be ``holder``, on a host whose clock is ``skew`` off."""
    monkeypatch.setattr(leases, "_holder", lambda: holder)
    monkeypatch.setattr(leases, "utcnow", lambda: datetime.now(UTC) + skew)


@pytest.mark.parametrize("skew", [timedelta(minutes=-16), timedelta(minutes=16)])
def test_a_live_lease_is_not_taken_whatever_the_hosts_clocks(
    store: Store, monkeypatch: pytest.MonkeyPatch, skew: timedelta
) -> None:
    slow, fast = (skew, timedelta(0)) if skew < timedelta(0) else (timedelta(0), skew)
    _host(monkeypatch, HOST_A, slow)
    with lease(store, "default", "reconcile") as held_a:
        with store.session() as session:
            held_a.renew(session)  # A is alive and working
            row = session.get(Lease, ("default", "reconcile"))
            assert row is not None
            # when it runs out is the database's now plus the lease's time, whatever A's clock
            left = row.expires_at - datetime.now(UTC)
            assert DEFAULT_TTL - timedelta(seconds=30) < left <= DEFAULT_TTL + timedelta(seconds=5)
        _host(monkeypatch, HOST_B, fast)
        with pytest.raises(LeaseHeld, match="host-a pid 1"), lease(store, "default", "reconcile"):
            pass
        _host(monkeypatch, HOST_A, slow)
        with store.session() as session:
            held_a.renew(session)  # still A's: its next batch commits
