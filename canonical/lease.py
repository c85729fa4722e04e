"""Leases: a step that must never run twice at once, across processes and hosts.

Two reconciles over the same book would each decide from balances the other is changing and
apply cash twice; two syncs would each create the canonical record of what the other is
linking. Triggers overlap in practice (the schedule in ``arsync serve``, a webhook's cycle,
an operator's ``arsync run``, a cron job), so the step takes a lease first: a row naming its
holder and when it runs out. A holder renews it inside each batch's own transaction
(:meth:`Held.renew`), so one that stalled past its lease and was taken over commits nothing
more: the renewal finds another holder and the batch rolls back. A crashed holder's lease
runs out and the next run takes it; on the host it ran on, at once (its process is gone).
When a lease was taken and runs out is the database's clock (:func:`db_now`), never a host's.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from canonical.ids import new_id
from canonical.models import Lease
from canonical.store import Store
from canonical.types import as_utc, utcnow

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(minutes=15)


def db_now(session: Session) -> datetime:
    """The database's clock: every host judges a lease by this one clock, so a host whose own
    clock runs behind (NTP broken) never writes a lease that others see as already run out,
    nor takes over a live one because its clock runs ahead."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return as_utc(session.execute(select(func.clock_timestamp())).scalar_one())
    if dialect == "sqlite":
        stamp = session.execute(text("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")).scalar_one()
        return datetime.fromisoformat(stamp).replace(tzinfo=UTC)
    return utcnow()


class LeaseHeld(Exception):
    """Another run holds the lease: this one must not start."""

    def __init__(self, name: str, holder: str, acquired_at: datetime, expires_at: datetime):
        self.name, self.holder = name, holder
        self.acquired_at, self.expires_at = acquired_at, expires_at
        super().__init__(
            f"another {name} is running ({holder}, since {acquired_at:%Y-%m-%d %H:%M:%S} UTC); "
            f"try again when it ends (its lease runs out at {expires_at:%H:%M:%S} UTC)"
        )


class LeaseLost(Exception):
    """This run's lease ran out and another run took it: the batch is not committed."""


class Held:
    """A lease this process holds."""

    def __init__(self, tenant: str, name: str, holder: str, ttl: timedelta) -> None:
        self.tenant, self.name, self.holder, self.ttl = tenant, name, holder, ttl

    @contextmanager
    def kept_alive(self, store: Store) -> Iterator[None]:
        """Renew the lease every third of its time while the block runs, for work that may
        outlast it between its own renewals (a push's round of calls to a slow or rate-limited
        system). A process that dies stops renewing; one that lost the lease stops trying."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(self.ttl.total_seconds() / 3):
                try:
                    with store.session() as session:
                        self.renew(session)
                except LeaseLost:
                    return
                except Exception:  # the store hiccuped: the next beat tries again
                    log.warning("lease %s: renewal failed; trying again", self.name)

        thread = threading.Thread(target=beat, name=f"lease {self.name}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    def renew(self, session: Session) -> None:
        """Extend the lease inside ``session``'s transaction; raises :class:`LeaseLost` (the
        caller's transaction then rolls back) when another run has taken it."""
        result = session.execute(
            update(Lease)
            .where(
                col(Lease.tenant) == self.tenant,
                col(Lease.name) == self.name,
                col(Lease.holder) == self.holder,
            )
            .values(expires_at=db_now(session) + self.ttl)
        )
        if not getattr(result, "rowcount", 0):
            raise LeaseLost(
                f"{self.name}: this run's lease ran out and another run took it over; "
                "its last batch was not committed"
            )


_HOLDER = re.compile(r"(?P<host>.+) pid (?P<pid>\d+) in (?P<space>\S+) \(")


def _process_space() -> str:
    """What tells this machine's process ids from another's that shares its host name (a
    container, a cloned VM): the boot's id and the pid namespace; "" where unknown."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        return f"{boot[:8]}:{os.stat('/proc/self/ns/pid').st_ino}"
    except OSError:
        return ""


def _holder() -> str:
    return (
        f"{socket.gethostname()} pid {os.getpid()} in {_process_space() or '-'} ({new_id()[-8:]})"
    )


def _gone(holder: str) -> bool:
    """Whether ``holder`` was a process of this machine and pid namespace that no longer
    runs (killed, crashed): its lease need not run out. A holder elsewhere (another host, a
    container sharing the host name), or a live process, is not gone."""
    found = _HOLDER.match(holder)
    space = _process_space()
    if found is None or not space or found["space"] != space:
        return False
    if found["host"] != socket.gethostname():
        return False
    try:
        os.kill(int(found["pid"]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):  # alive under another user; not a pid
        return False
    return False


def _take(session: Session, dialect_name: str, held: Held) -> None:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    key = (col(Lease.tenant) == held.tenant, col(Lease.name) == held.name)
    for _ in range(3):  # the holder may release it between our two statements: look again
        now = db_now(session)
        values = {"holder": held.holder, "acquired_at": now, "expires_at": now + held.ttl}
        inserted = session.execute(
            dialect.insert(Lease)
            .values(tenant=held.tenant, name=held.name, **values)
            .on_conflict_do_nothing(index_elements=["tenant", "name"])
            .returning(col(Lease.name))  # a row back when inserted (rowcount is not portable)
        ).first()
        if inserted is not None:
            return
        # a lease run out (its holder crashed or stalled) is taken over
        taken = session.execute(
            update(Lease).where(*key, col(Lease.expires_at) < now).values(**values)
        )
        if getattr(taken, "rowcount", 0):
            return
        current = session.get(Lease, (held.tenant, held.name))
        if current is not None and _gone(current.holder):
            taken = session.execute(
                update(Lease).where(*key, col(Lease.holder) == current.holder).values(**values)
            )
            if getattr(taken, "rowcount", 0):
                return
            continue
        if current is not None:
            raise LeaseHeld(held.name, current.holder, current.acquired_at, current.expires_at)
    raise LeaseHeld(held.name, "another run", now, now)


@contextmanager
def lease(store: Store, tenant: str, name: str, *, ttl: timedelta = DEFAULT_TTL) -> Iterator[Held]:
    """Hold the lease ``name`` for the block; raises :class:`LeaseHeld` when another live run
    holds it. Released at the end of the block, whatever happens in it."""
    held = Held(tenant, name, _holder(), ttl)
    with store.session() as session:
        _take(session, store.dialect, held)
    try:
        yield held
    finally:
        with store.session() as session:
            session.execute(
                delete(Lease).where(
                    col(Lease.tenant) == tenant,
                    col(Lease.name) == name,
                    col(Lease.holder) == held.holder,
                )
            )
