"""Alert rules: a TOML file validated at start into pydantic models.

The file is read once with :mod:`tomllib` and validated strictly (unknown keys are errors,
so a typo such as ``warnig`` cannot silently disable a rule). Every error is a
:class:`RulesError` naming the file and line and saying what to change: ``tomllib`` gives
the position of syntax errors, and for schema errors the offending key is looked up in the
source text (:mod:`service.alerting.tomlpos`).

Layout (see ``service/data/default_rules.toml`` for the commented defaults)::

    runbook_base_url = "https://..."      # optional; SKYTALLY_RUNBOOK_BASE_URL overrides it

    [threshold."1h"]                      # one table per window name
    warning = 5                           # count >= warning fires a warning
    critical = 15                         # count >= critical fires (or escalates to) critical
    resolve = 3                           # a firing alert resolves when count < resolve
    renotify = "4h"                       # re-send a still-firing alert this often
    regions."RU-MOW" = { warning = 3 }    # per-region overrides, ISO code or canonical name

    [baseline."24h"]                      # count >= factor x trailing mean, and >= min_count
    [first_activity]                      # first activity in a region for quiet_days
    [[source_silent]]                     # no report from a named source for hours

Window names are plain strings ("1h", "24h", "24h/1h", "night"): ``service.windows``
defines them; :meth:`RuleSet.unknown_windows` lists rule windows the worker does not keep.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from service.alerting.tomlpos import line_of
from service.errors import ConfigError
from service.models import Severity

DEFAULT_RULES_RESOURCE = "default_rules.toml"
DEFAULT_RUNBOOK_BASE_URL = "https://github.com/skytally/skytally/blob/main/deploy/runbook.md"

_DURATION_PART = re.compile(r"(\d+)\s*([smhd])")
_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RulesError(ConfigError, ValueError):
    """The rules file is unreadable or invalid; the message names the file, line and fix."""

    def __init__(self, message: str, *, path: str, line: int | None = None) -> None:
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


def parse_duration(value: object) -> timedelta:
    """Read a duration: ``"90m"``, ``"4h"``, ``"1h30m"``, ``"7d"`` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '30m', '4h' or '7d'")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, str):
        text = value.strip().replace(" ", "")
        parts = _DURATION_PART.findall(text)
        if text and "".join(n + u for n, u in parts) == text:
            return timedelta(seconds=sum(int(n) * _UNITS[u] for n, u in parts))
    raise ValueError(f"{value!r} is not a duration: write e.g. '30m', '4h', '1h30m' or '7d'")


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    """Rule models reject unknown keys and are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Levels:
    """The effective thresholds of one rule for one region."""

    warning: int
    critical: int | None
    resolve: int

    def severity_for(self, count: int) -> Severity | None:
        """The severity a count reaches, or None below the warning threshold."""
        if self.critical is not None and count >= self.critical:
            return "critical"
        if count >= self.warning:
            return "warning"
        return None

    def threshold_of(self, severity: Severity) -> int:
        """The firing threshold of a severity."""
        if severity == "critical" and self.critical is not None:
            return self.critical
        return self.warning


def _check_levels(warning: int, critical: int | None, resolve: int) -> None:
    if critical is not None and critical <= warning:
        raise ValueError(
            f"critical ({critical}) must be above warning ({warning}): raise critical or drop it"
        )
    if resolve >= warning:
        raise ValueError(
            f"resolve ({resolve}) must be below warning ({warning}) so an alert does not flap:"
            f" set resolve to at most {warning - 1}"
        )


class RegionOverride(_Strict):
    """Thresholds for one region; keys left out fall back to the window's defaults."""

    warning: int | None = Field(default=None, ge=1)
    critical: int | None = Field(default=None, ge=1)
    resolve: int | None = Field(default=None, ge=0)
    disabled: bool = Field(default=False, description="true: never alert on this region")


