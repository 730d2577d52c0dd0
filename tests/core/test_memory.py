"""core.memory: the peak resident memory, and its reset where Linux offers one."""

from pathlib import Path

import numpy as np
import pytest

from core.memory import peak_memory_mb, peak_memory_reset, process_peak_memory_mb


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
