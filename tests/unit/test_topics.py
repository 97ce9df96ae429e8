"""The topics created before the worker starts cover everything the worker uses."""

from __future__ import annotations

from service.app import app, settings
from service.kafka_admin import COMPACTED, TABLES, topic_specs


def test_every_table_changelog_is_created_up_front() -> None:
    """Each faust table's changelog is in the pre-created, compacted topic list."""
    specs = topic_specs(settings)
    changelogs = {table.changelog_topic.get_topic_name() for table in app.tables.values()}
    assert changelogs <= set(specs)
    assert all(COMPACTED == specs[name] for name in changelogs)
    assert len(TABLES) == len(changelogs)


def test_region_counts_topic_is_compacted() -> None:
    """The region-counts topic keeps the latest value per window and region."""
    assert COMPACTED == topic_specs(settings)[settings.topic_region_counts]
