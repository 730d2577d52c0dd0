"""This process's peak resident memory, resettable: per-stage figures for a long job.

Linux keeps the peak (VmHWM in /proc/self/status) and resets it when 5 is written to
/proc/self/clear_refs, so a job can report the peak of each of its stages. Elsewhere the peak
is getrusage's, which never resets, and the reset does nothing.
"""

import contextlib
import ctypes
import resource
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def peak_memory_mb() -> float:
    """The peak resident memory since the last reset (or since the process started), MiB."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# The highest peak before the last reset: getrusage's maximum reads the same counter the reset
# lowers, so the process's own peak is kept here.
_peak_before_reset_mb = 0.0


def peak_memory_reset() -> None:
    """Start a new peak from the memory in use now (Linux only)."""
    global _peak_before_reset_mb
    _peak_before_reset_mb = max(_peak_before_reset_mb, peak_memory_mb())
    with contextlib.suppress(OSError):
        _CLEAR_REFS.write_text("5")


def process_peak_memory_mb() -> float:
    """The process's peak resident memory since it started, across resets, MiB."""
    return max(_peak_before_reset_mb, peak_memory_mb())


def _glibc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to hand back
        return None


_LIBC = _glibc()


def memory_release() -> None:
    """Hand the heap's free pages back to the system (glibc only; elsewhere nothing).

    A long job's freed temporaries stay in glibc's heaps (one per thread that allocated) and
    keep counting as resident: without this, a retrain after another in the same worker starts
    about a gigabyte higher at the ten-times benchmark scale.
    """
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
