"""Cyclic garbage collection tuned for batch runs (a pull, a reconcile).

Python's cyclic collector periodically walks every tracked object. A batch run allocates
millions of short-lived objects, so full passes come often, and each one walks the whole
process — its imported modules, caches and a reconcile's book of a million open items — to
find nothing: a quarter of a pull's and a fifth of a reconcile's time. Objects alive when a run
starts are frozen out of those passes (reference counting still frees them as usual), and a
run can pause collection while it loads a large, cycle-free structure and then freeze that
too. The youngest generation is also collected less often during a run: with Python's default
of every 700 allocations, a page of a thousand records set off dozens of passes that found
nothing (a tenth of a pull's time). All is restored when the run ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000  # allocations between passes over the youngest generation in a run


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Run the block with everything alive at its start left out of cyclic-GC passes, and
    the youngest generation collected every ``YOUNG_THRESHOLD`` allocations at most."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], YOUNG_THRESHOLD), *thresholds[1:])
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


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
