"""Place references in a sentence: gazetteer mentions and anaphors, with their role.

The role comes from the words in front of a place: a locative preposition ("over", "над",
"у") places an interception there; "from"/"з напрямку" is a launch site; "aimed at",
"курс на", "летевших на" a target; "governor of"/"X's mayor" a speaker. Anaphors ("over the
region", "над областью", "in the capital", "там") resolve to an earlier mention.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from service.extract import lexicon as lx
from service.extract.gazetteer import Mention, Place
from service.extract.text import Token

LOC_WORDS = frozenset(
    lx.words(
        "over above near in within on off around outside across approaching approach into над в "
        "во у на под під поблизу біля около возле вблизи близ неподалік неподалеку неподалеко при "
        "между між"
    )
)
SRC_WORDS = frozenset(["from", "с", "со", "з", "із", "из", "від"])
TGT_WORDS = lx.TARGET_WORDS | frozenset(
    lx.words(
        "at for to against targeted attacked attack атаковали атаковал атакував атакувала "
        "атакували атакуют struck hit"
    )
)
SPK_WORDS = frozenset(
    lx.words(
        "governor head mayor leader chief administration authorities officials official "
        "губернатор губернатора глава главы мэр мэра голова голови начальник начальника очільник "
        "очільника администрации адміністрації ова мва кмва командування оперштаб власти влада "
        "коллега колега министерство міністерство ministry"
    )
)
# Words skipped when looking back from a place to its governing preposition.
_FILLER = frozenset(
    lx.words(
        "the a its our his their this that same wider whole entire greater territory territories "
        "waters airspace sky skies area areas vicinity outskirts city town village district "
        "region of central southern northern western eastern part parts coast border borders also "
        "both территории территорией территорию территориями территориях територіями акватории "
        "акваторией небе районе района районах "
        "окрестностях окраине околиці околицях населенного пункта поселка посёлка села селе "
        "города городе міста місті самом самим самій тем теми же регионами областями той соседней "
        "соседнем соседнего сусідній сусідній neighbouring neighboring республики республикой "
        "республіці республіки"
    )
)
_FLIGHT_PREFIXES = (
    "летевш",
    "летящ",
    "летел",
    "летів",
    "летіл",
    "направля",
    "рухал",
    "курс",
    "атак",
    "целью",
    "цель",
    "heading",
    "flying",
    "bound",
)

ANAPHOR_REGION = frozenset(
    lx.words(
        "region регионом регионе регион региона областью области областю області область "
        "республикой республике республіці republic territory территорией території регіоном "
        "регіоні краем крае"
    )
)
ANAPHOR_CITY = frozenset(["city", "городом", "городе", "городу", "город", "містом", "місті", "місто"])
ANAPHOR_CAPITAL = frozenset(["capital", "столицей", "столице", "столицу", "столицею", "столиці"])
ANAPHOR_SEA = frozenset(["sea", "морем", "море", "моря", "акваторией", "акваторії"])
ANAPHOR_THERE = frozenset(["there", "там"])
ANAPHOR_COAST = frozenset(["coast", "побережьем", "побережье", "узбережжям", "узбережжі"])
ANAPHOR_PENINSULA = frozenset(["peninsula", "полуостровом", "полуострове", "півостровом", "півострові"])
ANAPHOR_DISTRICT = frozenset(["района", "району", "районі", "district"])


@dataclass(slots=True)
class PlaceRef:
    """A place at tokens [tok, end): resolved codes, its kind and role in the sentence."""

    tok: int
    end: int
    codes: list[str]
    kind: str
    role: str
    anaphor: bool = False
    plural_region: bool = False
    each_of: bool = False


def role_of(toks: list[Token], lo: int, start: int, end: int, hi: int) -> str:
    """loc, src, tgt, spk or none: read from the words before (and right after) a place."""
    tail = toks[end - 1].text
    after = toks[end].text if end < hi else ""
    if tail.endswith("'s") or after in SPK_WORDS or after in ("regional", "обласн", "governor's"):
        return "spk"
    j = start - 1
    while j >= lo and start - j <= 6:
        role = _word_role(toks, lo, j)
        if role is not None:
            return role
        j -= 1
    return "none"


def _word_role(toks: list[Token], lo: int, j: int) -> str | None:
    """The role a word before a place gives it, or None to keep looking further left."""
    w = toks[j].text
    role: str | None = None
    if toks[j].kind in ("punct", "nl") and w != '"':
        role = "none"
    elif w in ("to", "к", "до") and j > lo and toks[j - 1].text.startswith(_APPROACH):
        role = "loc"
    elif w in TGT_WORDS or w.startswith(_FLIGHT_PREFIXES):
        role = "tgt"
    elif w in LOC_WORDS and j > lo and toks[j - 1].text in SRC_WORDS:
        role = "src"  # "fired from over the Caspian Sea"
    elif w in LOC_WORDS:
        flight = w == "на" and _flight_before(toks, lo, j)
        fired = w in ("on", "into") and j > lo and toks[j - 1].text in ("fired", "launched")
        role = "tgt" if flight or fired else "loc"
    elif w in SRC_WORDS:
        role = "src"
    elif w in SPK_WORDS:
        role = "spk"
    elif w not in _FILLER and not w.startswith(("ворож", "рос", "russian", "ukrainian")):
        role = "none"
    return role


_APPROACH = ("approach", "подлет", "підльот", "подступ", "підступ")


def _flight_before(toks: list[Token], lo: int, j: int) -> bool:
    return any(toks[k].text.startswith(_FLIGHT_PREFIXES) for k in range(max(lo, j - 3), j))


_TWIN = {"UA-30": "UA-32", "RU-MOW": "RU-MOS"}


class Resolver:
    """Remembers the latest mentions of a text to resolve anaphors."""

    def __init__(self, capital: Callable[[], str]) -> None:
        self._capital = capital
        self._capital_code: str | None = None
        self.last_region: str | None = None
        self.last_city: str | None = None
        self.last_sea: str | None = None
        self.last_country: str | None = None

    @property
    def capital(self) -> str:
        """Moscow or Kyiv, decided only when a text says "the capital" (it costs a scan)."""
        if self._capital_code is None:
            self._capital_code = self._capital()
        return self._capital_code

    def note(self, place: Place, *, city: bool) -> None:
        """Record a mention (called in text order)."""
        if place.kind == "sea":
            self.last_sea = place.code
        elif place.kind == "country":
            self.last_country = place.code
            self.last_region = place.code
        elif place.kind in ("region", "city"):
            self.last_region = place.code
            if city or place.code in ("RU-MOW", "UA-30", "RU-SPE", "UA-40"):
                self.last_city = place.code

    def resolve(self, word: str, prev: str) -> str | None:
        """Code an anaphoric noun stands for, or None."""
        fixed = {"capital": self.capital, "peninsula": "UA-43"}
        kind = _ANAPHOR_KIND.get(word)
        if kind in fixed:
            return fixed[kind]
        if kind == "city":
            return self.last_city or self.last_region
        if kind == "sea":
            return self.last_sea
        if kind == "country":
            return self.last_country
        if kind == "region" and self.last_region in _TWIN:
            return _TWIN[self.last_region]  # "над Києвом та областю": the oblast around it
        return self.last_region if kind else None


def is_anaphor_word(word: str) -> bool:
    """Whether a token can be an anaphoric place noun."""
    return word in ANAPHOR_WORDS


def mention_tokens(toks: list[Token], mentions: list[Mention]) -> list[tuple[int, int, Mention]]:
    """Map character mentions onto token index ranges [start, end)."""
    out: list[tuple[int, int, Mention]] = []
    ti = 0
    n = len(toks)
    for m in mentions:
        while ti < n and toks[ti].end <= m.start:
            ti += 1
        tj = ti
        while tj < n and toks[tj].start < m.end:
            tj += 1
        if tj > ti:
            out.append((ti, tj, m))
    return out


ANAPHOR_WORDS = frozenset(
    ANAPHOR_REGION
    | ANAPHOR_CITY
    | ANAPHOR_CAPITAL
    | ANAPHOR_SEA
    | ANAPHOR_THERE
    | ANAPHOR_PENINSULA
    | ANAPHOR_DISTRICT
    | ANAPHOR_COAST
)
_ANAPHOR_KIND: dict[str, str] = {
    **dict.fromkeys(ANAPHOR_DISTRICT | ANAPHOR_THERE | ANAPHOR_COAST, "other"),
    **dict.fromkeys(ANAPHOR_REGION, "region"),
    **dict.fromkeys(ANAPHOR_CITY, "city"),
    **dict.fromkeys(ANAPHOR_SEA, "sea"),
    **dict.fromkeys(ANAPHOR_PENINSULA, "peninsula"),
    **dict.fromkeys(ANAPHOR_CAPITAL, "capital"),
    **dict.fromkeys(("country", "країни", "страны"), "country"),
}
