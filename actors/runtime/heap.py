"""The garbage collector's view of a long-running actor process.

Python's full collection walks every tracked object, so its pause grows with the heap.  What a process
builds at start (modules, settings, pools) lives as long as the process: :func:`settle_heap` moves it out
of the collector's sight once the process is up, so a full collection under load walks only what the
load itself keeps alive (the live entities).  The youngest generation is collected every 10,000 new
objects instead of Python's 700: an actor process allocates fast and keeps little of what it allocates
(at 50 calls/s the hosts' process took 7.6-9.7 ms of CPU a call with the default, 6.6-7.3 ms with this).
"""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Collect once, exempt every object alive now from later collections (``gc.freeze``), and collect the
    young generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)
