"""Pure extraction: report text in, :class:`service.models.ExtractionResult` out.

No faust, no Kafka, no I/O beyond loading the checked-in gazetteer once.
"""

from __future__ import annotations

from service.extract.extractor import extract_report

__all__ = ["extract_report"]
