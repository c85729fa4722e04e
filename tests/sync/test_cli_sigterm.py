"""`arsync sync` stopped by SIGTERM (systemd stopping its unit, a pod evicted, cron's
`timeout`) ends like an interrupt: its run is recorded as failed and interrupted, its lease is
released (the next run need not wait 15 minutes), and it exits 143."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from canonical.enums import RunStatus
from canonical.models import Lease, SyncRun
from canonical.store import Store

pytestmark = pytest.mark.timeout(120)

CHILD = textwrap.dedent(
    """
    import sys, time
    from connectors.base import Connector, Page, Stream
    from sync.cli import script
    from sync.runtime import Runtime

    class Slow(Stream):
        name, object_type, ordered = "customers", "customer", True
        def pages(self, since, until):
            print("READING", flush=True)
            time.sleep(60)
            yield Page(records=[])

    class Fake(Connector):
        system = "invoiced"
        def streams(self): return {"customers": Slow()}
        def check(self): pass
        @property
        def api_calls(self): return 0
        def close(self): pass

    Runtime.connector = lambda self, system: Fake()
    sys.argv = ["arsync", *sys.argv[1:]]
    script()
    """
)


def test_sigterm_records_the_run_as_interrupted_and_releases_the_lease(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    config = tmp_path / "arsync.toml"
    config.write_text(
        f'database_url = "sqlite:///{db}"\n[invoiced]\nbase_url = "http://127.0.0.1:9"\n'
    )
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, "sync", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        env={"PATH": "/usr/bin:/bin", "ARSYNC_INVOICED__API_KEY": "k3y-value-123"},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "READING"
    child.send_signal(signal.SIGTERM)
    _, stderr = child.communicate(timeout=30)
    assert child.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr
    store = Store.open(f"sqlite:///{db}")
    try:
        with store.session() as session:
            runs = session.execute(select(SyncRun)).scalars().all()
            leases = session.execute(select(func.count()).select_from(Lease)).scalar_one()
    finally:
        store.dispose()
    assert [(r.system, r.status, r.error) for r in runs] == [
        ("invoiced", RunStatus.FAILED, "interrupted")
    ]
    assert runs[0].finished_at is not None
    assert leases == 0  # released: the next run starts at once
