"""The worker's garbage-collector tuning (service.gc_tuning)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from service.gc_tuning import tune
from service.settings import Settings


@pytest.fixture
def restore_gc() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def _in_a_generation(obj: object) -> bool:
    return any(o is obj for o in gc.get_objects())


def test_startup_objects_leave_the_collectors_generations(restore_gc: None) -> None:
    kept_for_life = [[i] for i in range(1000)]
    assert _in_a_generation(kept_for_life)

    tuned = tune(50_000)

    assert tuned.after == (50_000, tuned.before[1], tuned.before[2])
    assert gc.get_threshold()[0] == 50_000
    assert tuned.frozen >= 1000
    assert not _in_a_generation(kept_for_life)  # a full collection no longer walks it
    made_later = [[1]]
    assert _in_a_generation(made_later)  # objects made while running are collected as usual


def test_cycles_made_after_tuning_are_still_collected(restore_gc: None) -> None:
    tune(50_000)

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # type: ignore[attr-defined]
    del a, b
    assert gc.collect() >= 2


def test_zero_leaves_pythons_defaults(restore_gc: None) -> None:
    before = gc.get_threshold()
    tuned = tune(0)
    assert gc.get_threshold() == before == tuned.after
    assert tuned.frozen == 0 == gc.get_freeze_count()


def test_the_setting_defaults_to_a_large_young_generation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKYTALLY_GC_YOUNG_THRESHOLD", raising=False)
    assert Settings().gc_young_threshold == 50_000
    monkeypatch.setenv("SKYTALLY_GC_YOUNG_THRESHOLD", "0")
    assert Settings().gc_young_threshold == 0
