"""Leases: one holder at a time, taken over only once run out, fenced on renewal."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from canonical.lease import LeaseHeld, LeaseLost, _process_space, lease
from canonical.models import Lease
from canonical.store import Store
from canonical.types import utcnow


def rows(store: Store) -> list[Lease]:
    with store.session() as session:
        return list(session.exec(select(Lease)).all())


def run_out(store: Store, name: str) -> None:
    """As if its holder stalled or crashed long ago."""
    with store.session() as session:
        session.execute(
            update(Lease)
            .where(col(Lease.name) == name)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )


def test_a_second_holder_is_refused_while_the_first_holds_it(store: Store) -> None:
    with lease(store, "default", "reconcile") as first:
        with pytest.raises(LeaseHeld) as refused, lease(store, "default", "reconcile"):
            pytest.fail("two holders at once")
        assert refused.value.holder == first.holder
        assert "another reconcile is running" in str(refused.value)
        # other names and other tenants are their own leases
        with lease(store, "default", "sync"), lease(store, "acme", "reconcile"):
            pass
    assert rows(store) == []  # released
    with lease(store, "default", "reconcile"):
        pass


def test_released_when_the_block_fails(store: Store) -> None:
    with pytest.raises(RuntimeError), lease(store, "default", "reconcile"):
        raise RuntimeError("boom")
    assert rows(store) == []


def test_a_run_out_lease_is_taken_over_and_its_old_holder_commits_nothing_more(
    store: Store,
) -> None:
    with lease(store, "default", "reconcile") as stalled:
        run_out(store, "reconcile")
        with lease(store, "default", "reconcile") as taker:
            assert taker.holder != stalled.holder
            with store.session() as session, pytest.raises(LeaseLost):
                stalled.renew(session)
            with store.session() as session:
                taker.renew(session)
        # the stalled holder's release leaves no one else's lease behind, and removes nothing
        # of the taker's while it held it
    assert rows(store) == []


def test_renewal_extends_the_lease(store: Store) -> None:
    with lease(store, "default", "sync", ttl=timedelta(seconds=30)) as held:
        [before] = rows(store)
        held.ttl = timedelta(hours=1)
        with store.session() as session:
            held.renew(session)
        [after] = rows(store)
        assert after.expires_at > before.expires_at + timedelta(minutes=50)


def hold_as(store: Store, name: str, holder: str) -> None:
    """A lease row left by ``holder`` that has not run out."""
    now = utcnow()
    with store.session() as session:
        session.add(
            Lease(
                tenant="default",
                name=name,
                holder=holder,
                acquired_at=now,
                expires_at=now + timedelta(minutes=15),
            )
        )


def test_a_lease_of_a_process_gone_on_this_host_is_taken_at_once(store: Store) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # ended and reaped: its pid names no process now
    here = f"{socket.gethostname()} pid {child.pid} in {_process_space()}"
    hold_as(store, "push:quickbooks", f"{here} (deadbeef)")
    with lease(store, "default", "push:quickbooks") as held:
        [row] = rows(store)
        assert row.holder == held.holder


def test_a_live_or_remote_holder_keeps_its_lease(store: Store) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    host, space = socket.gethostname(), _process_space()
    hold_as(store, "sync", f"{host} pid {os.getpid()} in {space} (cafef00d)")
    hold_as(store, "reconcile", f"another-host.example pid {child.pid} in {space} (cafef00d)")
    # a container or a cloned VM sharing the host name: its pids are not ours to look up
    hold_as(store, "push:invoiced", f"{host} pid {child.pid} in 0badb007:4026531999 (cafef00d)")
    for name in ("sync", "reconcile", "push:invoiced"):
        with pytest.raises(LeaseHeld), lease(store, "default", name):
            pytest.fail("a held lease was taken")


def test_a_lease_kept_alive_outlasts_its_time_while_its_block_runs(store: Store) -> None:
    with lease(store, "default", "push:intacct", ttl=timedelta(seconds=0.6)) as held:
        with held.kept_alive(store):
            time.sleep(1.5)  # a slow round of calls, two and a half times the lease
            with pytest.raises(LeaseHeld), lease(store, "default", "push:intacct"):
                pytest.fail("a kept-alive lease was taken over")
        time.sleep(1.0)  # no longer kept alive: it runs out
        with lease(store, "default", "push:intacct") as taker:
            assert taker.holder != held.holder
