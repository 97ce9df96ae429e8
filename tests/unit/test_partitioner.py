"""The cached partitioner puts every key where aiokafka's (and the Java client's) would."""

from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from service.partitioner import CachedPartitioner

CACHED = CachedPartitioner(max_keys=64)  # small, so the suite also starts the cache over


@given(st.binary(max_size=80), st.integers(min_value=1, max_value=64))
def test_same_partition_as_aiokafka(key: bytes, n: int) -> None:
    partitions = list(range(n))
    expected = DefaultPartitioner()(key, partitions, partitions)
    assert expected == CACHED(key, partitions, partitions)
    assert expected == CACHED(key, partitions, partitions)  # from the cache the second time


def test_known_keys() -> None:
    """Region keys land where Kafka's Java client puts them (murmur2, positive, modulo)."""
    partitioner = CachedPartitioner()
    four = [0, 1, 2, 3]
    assert [DefaultPartitioner()(k, four, four) for k in (b"RU-BEL", b"RU-BRY", b"UA-30")] == [
        partitioner(k, four, four) for k in (b"RU-BEL", b"RU-BRY", b"UA-30")
    ]


def test_keyless_records_go_to_an_available_partition() -> None:
    assert CachedPartitioner()(None, [0, 1, 2, 3], [2]) == 2