class ThresholdRule(_Strict):
    """Fire when a region's count in a window reaches a threshold (the ``threshold`` rule)."""

    warning: int = Field(ge=1)
    critical: int | None = Field(default=None, ge=1)
    resolve: int = Field(ge=0)
    renotify: Duration = timedelta(hours=4)
    regions: dict[str, RegionOverride] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _hysteresis(self) -> ThresholdRule:
        _check_levels(self.warning, self.critical, self.resolve)
        for name, override in self.regions.items():
            levels = self._merge(override)
            try:
                _check_levels(levels.warning, levels.critical, levels.resolve)
            except ValueError as exc:
                raise ValueError(f"region {name!r}: {exc}") from None
        return self

    def _merge(self, override: RegionOverride) -> Levels:
        warning = override.warning if override.warning is not None else self.warning
        critical = override.critical if override.critical is not None else self.critical
        if critical is not None and critical <= warning and override.critical is None:
            critical = None  # the window's critical is below this region's warning: no critical
        resolve = override.resolve if override.resolve is not None else min(self.resolve, warning - 1)
        return Levels(warning=warning, critical=critical, resolve=resolve)

    def override_for(self, region: str, code: str) -> RegionOverride | None:
        """The override keyed by ISO code, else by canonical name (case-insensitive)."""
        if code in self.regions:
            return self.regions[code]
        folded = region.casefold()
        for key, override in self.regions.items():
            if key.casefold() in (folded, code.casefold()):
                return override
        return None

    def levels_for(self, region: str, code: str) -> Levels | None:
        """Effective thresholds for a region, None when the region is disabled."""
        override = self.override_for(region, code)
        if override is None:
            return Levels(self.warning, self.critical, self.resolve)
        if override.disabled:
            return None
        return self._merge(override)


class BaselineRule(_Strict):
    """Fire when count >= factor x the trailing mean of the same window kind, and >= min_count."""

    factor: float = Field(gt=1.0)
    min_count: int = Field(ge=1)
    days: int = Field(default=7, ge=1, le=90)
    severity: Severity = "warning"
    resolve_factor: float | None = Field(
        default=None, gt=0.0, description="resolve below this x mean; default factor / 2"
    )
    renotify: Duration = timedelta(hours=6)

    @model_validator(mode="after")
    def _resolve_below(self) -> BaselineRule:
        if self.resolve_factor is not None and self.resolve_factor >= self.factor:
            raise ValueError(
                f"resolve_factor ({self.resolve_factor}) must be below factor ({self.factor})"
            )
        return self

    @property
    def effective_resolve_factor(self) -> float:
        """The factor below which a firing baseline alert resolves."""
        return self.resolve_factor if self.resolve_factor is not None else self.factor / 2


class FirstActivityRule(_Strict):
    """Fire on the first activity in a region after ``quiet_days`` without any."""

    quiet_days: int = Field(ge=1, le=365)
    window: str = Field(description="The window whose counts are watched, e.g. '24h'")
    min_count: int = Field(default=1, ge=1)
    severity: Severity = "warning"


class SourceSilentRule(_Strict):
    """Fire when a named source has published nothing for ``hours``."""

    source: str = Field(min_length=1)
    hours: float = Field(gt=0)
    severity: Severity = "warning"
    renotify: Duration = timedelta(hours=6)


RuleName = Literal["threshold", "baseline", "first_activity", "source_silent"]


