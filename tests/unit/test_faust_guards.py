"""The guard that keeps faust from committing messages of an old consumer generation."""

from __future__ import annotations

from types import SimpleNamespace

from faust.transport.consumer import Consumer

from service import faust_guards


def test_stale_generation_ack_is_refused_and_not_recorded() -> None:
    """A message fetched before a rebalance is let go of but its offset is never marked done."""
    faust_guards.install()
    message = SimpleNamespace(generation_id=1, acked=False, tp="reports:2", offset=59)
    unacked = {id(message)}
    consumer = SimpleNamespace(
        app=SimpleNamespace(consumer_generation_id=2),
        _unacked_messages=SimpleNamespace(discard=lambda m: unacked.discard(id(m))),
        _acked={},
    )
    assert Consumer.ack(consumer, message) is False  # type: ignore[arg-type]
    assert message.acked is True
    assert set() == unacked
    assert {} == consumer._acked


def test_staleness_needs_both_generations() -> None:
    """Only a known, different generation is stale; unknown generations are left to faust."""
    assert faust_guards.is_stale(SimpleNamespace(generation_id=3), 4)
    assert not faust_guards.is_stale(SimpleNamespace(generation_id=4), 4)
    assert not faust_guards.is_stale(SimpleNamespace(generation_id=None), 4)
    assert not faust_guards.is_stale(SimpleNamespace(generation_id=3), None)


def test_install_is_idempotent() -> None:
    """Installing twice keeps one wrapper (the original ack is called once per message)."""
    faust_guards.install()
    first = Consumer.ack
    faust_guards.install()
    assert first is Consumer.ack
