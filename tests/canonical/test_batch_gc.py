"""Batch runs keep long-lived objects out of cyclic-GC passes and restore the collector."""

from __future__ import annotations

import gc
import weakref

from canonical.batch_gc import YOUNG_THRESHOLD, frozen_heap, loading_without_gc


class _Item:
    pass


def test_frozen_heap_freezes_for_the_block_only() -> None:
    before = gc.get_freeze_count()
    with frozen_heap():
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == 0


def test_a_run_collects_the_young_generation_less_often_and_restores_it() -> None:
    before = gc.get_threshold()
    with frozen_heap():
        assert gc.get_threshold()[0] == max(before[0], YOUNG_THRESHOLD)
        assert gc.get_threshold()[1:] == before[1:]
    assert gc.get_threshold() == before


def test_frozen_objects_are_still_freed_by_reference_counting() -> None:
    with frozen_heap():
        with loading_without_gc():
            item = _Item()
        gone = weakref.ref(item)
        del item
        assert gone() is None


def test_loading_restores_the_collector_as_it_was() -> None:
    with frozen_heap():
        with loading_without_gc():
            assert not gc.isenabled()
        assert gc.isenabled()
        gc.disable()
        try:
            with loading_without_gc():
                pass
            assert not gc.isenabled()
        finally:
            gc.enable()


def test_an_error_while_loading_still_restores_the_collector() -> None:
    try:
        with frozen_heap(), loading_without_gc():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert gc.isenabled()
    assert gc.get_threshold()[0] < YOUNG_THRESHOLD
    assert gc.get_freeze_count() == 0
