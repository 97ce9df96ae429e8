"""structlog configuration: JSON lines on stdout, for our events and for faust's stdlib logs."""

from __future__ import annotations

import logging
import logging.config
from typing import Any

import structlog

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class RepeatFilter(logging.Filter):
    """Rate-limits repeated library messages (one per ``interval`` s per logger and template).

    While a broker is down aiokafka retries its metadata refresh in a tight loop and logs
    "Unable connect to node" tens of thousands of times a minute. The first record of a kind
    passes; the next within ``interval`` are counted and the count is added to the first one
    let through afterwards. skytally's own events are never filtered.
    """

    def __init__(self, prefixes: tuple[str, ...] = ("aiokafka", "kafka"), interval: float = 10.0) -> None:
        super().__init__()
        self.prefixes = prefixes
        self.interval = interval
        self._last: dict[tuple[str, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a repeat within the interval; otherwise pass, noting what was held back."""
        if not record.name.startswith(self.prefixes):
            return True
        key = (record.name, str(record.msg))
        seen = self._last.get(key)
        if seen is not None and record.created - seen[0] < self.interval:
            self._last[key] = (seen[0], seen[1] + 1)
            return False
        if seen is not None and seen[1]:
            held = f"{seen[1]} more like it in the last {self.interval:.0f} s not logged"
            record.msg = f"{record.getMessage()} ({held})"
            record.args = ()
        if len(self._last) > 1000:
            self._last.clear()
        self._last[key] = (record.created, 0)
        return True


def configure_structlog() -> None:
    """Route structlog through stdlib logging so one handler renders every record as JSON."""
    structlog.configure(
        processors=[
            # Drop records below the logger's level before any work is done on them.
            structlog.stdlib.filter_by_level,
            *_SHARED,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def logging_config() -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict for faust/mode (merged with the worker's -l level)."""
    return {
        "version": 1,
        "merge": True,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer(ensure_ascii=False),
                ],
                "foreign_pre_chain": _SHARED,
            }
        },
        "filters": {"repeats": {"()": RepeatFilter}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "filters": ["repeats"],
                "stream": "ext://sys.stdout",
            }
        },
    }


def setup_cli_logging(level: str = "warning") -> None:
    """JSON logging for commands that do not run the faust worker (extract, replay, demo)."""
    configure_structlog()
    config = logging_config()
    config.pop("merge")
    config["root"] = {"level": level.upper(), "handlers": ["default"]}
    logging.config.dictConfig(config)
