"""Building the place references of one sentence: mentions, anaphors and place lists.

Mentions and anaphors are visited in text order so that "над регионом" resolves to the
latest region named before it (possibly a speaker: "губернатор Воронежской области ...
над регионом"). Places joined only by commas and "and" form one list (one
:class:`PlaceRef` with several codes) so that "three each over Oryol and Bryansk" and "two
over Tula and Kaluga" are read as one unit.
"""

from __future__ import annotations

from service.extract.gazetteer import OBLAST_TWIN, Mention
from service.extract.lexicon import words
from service.extract.places import (
    ANAPHOR_CAPITAL,
    ANAPHOR_THERE,
    ANAPHOR_WORDS,
    LOC_WORDS,
    SRC_WORDS,
    PlaceRef,
    Resolver,
    role_of,
)
from service.extract.text import Token

_DETERMINERS = frozenset(
    words(
        "the our his her its their this that same wider whole entire itself territory of тем же "
        "той самой самим самом этой этим цією цим ней нашим нашей нашою всей всій всьому всем "
        "территорией территории территорію території"
    )
)
_LIST_GLUE = frozenset(
    words(
        ", and и і й та the over над of a as well also both people's republics republic region "
        "regions oblast oblasts krai territory областью области областю області область краем "
        "края край республикой республики республіки районом району районі района районе district "
        "districts city город города городом в у на waters акваторией акватории акваторією акваторії"
    )
)
_JOINERS = frozenset([",", "and", "и", "і", "й", "та"])
_REPEATED_PREPS = frozenset(
    words(
        "near above around outside off under под около возле вблизи близ неподалеку під поблизу "
        "біля неподалік коло понад"
    )
)
_PLURAL_REGION = frozenset(
    words("regions oblasts областями областях областей областям области області регионах регионами")
)
_ROW = frozenset({"region", "city", "sea", "country"})
_GENERIC_COUNTRY = frozenset(["країни", "країна", "країні", "країну", "страны", "стране", "страна", "страну"])
_ANY_PREP = LOC_WORDS | SRC_WORDS | frozenset(["at", "towards", "toward", "for", "to", "against"])


def sentence_refs(
    toks: list[Token],
    lo: int,
    hi: int,
    mentions: list[tuple[int, int, Mention]],
    resolver: Resolver,
) -> list[PlaceRef]:
    """Place references of tokens [lo, hi) in order (mentions need not be limited to it)."""
    by_start = {s: (s, e, m) for s, e, m in mentions if lo <= s < hi}
    refs: list[PlaceRef] = []
    unresolved: list[PlaceRef] = []
    # Only mention starts and anaphoric nouns can start a reference: visit just those.
    cands = [i for i in range(lo, hi) if toks[i].text in ANAPHOR_WORDS]
    if by_start:
        cands = sorted({*cands, *by_start})
    skip_to = lo
    for i in cands:
        if i < skip_to:
            continue  # inside a mention already read
        hit = by_start.get(i)
        if hit is not None:
            s, e, m = hit
            place = m.place
            if place.kind != "block":
                kind = "region" if place.kind == "city" else place.kind
                code = place.code
                if toks[s].text in _GENERIC_COUNTRY and resolver.last_country:
                    code, kind = resolver.last_country, "country"
                role = role_of(toks, lo, s, e, hi)
                refs.append(PlaceRef(s, e, [code], kind, role))
                resolver.note(place, city=place.kind == "city")
            skip_to = max(e, i + 1)
            continue
        if _anaphor_context(toks, lo, i, by_start) and not _named_after(toks, i, hi, by_start):
            ref = _anaphor(toks, lo, i, hi, resolver)
            refs.append(ref)
            if not ref.codes:
                unresolved.append(ref)
    for ref in unresolved:
        later = [r for r in refs if r.tok > ref.tok and r.codes and not r.anaphor]
        if later:
            ref.codes = list(later[0].codes)
    return group_refs(toks, [r for r in refs if r.codes])


