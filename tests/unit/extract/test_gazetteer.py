"""The gazetteer data: every federal subject and oblast with its ISO code, and alias forms."""

from __future__ import annotations

import pycountry
import pytest

from service.extract.gazetteer import expand, load
from service.extract.text import normalise

# Codes the project names differently from pycountry (kept by ISO code).
SEAS = {"SEA-BLACK", "SEA-AZOV", "SEA-CASPIAN", "SEA-BALTIC"}


def _codes_found(text: str) -> list[str]:
    gz = load()
    return [m.place.code for m in gz.find(normalise(text)) if m.place.kind != "block"]


def test_every_russian_subject_present() -> None:
    """All 83 federal subjects of pycountry are in the gazetteer with their ISO code."""
    gz = load()
    ru = {s.code for s in pycountry.subdivisions.get(country_code="RU")}
    assert len(ru) >= 83
    assert ru <= set(gz.regions)


def test_every_ukrainian_unit_present() -> None:
    """All oblasts plus Kyiv, Sevastopol and Crimea (UA-43) are present."""
    gz = load()
    ua = {s.code for s in pycountry.subdivisions.get(country_code="UA")}
    assert ua <= set(gz.regions)
    assert gz.name_of("UA-43") == "Crimea"
    assert gz.name_of("UA-40") == "Sevastopol"


def test_seas_and_neighbours_present() -> None:
    """The four seas and the neighbouring states are regions of their own."""
    gz = load()
    assert SEAS <= set(gz.regions)
    for code in ("BY", "PL", "RO", "MD", "GE"):
        assert pycountry.countries.get(alpha_2=code) is not None
        assert code in gz.regions


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("RU-ORL", "Oryol Oblast"),
        ("RU-SE", "North Ossetia"),
        ("RU-KB", "Kabardino-Balkaria"),
        ("RU-MOW", "Moscow"),
        ("RU-MOS", "Moscow Oblast"),
        ("UA-30", "Kyiv"),
        ("UA-32", "Kyiv Oblast"),
        ("RU-KDA", "Krasnodar Krai"),
        ("UA-23", "Zaporizhzhia Oblast"),
    ],
)
def test_canonical_names(code: str, name: str) -> None:
    """Canonical English names follow the PATTERNS.md table."""
    assert load().name_of(code) == name


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Rostov Region", "RU-ROS"),
        ("the Rostov region", "RU-ROS"),
        ("Rostovskaya oblast", "RU-ROS"),
        ("Ростовской области", "RU-ROS"),
        ("над Ростовской", "RU-ROS"),
        ("Брянщиной", "RU-BRY"),
        ("Подмосковье", "RU-MOS"),
        ("Кубани", "RU-KDA"),
        ("Krasnodar Territory", "RU-KDA"),
        ("Republic of Tatarstan", "RU-TA"),
        ("Харківщині", "UA-63"),
        ("над Київщиною", "UA-32"),
        ("Прикарпаття", "UA-26"),
        ("ДНР", "UA-14"),
        ("LPR", "UA-09"),
        ("Zaporozhye", "UA-23"),
        ("Kiev", "UA-30"),
        ("Odessa", "UA-51"),
        ("Kharkov", "UA-63"),
        ("Orel", "RU-ORL"),
        ("Nikolaev", "UA-48"),
        ("над Кривим Рогом", "UA-12"),
        ("Kremenchuk", "UA-53"),
        ("Bila Tserkva", "UA-32"),
        ("Budennovsk", "RU-STA"),
        ("Novorossiysk", "RU-KDA"),
        ("Taganrog", "RU-ROS"),
        ("над Брянской и Курской областями", "RU-BRY"),
        ("Башкирией", "RU-BA"),
        ("Севастополем", "UA-40"),
        ("Республикой Крым", "UA-43"),
        ("Moscow Region", "RU-MOS"),
        ("над акваторией Черного моря", "SEA-BLACK"),
        ("Sea of Azov", "SEA-AZOV"),
    ],
)
def test_alias_resolves(text: str, code: str) -> None:
    """Name forms, case forms, transliterations and cities resolve to the region."""
    assert _codes_found(text)[0] == code


@pytest.mark.parametrize(
    ("text", "not_code"),
    [
        ("Bilhorod-Dnistrovskyi district", "RU-BEL"),
        ("Калуському районі", "RU-KLU"),
        ("near the Kaluga highway", "RU-KLU"),
        ("Чорноморська", "SEA-BLACK"),
        ("Black Sea Fleet ships", "SEA-BLACK"),
        ("over the Black Sea Fleet base", "SEA-BLACK"),
        ("the Baltic Fleet said", "SEA-BALTIC"),
        ("назначенного Москвой главы", "RU-MOW"),
        ("the Kyivskyi district of Kharkiv", "UA-30"),
        ("по московскому времени", "RU-MOS"),
        ("Дніпровському районі", "UA-12"),
    ],
)
def test_traps(text: str, not_code: str) -> None:
    """Names that look like other regions do not resolve to them (rule 16)."""
    assert not_code not in _codes_found(text)


def test_expand_macros() -> None:
    """Brace groups and macros expand to every case form."""
    forms = expand("ростовск{F}")
    assert forms == ["ростовская", "ростовской", "ростовскую", "ростовскою"]
    assert expand("a{b,c}d") == ["abd", "acd"]


def test_word_boundaries() -> None:
    """An alias inside a longer word does not match ('Kurskaya' yes, 'Kurski' no)."""
    assert _codes_found("Kurchatov") == ["RU-KRS"]
    assert _codes_found("Orlando") == []
