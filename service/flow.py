"""Flow control between stage 1 and the stages after it, in one worker.

Stage 1 is cheap per report (decode and extract) and the statement and region stages are not;
they share the worker's event loop. With a backlog in the reports topic, stage 1 alone used to
read the whole of it first (a 1,000,000-report backfill: ~610 s in which the later stages got
through ~4 %), so counts and alerts came out only after it was done, and stage 1 held the CPU
they needed.

Here stage 1 pauses its partitions while the later stages of the same worker have more than
``limit`` messages waiting in Kafka (their input partitions' high-water marks minus the offsets
they committed), and resumes when that falls to half the limit (hysteresis, so it does not
flap on every poll). A lag that is not known (before the later stages' first fetch) never
holds stage 1 back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def waiting(partitions: Iterable[tuple[int | None, int | None]]) -> int | None:
    """Messages waiting over ``(high_water, done)`` pairs, ``done`` the offset the stage has
    got to; None when no pair is known. A partition with either unknown is left out: counting
    it from offset 0 could hold stage 1 for ever on a partition whose start retention deleted
    and that has nothing to process."""
    total: int | None = None
    for high, done in partitions:
        if high is None or done is None:
            continue
        total = (total or 0) + max(0, high - done)
    return total


def newest(*offsets: int | None) -> int | None:
    """The largest of the known offsets (None when none is known)."""
    known = [o for o in offsets if o is not None]
    return max(known) if known else None


@dataclass
class Gate:
    """Whether stage 1 holds: over ``limit`` waiting it holds, at ``limit // 2`` or less it goes.

    ``limit`` 0 turns flow control off.
    """

    limit: int
    held: bool = False

    def update(self, lag: int | None) -> bool:
        """The new state for ``lag`` (None: unknown, which releases); True when it changed."""
        if self.limit <= 0 or lag is None:
            hold = False
        elif self.held:
            hold = lag > self.limit // 2
        else:
            hold = lag > self.limit
        changed = hold != self.held
        self.held = hold
        return changed
