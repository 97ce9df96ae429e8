"""JSON Schemas of the topics' messages, generated from the pydantic models."""

from __future__ import annotations

import json
from pathlib import Path

from service.models import TOPIC_MODELS


def render_schemas() -> dict[str, str]:
    """File name -> JSON Schema text for every topic's message model."""
    out = {}
    for topic, model in TOPIC_MODELS.items():
        schema = model.model_json_schema(mode="serialization")
        schema["$id"] = f"https://skytally.invalid/schemas/{topic}.schema.json"
        schema["x-topic"] = f"skytally.{topic}"
        out[f"{topic}.schema.json"] = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    return out


def write_schemas(directory: Path) -> list[Path]:
    """Write every schema into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in render_schemas().items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths
