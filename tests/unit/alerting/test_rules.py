"""Rules file: loading, validation and error messages that point at the bad line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from service.alerting.rules import Levels, RulesError, load_rules, parse_duration, parse_rules
from service.errors import ConfigError

MINIMAL = """\
[threshold."1h"]
warning = 5
critical = 15
resolve = 3
"""


def test_default_file_loads() -> None:
    """The bundled defaults validate and carry the documented 1h and 24h levels."""
    rules = load_rules(None)
    assert Levels(5, 15, 3) == rules.threshold["1h"].levels_for("Rostov Oblast", "RU-ROS")
    assert Levels(15, 40, 10) == rules.threshold["24h"].levels_for("Rostov Oblast", "RU-ROS")


def test_default_night_level_catches_eight() -> None:
    """Eight interceptions in one night reach the default night warning level."""
    rules = load_rules(None)
    levels = rules.threshold["night"].levels_for("Rostov Oblast", "RU-ROS")
    assert levels is not None
    assert "warning" == levels.severity_for(8)


def test_load_from_path(tmp_path: Path) -> None:
    """A rules file on disk loads, and the runbook base URL from settings wins."""
    path = tmp_path / "rules.toml"
    path.write_text(MINIMAL, encoding="utf-8")
    rules = load_rules(path, runbook_base_url="https://ops.example/runbook")
    assert "https://ops.example/runbook#threshold" == rules.runbook_url("threshold")


def test_override_by_code_and_by_name() -> None:
    """Region overrides match an ISO code or a canonical name, case-insensitively."""
    rules = parse_rules(
        MINIMAL
        + '[threshold."1h".regions]\n'
        + '"RU-MOW" = { warning = 3, resolve = 1 }\n'
        + '"rostov oblast" = { warning = 10, critical = 30 }\n'
    )
    rule = rules.threshold["1h"]
    assert Levels(3, 15, 1) == rule.levels_for("Moscow", "RU-MOW")
    assert Levels(10, 30, 3) == rule.levels_for("Rostov Oblast", "RU-ROS")
    assert Levels(5, 15, 3) == rule.levels_for("Kursk Oblast", "RU-KRS")


def test_override_resolve_is_capped_below_warning() -> None:
    """An override lowering warning below the window's resolve gets resolve = warning - 1."""
    rules = parse_rules(MINIMAL + '[threshold."1h".regions]\n"RU-MOW" = { warning = 2 }\n')
    assert Levels(2, 15, 1) == rules.threshold["1h"].levels_for("Moscow", "RU-MOW")


def test_disabled_region_has_no_levels() -> None:
    """disabled = true silences a region for that window."""
    rules = parse_rules(MINIMAL + '[threshold."1h".regions]\n"RU-BEL" = { disabled = true }\n')
    assert None is rules.threshold["1h"].levels_for("Belgorod Oblast", "RU-BEL")


def test_syntax_error_names_line() -> None:
    """A TOML syntax error reports the file and line."""
    with pytest.raises(RulesError) as err:
        parse_rules(MINIMAL + "oops = \n", path="rules.toml")
    assert 5 == err.value.line
    assert str(err.value).startswith("rules.toml:5: not valid TOML")


def test_unknown_key_names_line() -> None:
    """A misspelt key is rejected at its line, with what to do."""
    text = '[threshold."1h"]\nwarning = 5\nresolve = 3\ncritcal = 15\n'
    with pytest.raises(RulesError) as err:
        parse_rules(text, path="rules.toml")
    assert 4 == err.value.line
    assert "unknown key 'threshold.1h.critcal'" in str(err.value)


def test_wrong_type_in_inline_override_names_line() -> None:
    """A bad value inside an inline region table points at that line."""
    text = MINIMAL + '\n[threshold."1h".regions]\n"RU-MOW" = { warning = "three" }\n'
    with pytest.raises(RulesError) as err:
        parse_rules(text, path="rules.toml")
    assert 7 == err.value.line
    assert "'three'" in str(err.value)


def test_resolve_not_below_warning_is_rejected() -> None:
    """resolve >= warning is refused with the fix, at the rule's table line."""
    text = "# rules\n" + MINIMAL.replace("resolve = 3", "resolve = 5")
    with pytest.raises(RulesError) as err:
        parse_rules(text, path="rules.toml")
    assert 2 == err.value.line
    assert "set resolve to at most 4" in str(err.value)


def test_critical_not_above_warning_is_rejected() -> None:
    """critical <= warning is refused."""
    with pytest.raises(RulesError, match="critical \\(5\\) must be above warning"):
        parse_rules(MINIMAL.replace("critical = 15", "critical = 5"))


def test_missing_key_points_at_table() -> None:
    """A required key left out is reported at its table header."""
    text = "\n\n" + MINIMAL.replace("warning = 5\n", "")
    with pytest.raises(RulesError) as err:
        parse_rules(text, path="rules.toml")
    assert 3 == err.value.line
    assert "'threshold.1h.warning' is required" in str(err.value)


def test_array_of_tables_error_line() -> None:
    """An error in the second [[source_silent]] entry points into that entry."""
    text = (
        '[[source_silent]]\nsource = "MoD"\nhours = 12\n\n'
        '[[source_silent]]\nsource = "Governor"\nhours = -1\n'
    )
    with pytest.raises(RulesError) as err:
        parse_rules(text, path="rules.toml")
    assert 7 == err.value.line


def test_bad_duration_is_explained() -> None:
    """A renotify that is not a duration says how to write one."""
    with pytest.raises(RulesError, match=r"write e\.g\. '30m'"):
        parse_rules(MINIMAL + 'renotify = "soon"\n')


def test_missing_file() -> None:
    """A missing file is a RulesError (a ConfigError and a ValueError) naming the path."""
    with pytest.raises(RulesError) as err:
        load_rules(Path("/nonexistent/rules.toml"))
    assert isinstance(err.value, ConfigError)
    assert isinstance(err.value, ValueError)
    assert "/nonexistent/rules.toml" == err.value.path


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", timedelta(minutes=30)), ("4h", timedelta(hours=4)),
     ("1h30m", timedelta(minutes=90)), ("7d", timedelta(days=7)), (90, timedelta(seconds=90))],
)
def test_parse_duration(text: str | int, expected: timedelta) -> None:
    """Durations read as strings with units or as seconds."""
    assert expected == parse_duration(text)


def test_unknown_windows() -> None:
    """Rule windows the worker does not keep are listed so the worker can log them."""
    rules = load_rules(None)
    assert ["24h/1h", "night"] == rules.unknown_windows(["1h", "24h"])
