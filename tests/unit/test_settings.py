"""Settings: every variable is documented, secrets stay secret, bad values are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from service.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_is_in_the_readme() -> None:
    """Each SKYTALLY_* variable appears in the README's settings table."""
    text = README.read_text(encoding="utf-8")
    missing = [
        f"SKYTALLY_{n.upper()}" for n in Settings.model_fields if f"`SKYTALLY_{n.upper()}`" not in text
    ]
    assert [] == missing


def test_password_is_never_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SASL password is a SecretStr: repr and JSON dumps hide it."""
    monkeypatch.setenv("SKYTALLY_KAFKA_SASL_PASSWORD", "hunter2")
    settings = Settings()
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in settings.model_dump_json()
    assert settings.kafka_sasl_password is not None
    assert "hunter2" == settings.kafka_sasl_password.get_secret_value()


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """SKYTALLY_* variables set the fields."""
    monkeypatch.setenv("SKYTALLY_KAFKA_BOOTSTRAP", "broker:9093")
    monkeypatch.setenv("SKYTALLY_WEB_PORT", "7000")
    settings = Settings()
    assert ("broker:9093", 7000) == (settings.kafka_bootstrap, settings.web_port)


def test_bad_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A port out of range fails at start with the variable named."""
    monkeypatch.setenv("SKYTALLY_WEB_PORT", "70000")
    with pytest.raises(ValidationError, match="web_port"):
        Settings()


@pytest.mark.parametrize("replicas", [0, 2])
def test_standby_replicas_reach_the_faust_app(monkeypatch: pytest.MonkeyPatch, replicas: int) -> None:
    """SKYTALLY_STANDBY_REPLICAS becomes the App's table_standby_replicas (no connection made)."""
    from service.app import create_app

    monkeypatch.setenv("SKYTALLY_STANDBY_REPLICAS", str(replicas))
    app = create_app(Settings())
    assert replicas == app.conf.table_standby_replicas


def test_negative_standby_replicas_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A negative standby count is a configuration error naming the variable."""
    monkeypatch.setenv("SKYTALLY_STANDBY_REPLICAS", "-1")
    with pytest.raises(ValidationError, match="standby_replicas"):
        Settings()
