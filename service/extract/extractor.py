"""Placeholder: the extraction helper replaces this module with the real extractor."""

from __future__ import annotations

from datetime import date

from service.models import ExtractionResult


def extract_report(
    text: str,
    *,
    report_id: str,
    published: date | None = None,
    language: str | None = None,
) -> ExtractionResult:
    """Read one report text into a structured result (interface only for now)."""
    return ExtractionResult(id=report_id, language=language)
