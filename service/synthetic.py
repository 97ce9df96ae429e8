"""A synthetic report stream with known ground truth, for replay, fault and scale tests.

Each *statement* is one real-world claim (a period, a total, per-region figures); each is
carried by one to four *outlets* with different wording, some published late and out of
order, some revised upwards by a later, more detailed report. The truth is what skytally
must end with: per window and region, the sum over statements of each statement's final
figure, windows placed by the period end. Pure: a seeded ``random.Random``, no I/O.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from service.windows import WindowSpec, placement_time

#: Regions the generator uses: (canonical name, code, English form used in text).
REGIONS: tuple[tuple[str, str, str], ...] = (
    ("Belgorod Oblast", "RU-BEL", "Belgorod"),
    ("Bryansk Oblast", "RU-BRY", "Bryansk"),
    ("Kursk Oblast", "RU-KRS", "Kursk"),
    ("Oryol Oblast", "RU-ORL", "Oryol"),
    ("Rostov Oblast", "RU-ROS", "Rostov"),
    ("Voronezh Oblast", "RU-VOR", "Voronezh"),
    ("Tula Oblast", "RU-TUL", "Tula"),
    ("Kaluga Oblast", "RU-KLU", "Kaluga"),
    ("Smolensk Oblast", "RU-SMO", "Smolensk"),
    ("Lipetsk Oblast", "RU-LIP", "Lipetsk"),
)
NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MSK = timedelta(hours=3)
OUTLETS = ("ministry", "wire-a", "wire-b", "daily-news", "aggregator", "regional-tv")


@dataclass(frozen=True)
class Statement:
    """One claim: a Moscow-time period and final per-region figures (code -> count)."""

    start: datetime
    end: datetime
    counts: dict[str, int]


def _number(n: int, rnd: random.Random) -> str:
    return NUMBER_WORDS[n] if n < len(NUMBER_WORDS) and rnd.random() < 0.5 else str(n)


def _names() -> dict[str, str]:
    return {code: form for _, code, form in REGIONS}


def render(statement: Statement, rnd: random.Random, *, style: int, total: int | None = None) -> str:
    """One outlet's wording of a statement (all styles carry the same figures and period)."""
    names = _names()
    local_start, local_end = statement.start + MSK, statement.end + MSK
    parts = [f"{_number(n, rnd)} over the {names[c]} Region" for c, n in statement.counts.items()]
    listing = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    total = total if total is not None else sum(statement.counts.values())

    def day(t: datetime) -> str:
        return f"{MONTHS[t.month - 1]} {t.day}"

    if local_start.date() == local_end.date():
        period = f"from {local_start:%H:%M} to {local_end:%H:%M} Moscow time on {day(local_end)}"
    else:
        period = (
            f"from {local_start:%H:%M} on {day(local_start)} to {local_end:%H:%M} on "
            f"{day(local_end)} Moscow time"
        )
    if style == 0:
        return (
            f"Russian air defences destroyed {total} Ukrainian drones {period}: {listing}, "
            "the Defence Ministry said."
        )
    if style == 1:
        return f"The Russian Defence Ministry said {total} drones were intercepted {period}: {listing}."
    return (
        f"{period[0].upper()}{period[1:]}, air defence systems shot down {total} Ukrainian drones: "
        f"{listing}, the ministry reported."
    )


def _correction(
    statement: Statement, seed: int, i: int, rnd: random.Random
) -> list[tuple[datetime, dict[str, Any]]]:
    """The ministry's first figures for a period, which it corrects in a later report.

    The first version has one region 3 higher (and its own total); the ministry's corrected
    report is among the statement's own reports, published later: only it counts. The first
    version may arrive after the correction (late delivery): it still must not count.
    """
    code = rnd.choice(list(statement.counts))
    first = Statement(statement.start, statement.end, {**statement.counts, code: statement.counts[code] + 3})
    published = statement.end + timedelta(minutes=1)
    arrival = published + (timedelta(hours=rnd.randint(2, 6)) if rnd.random() < 0.3 else timedelta(0))
    report = {
        "id": f"syn-{seed}-{i}-first",
        "source": "ministry",
        "url": f"https://example.org/ministry/{seed}/{i}/first",
        "published_at": published.isoformat(),
        "language": "en",
        "text": render(first, rnd, style=rnd.randint(0, 2)),
    }
    return [(arrival, report)]


def generate(
    n_statements: int, *, seed: int = 1, start: datetime | None = None
) -> tuple[list[dict[str, Any]], list[Statement]]:
    """Reports (JSON-ready dicts, in arrival order) and the statements behind them."""
    rnd = random.Random(seed)  # noqa: S311 - test data, not security
    t = start or datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
    statements: list[Statement] = []
    arrivals: list[tuple[datetime, dict[str, Any]]] = []
    periods: set[tuple[datetime, datetime]] = set()
    i = 0
    while len(statements) < n_statements:
        t += timedelta(minutes=rnd.randint(20, 90))
        length = timedelta(hours=rnd.randint(1, 3))
        end = t.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        picked = rnd.sample(REGIONS, rnd.randint(1, 4))
        final = {code: rnd.randint(1, 12) for _, code, _ in picked}
        if (end - length, end) in periods:  # one statement per stated period: draw again
            continue
        periods.add((end - length, end))
        i += 1
        statement = Statement(end - length, end, final)
        statements.append(statement)
        outlets = rnd.sample(OUTLETS, rnd.randint(1, 4))
        revised = len(outlets) > 1 and rnd.random() < 0.15  # a later outlet has the full figures
        if rnd.random() < 0.1:  # the ministry corrects its own first figures
            arrivals += _correction(statement, seed, i, rnd)
            outlets = ["ministry", *(o for o in outlets if o != "ministry")]
            revised = False
        for k, outlet in enumerate(outlets):
            shown = statement
            if revised and k == 0:  # a first, partial report: one region lower, raised later
                code = rnd.choice(list(final))
                shown = Statement(statement.start, statement.end, {**final, code: max(1, final[code] - 2)})
            delay = timedelta(minutes=5 + 25 * k + rnd.randint(0, 20))
            if rnd.random() < 0.05:  # late, out of order, still within the default 24 h grace
                delay += timedelta(hours=rnd.randint(2, 12))
            published = end + delay
            report = {
                "id": f"syn-{seed}-{i}-{k}",
                "source": outlet,
                "url": f"https://example.org/{outlet}/{seed}/{i}",
                "published_at": published.isoformat(),
                "language": "en",
                # The claimed total is the statement's own, also in a partial first report.
                "text": render(shown, rnd, style=rnd.randint(0, 2), total=sum(final.values())),
            }
            arrivals.append((published, report))
    arrivals.sort(key=lambda a: a[0])
    return [r for _, r in arrivals], statements


def truth(statements: list[Statement], windows: tuple[WindowSpec, ...]) -> dict[str, int]:
    """Expected final counts: ``"window|window_start|code" -> count``."""
    out: dict[str, int] = defaultdict(int)
    for s in statements:
        t = placement_time(s.end, None, s.end)
        for spec in windows:
            for w_start, _ in spec.containing(t):
                for code, n in s.counts.items():
                    out[f"{spec.name}|{w_start.isoformat()}|{code}"] += n
    return dict(sorted(out.items()))
