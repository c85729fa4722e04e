"""Cyclic garbage collection tuned for batch runs (a pull, a reconcile).

Python's cyclic collector periodically walks every tracked object. A batch run allocates
millions of short-lived objects, so full passes come often, and each one walks the whole
process — its imported modules, caches and a reconcile's book of a million open items — to
find nothing: a quarter of a pull's and a fifth of a reconcile's time. Objects alive when a run
starts are frozen out of those passes (reference counting still frees them as usual), and a
run can pause collection while it loads a large, cycle-free structure and then freeze that
too. All is unfrozen when the run ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Run the block with everything alive at its start left out of cyclic-GC passes."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextmanager
def loading_without_gc() -> Iterator[None]:
    """Load a large structure without collector passes, then freeze it (inside
    ``frozen_heap``, which unfreezes it at the end)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
