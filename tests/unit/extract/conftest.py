"""Shared helpers for the extraction tests: read a text into {region: count}."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from service.extract import extract_report
from service.models import ExtractionResult

Reader = Callable[..., ExtractionResult]


def _read(
    text: str, published: dt.date | None = dt.date(2025, 6, 15), language: str | None = None
) -> ExtractionResult:
    return extract_report(text, report_id="t", published=published, language=language)


@pytest.fixture
def read() -> Reader:
    """extract_report with a fixed id and a default publication date."""
    return _read


@pytest.fixture
def rows() -> Callable[..., dict[str, int | None]]:
    """The region -> count mapping of a text."""

    def _rows(text: str, **kw: object) -> dict[str, int | None]:
        return {r.region: r.count for r in _read(text, **kw).interceptions}  # type: ignore[arg-type]

    return _rows
