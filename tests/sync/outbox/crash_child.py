"""A push that kills itself (SIGKILL) the Nth time it reaches a named point.

python crash_child.py CONFIG.json POINT N
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from connectors.http import RetryPolicy
from sync.runtime import Runtime
from sync.settings import load_settings


def main() -> None:
    config, point, nth = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    settings = load_settings(None, **json.loads(config.read_text(encoding="utf-8")))
    runtime = Runtime.open(settings, policy=RetryPolicy(max_attempts=2, base_delay=0.01))
    seen = 0

    def crash(reached: str) -> None:
        nonlocal seen
        if reached == point:
            seen += 1
            if seen == nth:
                os.kill(os.getpid(), signal.SIGKILL)

    runtime.push(crash=crash)
    runtime.close()


if __name__ == "__main__":
    main()
