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


def configure_structlog() -> None:
    """Route structlog through stdlib logging so one handler renders every record as JSON."""
    structlog.configure(
        processors=[
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
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "formatter": "json",
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
