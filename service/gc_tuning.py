"""Garbage-collector settings for the long-running worker.

With Python's defaults (a young collection every 700 net allocations) a worker under load
promotes nearly everything that lives a few tens of milliseconds (messages waiting in a batch,
producer buffers) into the old generation, so full collections come every few seconds and each
one walks the whole heap: 60-150 ms pauses every ~4 s at 200 reports/s, measured with gc
callbacks (session 8). Every report in flight during a pause waits it out, so they set the tail
latency.

Two standard remedies (as CPython's docs describe for ``gc.freeze``):

- a larger young threshold: a young collection every N allocations, so only objects that live
  for seconds reach the old generation, and full collections become rare;
- ``gc.freeze()`` once the worker has imported and built everything it keeps for its lifetime
  (faust, the gazetteer, the rules): those objects leave the collector's generations, so a full
  collection no longer walks them.

Reference cycles are still collected; cyclic garbage just lives a little longer (at most one
young period's worth of objects).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass


@dataclass(frozen=True)
class GcTuning:
    """What :func:`tune` did: the thresholds before and after, and how many objects it froze."""

    before: tuple[int, int, int]
    after: tuple[int, int, int]
    frozen: int


def tune(young_threshold: int) -> GcTuning:
    """Freeze the objects alive now and set the young threshold (0: change nothing)."""
    before = gc.get_threshold()
    if young_threshold <= 0:
        return GcTuning(before, before, 0)
    gc.collect()  # garbage made while starting up is not frozen with the rest
    gc.freeze()
    gc.set_threshold(young_threshold, before[1], before[2])
    return GcTuning(before, gc.get_threshold(), gc.get_freeze_count())
