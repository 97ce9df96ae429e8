"""Shared fixtures: one real broker per test session, unique Kafka names per test.

``broker``        session: the broker chosen by SKYTALLY_TEST_BROKER (kafka|tansu|HOST:PORT;
                  default kafka when java is on PATH, else tansu), started on first use.
``fresh_broker``  function: a private broker of the selected kind that a test may stop/kill.
``unique_id``     function: "<test-name>-<8 hex>", for group ids and app ids.
``topic_prefix``  function: "t-<unique_id>", prefix for this test's topic names.
``alertmanager``  function: a real Alertmanager (Debian package) on a free loopback port.
Logic lives in tests/support/.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # make `tests.support` importable under plain `pytest`
    sys.path.insert(0, str(ROOT))

from tests.support import session  # noqa: E402
from tests.support.alertmanager import Alertmanager, AlertmanagerMissingError  # noqa: E402
from tests.support.alertmanager import binary as alertmanager_binary  # noqa: E402
from tests.support.brokers import AnyBroker, local_kind, make_broker, select_broker  # noqa: E402


def _reporter(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Print past pytest's output capture, so the chosen broker shows in every run."""
    capman = request.config.pluginmanager.getplugin("capturemanager")

    def report(line: str) -> None:
        with capman.global_and_fixture_disabled():
            print(f"\n{line}", flush=True)

    return report


@pytest.fixture(scope="session")
def broker(request: pytest.FixtureRequest) -> Iterator[AnyBroker]:
    """The session's broker (started once, stopped at the end)."""
    started = session.start_with_retry(select_broker, report=_reporter(request))
    yield started
    started.close()


@pytest.fixture
def fresh_broker(request: pytest.FixtureRequest) -> Iterator[AnyBroker]:
    """A private broker of the selected kind (kafka/tansu) that a test may stop or kill."""
    kind = local_kind()
    started = session.start_with_retry(lambda: make_broker(kind), report=_reporter(request))
    yield started
    started.close()


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Alertmanager]:
    """A private, real Alertmanager; fails (never skips) when the Debian package is missing."""
    try:
        alertmanager_binary()
    except AlertmanagerMissingError as exc:
        pytest.fail(str(exc))
    with Alertmanager.launch(tmp_path / "alertmanager") as am:
        yield am


@pytest.fixture
def unique_id(request: pytest.FixtureRequest) -> str:
    """Unique, readable id for this test: use it for consumer groups and faust app ids."""
    return session.unique_id(request.node.nodeid)


@pytest.fixture
def topic_prefix(unique_id: str) -> str:
    """Prefix for this test's topic names, e.g. f"{topic_prefix}.reports"."""
    return f"t-{unique_id}"
