"""What ``arsync status`` shows: last runs, bookmarks, quarantine."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select
from sqlmodel import col

from canonical.models import Quarantine, SyncBookmark, SyncRun
from canonical.store import Store


def print_status(store: Store, tenant: str, console: Console) -> None:
    with store.session() as session:
        runs = (
            session.execute(
                select(SyncRun)
                .where(col(SyncRun.tenant) == tenant)
                .order_by(col(SyncRun.started_at).desc())
                .limit(12)
            )
            .scalars()
            .all()
        )
        marks = (
            session.execute(
                select(SyncBookmark)
                .where(col(SyncBookmark.tenant) == tenant)
                .order_by(col(SyncBookmark.system), col(SyncBookmark.stream))
            )
            .scalars()
            .all()
        )
        quarantine = session.execute(
            select(col(Quarantine.system), col(Quarantine.object_type), func.count())
            .where(col(Quarantine.tenant) == tenant, col(Quarantine.resolved_at).is_(None))
            .group_by(col(Quarantine.system), col(Quarantine.object_type))
        ).all()
    runs_table = Table(title="last runs")
    for column in ("started", "system", "mode", "status", "records", "API calls", "error"):
        runs_table.add_column(column)
    for run in runs:
        fetched = sum(int(c.get("fetched", 0)) for c in run.counts.values())
        runs_table.add_row(
            run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            run.system,
            run.mode,
            run.status,
            str(fetched),
            str(run.api_calls),
            run.error or "",  # whole: its end says what to do (the table wraps it)
        )
    console.print(runs_table)
    marks_table = Table(title="bookmarks")
    for column in ("system", "stream", "cursor", "updated"):
        marks_table.add_column(column)
    for mark in marks:
        marks_table.add_row(
            mark.system,
            mark.stream,
            mark.cursor or "-",
            mark.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
        )
    console.print(marks_table)
    q_table = Table(title="quarantine (open)")
    for column in ("system", "stream", "records"):
        q_table.add_column(column)
    for system, stream, count in quarantine:
        q_table.add_row(system, stream, str(count))
    console.print(q_table if quarantine else "quarantine: empty")
