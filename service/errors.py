"""skytally's exceptions: one root, a small tree.

SkytallyError
├── InputError          a message that cannot be processed (goes to the dead-letter topic)
│   └── (reason codes: empty, too_large, not_utf8, binary, not_json, invalid_schema, empty_text)
├── ConfigError         bad settings or rules: the operator must fix a file or variable
└── BrokerError         the embedded or configured broker cannot be started or reached
"""

from __future__ import annotations


class SkytallyError(Exception):
    """Root of every error skytally raises on purpose."""


class InputError(SkytallyError):
    """A message that cannot be turned into a report; carries a machine-readable reason."""

    def __init__(self, reason: str, message: str, *, stage: str = "decode") -> None:
        super().__init__(message)
        self.reason = reason
        self.stage = stage


class ConfigError(SkytallyError):
    """Settings or rules are invalid; the message says what to change."""


class BrokerError(SkytallyError):
    """A Kafka broker could not be started or reached; the message says what to check."""