class RuleSet(_Strict):
    """Every alert rule, validated; built by :func:`load_rules`."""

    runbook_base_url: str = DEFAULT_RUNBOOK_BASE_URL
    threshold: dict[str, ThresholdRule] = Field(default_factory=dict)
    baseline: dict[str, BaselineRule] = Field(default_factory=dict)
    first_activity: FirstActivityRule | None = None
    source_silent: list[SourceSilentRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_sources(self) -> RuleSet:
        names = [r.source.casefold() for r in self.source_silent]
        if len(set(names)) != len(names):
            raise ValueError("a source is listed twice in [[source_silent]]: keep one entry each")
        return self

    def runbook_url(self, anchor: str) -> str:
        """The runbook link for an alert: base URL + ``#`` + the runbook section anchor."""
        return f"{self.runbook_base_url}#{anchor}"

    def windows(self) -> set[str]:
        """Every window name some rule refers to."""
        names = set(self.threshold) | set(self.baseline)
        if self.first_activity is not None:
            names.add(self.first_activity.window)
        return names

    def unknown_windows(self, kept: set[str] | list[str] | tuple[str, ...]) -> list[str]:
        """Rule windows the worker does not keep (their rules can never fire): log these."""
        return sorted(self.windows() - set(kept))

    def renotify_for(self, rule: str, window: str) -> timedelta | None:
        """How often a still-firing alert of ``rule`` on ``window`` is re-sent (None: never).

        First-activity alerts are one-off notices; a rule removed from the file since the
        alert fired falls back to four hours.
        """
        if rule == "first_activity":
            return None
        if rule == "threshold" and window in self.threshold:
            return self.threshold[window].renotify
        if rule == "baseline" and window in self.baseline:
            return self.baseline[window].renotify
        return timedelta(hours=4)


def _describe(error: Any) -> str:
    kind = error.get("type", "")
    loc = ".".join(str(p) for p in error.get("loc", ()))
    if kind == "extra_forbidden":
        return f"unknown key {loc!r}: check its spelling against the documented keys"
    if kind == "missing":
        return f"{loc!r} is required: add it"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    value = error.get("input")
    shown = f" (got {value!r})" if not isinstance(value, dict | list) else ""
    return f"{loc}: {message}{shown}" if loc else f"{message}{shown}"


def parse_rules(source: str, *, path: str = "<rules>") -> RuleSet:
    """Validate rules TOML text into a :class:`RuleSet`; RulesError names the bad line."""
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        # Python 3.11 puts the position only in the message: "... (at line 5, column 8)".
        text = str(exc)
        where = _TOML_POS.search(text)
        line = int(where.group(1)) if where else None
        msg = _TOML_POS.sub("", text).strip()
        col = f" (column {where.group(2)})" if where else ""
        raise RulesError(f"not valid TOML: {msg}{col}", path=path, line=line) from None
    try:
        return RuleSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        line = line_of(source, first.get("loc", ()))
        more = exc.error_count() - 1
        suffix = f" (and {more} more error{'s' if more > 1 else ''})" if more else ""
        raise RulesError(_describe(first) + suffix, path=path, line=line) from None


def bundled_rules_text() -> str:
    """The text of the shipped default rules (package data ``service/data``).

    ``service`` is a namespace package (no ``__init__.py``); under an editable install
    ``importlib.resources`` cannot always resolve it, so the file next to this package is
    the fallback.
    """
    try:
        ref = resources.files("service").joinpath("data", DEFAULT_RULES_RESOURCE)
        return ref.read_text(encoding="utf-8")
    except (OSError, TypeError, ValueError):  # NotADirectoryError is an OSError
        fallback = Path(__file__).resolve().parent.parent / "data" / DEFAULT_RULES_RESOURCE
        return fallback.read_text(encoding="utf-8")


def load_rules(path: Path | None, *, runbook_base_url: str | None = None) -> RuleSet:
    """Load and validate a rules file; ``None`` loads the bundled defaults.

    ``runbook_base_url`` (from settings) replaces the file's own base URL when given.
    """
    if path is None:
        source, where = bundled_rules_text(), f"<bundled {DEFAULT_RULES_RESOURCE}>"
    else:
        try:
            source, where = path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            reason = f"cannot read the rules file: {exc.strerror}"
            raise RulesError(reason, path=str(path)) from None
        except UnicodeDecodeError:
            raise RulesError("the rules file is not UTF-8 text", path=str(path)) from None
    rules = parse_rules(source, path=where)
    if runbook_base_url:
        rules = rules.model_copy(update={"runbook_base_url": runbook_base_url})
    return rules