def _anaphor(toks: list[Token], lo: int, i: int, hi: int, resolver: Resolver) -> PlaceRef:
    """'над регионом', 'in the capital', 'там': the place an anaphoric noun stands for."""
    w = toks[i].text
    target = resolver.resolve(w, toks[i - 1].text if i > lo else "")
    if target and w in ANAPHOR_CAPITAL and i + 1 < hi and toks[i + 1].text == "region":
        target = OBLAST_TWIN.get(target, target)
    role = "loc" if w in ANAPHOR_THERE else role_of(toks, lo, i, i + 1, hi)
    ref = PlaceRef(i, i + 1, [target] if target else [], "region", role, anaphor=True)
    if w in ANAPHOR_CAPITAL and target:
        resolver.last_city = target
    if target and target.startswith("SEA-"):
        ref.kind = "sea"
    return ref


def _named_after(toks: list[Token], i: int, hi: int, by_start: dict[int, tuple[int, int, Mention]]) -> bool:
    """'над территорией Курской области': the noun is followed by its own name."""
    k = i + 1
    while k < hi and k <= i + 3:
        if k in by_start:
            return True
        if toks[k].text not in _NAME_LEADS:
            return False
        k += 1
    return False


# Words between a generic place noun and its own name: "над территорией Республики Адыгея",
# "над территорией города Брянска", "over the territory of the Republic of Adygea".
_NAME_LEADS = frozenset(
    words(
        "of the republic республики республика республике республикой республіки республіці "
        "республіка города город городе міста місто місті городского городской округа округу "
        "округ городу"
    )
)


def _anaphor_context(
    toks: list[Token], lo: int, i: int, by_start: dict[int, tuple[int, int, Mention]]
) -> bool:
    if toks[i].text in ANAPHOR_THERE:
        return True
    j = i - 1
    steps = 0
    while j >= lo and steps < 4:
        w = toks[j].text
        if w in _ANY_PREP or w in ("к", "до", "approaching"):
            return True
        if w in ("та", "и", "і", "й", "and") and j - 1 >= lo and toks[j - 1].kind == "word":
            return True  # "над Києвом та областю", "over Kyiv and the region"
        if w not in _DETERMINERS or j in by_start:
            return False
        j -= 1
        steps += 1
    return False


def _glued(toks: list[Token], a: int, b: int) -> bool:
    """Only list glue between two places: commas, "and", region nouns, and a locative
    preposition repeated after a comma or "and" ("near Moscow and near Kursk")."""
    joined = False
    for k in range(a, b):
        w = toks[k].text
        if w in _LIST_GLUE:
            joined = joined or w in _JOINERS
        elif not (joined and w in _REPEATED_PREPS):
            return False
    return True


def group_refs(toks: list[Token], refs: list[PlaceRef]) -> list[PlaceRef]:
    """Merge places separated only by commas/and into lists."""
    out: list[PlaceRef] = []
    for ref in refs:
        prev = out[-1] if out else None
        if (
            prev is not None
            and (prev.kind in _ROW) == (ref.kind in _ROW)
            and ref.role in (prev.role, "none")
            and ref.tok >= prev.end
            and ref.tok - prev.end <= 5
            and _glued(toks, prev.end, ref.tok)
        ):
            prev.codes.extend(ref.codes)
            prev.end = ref.end
            if prev.kind not in _ROW:
                prev.kind = ref.kind
            continue
        out.append(PlaceRef(ref.tok, ref.end, list(ref.codes), ref.kind, ref.role, ref.anaphor))
    for ref in out:
        before = [toks[k].text for k in range(max(0, ref.tok - 3), ref.tok)]
        if "each" in before:  # "two over each of the X and Y regions"
            ref.each_of = "of" in before
        if ref.kind == "direction" and len(ref.codes) > 1:
            ref.kind = "national"
        nxt = toks[ref.end].text if ref.end < len(toks) else ""
        if len(ref.codes) > 1 and nxt in _PLURAL_REGION:
            ref.codes = [OBLAST_TWIN.get(c, c) for c in ref.codes]
            ref.plural_region = True
    return out
