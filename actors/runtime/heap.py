"""The garbage collector's view of a long-running actor process.

Python's full collection walks every tracked object, so its pause grows with the heap.  What a process
builds at start (modules, settings, pools) lives as long as the process: :func:`settle_heap` moves it out
of the collector's sight once the process is up, so a full collection under load walks only what the
load itself keeps alive (the live entities).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc


def settle_heap() -> None:
    """Collect once, then exempt every object alive now from later collections (``gc.freeze``)."""
    gc.collect()
    gc.freeze()


def release_freed_memory() -> None:
    """Collect, then hand the C allocator's free pages back to the system (glibc's ``malloc_trim``), so a
    burst (thousands of connections, say) does not leave the process at its peak size once it is over."""
    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the allocator keeps its pages
        pass
