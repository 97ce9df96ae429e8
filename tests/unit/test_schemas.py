"""schemas/ is what the message models generate: regenerate and compare."""

from __future__ import annotations

import json
from pathlib import Path

from service.models import TOPIC_MODELS
from service.schemas import render_schemas

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"


def test_checked_in_schemas_are_current() -> None:
    """Every topic's schema file equals the one the models generate (run `skytally schemas`)."""
    expected = render_schemas()
    actual = {p.name: p.read_text(encoding="utf-8") for p in SCHEMAS.glob("*.schema.json")}
    assert expected == actual


def test_every_schema_carries_a_version() -> None:
    """Each output message schema has a schema_version field; the input one needs only text."""
    for topic, model in TOPIC_MODELS.items():
        schema = json.loads(render_schemas()[f"{topic}.schema.json"])
        if topic == "reports":
            assert ["text"] == schema["required"]
        else:
            assert "schema_version" in schema["properties"], model.__name__
