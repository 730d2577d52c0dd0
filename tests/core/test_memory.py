"""core.memory: the peak resident memory, and its reset where Linux offers one."""

import gc
import weakref
from pathlib import Path

import numpy as np
import pytest

from core.memory import (
    long_lived_freeze,
    peak_memory_mb,
    peak_memory_reset,
    process_peak_memory_mb,
)


def test_the_peak_counts_memory_touched_and_the_reset_starts_again():
    before = peak_memory_mb()
    block = np.ones(64 * 1024 * 1024 // 8)  # 64 MiB, every page touched
    assert peak_memory_mb() >= before
    assert peak_memory_mb() > 0
    del block
    if not Path("/proc/self/clear_refs").exists():
        pytest.skip("no resettable peak here (Linux only)")
    grown = peak_memory_mb()
    peak_memory_reset()
    assert peak_memory_mb() < grown - 32  # the freed 64 MiB no longer counts


def test_the_process_peak_survives_the_resets():
    block = np.ones(96 * 1024 * 1024 // 8)  # 96 MiB, every page touched
    grown = peak_memory_mb()
    peak_memory_reset()  # while the block is held: the kernel updates its peak lazily
    del block
    peak_memory_reset()
    assert process_peak_memory_mb() >= grown - 1


class _Node:
    """An object in a reference cycle with itself: freed only by the collector."""

    def __init__(self) -> None:
        self.me = self


def test_long_lived_freeze_moves_objects_out_of_the_collectors_way(settings):
    settings.GC_FREEZE_LONG_LIVED = True
    try:
        kept = _Node()
        garbage = _Node()
        garbage_ref, kept_ref = weakref.ref(garbage), weakref.ref(kept)
        long_lived_freeze(collect=False)
        assert gc.get_freeze_count() > 0
        del garbage
        gc.collect()
        # Frozen: a cycle that became garbage waits for the next freeze that collects.
        assert garbage_ref() is not None
        long_lived_freeze(collect=True)
        assert garbage_ref() is None
        assert kept_ref() is kept
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_long_lived_freeze_is_off_with_its_setting(settings):
    settings.GC_FREEZE_LONG_LIVED = False
    gc.unfreeze()
    long_lived_freeze(collect=True)
    assert gc.get_freeze_count() == 0
