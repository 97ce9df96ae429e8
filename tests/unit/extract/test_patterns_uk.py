"""Ukrainian phrasing patterns, one own sentence per pattern (PATTERNS.md catalogue)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Rows = Callable[..., dict[str, int | None]]

CASES: list[tuple[str, str, dict[str, int | None]]] = [
    (
        "comma_list",
        "Над Сумщиною збито шість дронів, над Полтавщиною — три, над Черкащиною — один.",
        {"Sumy Oblast": 6, "Poltava Oblast": 3, "Cherkasy Oblast": 1},
    ),
    (
        "dash_list",
        "Дані обласних адміністрацій:\nВінниччина — 5;\nХмельниччина — 2.\nУсього за ніч "
        "знешкоджено 30 БпЛА.",
        {"Vinnytsia Oblast": 5, "Khmelnytskyi Oblast": 2},
    ),
    (
        "distributive_po",
        "По три безпілотники знищено над Житомирщиною та Рівненщиною.",
        {"Zhytomyr Oblast": 3, "Rivne Oblast": 3},
    ),
    (
        "respectively",
        "Над Львівською та Волинською областями збито чотири і дві ракети відповідно.",
        {"Lviv Oblast": 4, "Volyn Oblast": 2},
    ),
    (
        "ambiguous_group",
        "Над Одещиною та Миколаївщиною вночі знищено 15 «шахедів».",
        {"Odesa Oblast": None, "Mykolaiv Oblast": None},
    ),
    (
        "subset_zokrema",
        "Над Полтавщиною збито сім дронів, зокрема два — над Кременчуком.",
        {"Poltava Oblast": 7},
    ),
    (
        "mixed_weapons",
        "Над Дніпропетровщиною сили ППО знищили три крилаті ракети і вісім «шахедів».",
        {"Dnipropetrovsk Oblast": 11},
    ),
    (
        "case_forms",
        "Сили ППО знешкодили над Чернігівщиною чотирьох «шахедів», повідомив голова ОВА.",
        {"Chernihiv Oblast": 4},
    ),
    ("bare_singular", "Над Тернопільщиною вранці збили ракету, повідомила ОВА.", {"Ternopil Oblast": 1}),
    ("shche_odyn", "Над Харковом збито два дрони. Ще один знищено над Чугуєвом.", {"Kharkiv Oblast": 3}),
    ("slang_minus", "Мінус три «шахеди» над Київщиною, повідомили в ОВА.", {"Kyiv Oblast": 3}),
    (
        "approximate",
        "Близько 20 ворожих дронів знищено над Херсонщиною протягом ночі.",
        {"Kherson Oblast": 20},
    ),
    ("lower_bound", "Понад 10 безпілотників збито над Запоріжжям.", {"Zaporizhzhia Oblast": 10}),
    ("vague", "Кілька дронів збито над Вінницею, повідомили в міській раді.", {"Vinnytsia Oblast": None}),
    (
        "running_count",
        "Ще один ворожий безпілотник збили над Сумщиною, це вже п'ятий за ніч.",
        {"Sumy Oblast": 5},
    ),
    (
        "capital_and_oblast",
        "Над Києвом знищено шість дронів, ще три — над Київщиною.",
        {"Kyiv": 6, "Kyiv Oblast": 3},
    ),
    ("prykarpattia", "Над Прикарпаттям сили ППО збили дві крилаті ракети.", {"Ivano-Frankivsk Oblast": 2}),
    ("city_for_region", "Над Білою Церквою збито три безпілотники.", {"Kyiv Oblast": 3}),
    (
        "ru_claim_in_uk",
        "Міноборони Росії заявило про знищення 12 дронів: 8 над Курською і 4 над Брянською областями.",
        {"Kursk Oblast": 8, "Bryansk Oblast": 4},
    ),
    (
        "poland_country",
        "Польські військові повідомили, що над територією країни збито один дрон.",
        {"Poland": 1},
    ),
]

CASES += [
    ("z_nykh_breakdown", "Збито 30 ворожих дронів, з них 10 — на Київщині.", {"Kyiv Oblast": 10}),
    (
        "region_anaphor_speaker_after",
        "Над областю збито 6 дронів, повідомив голова Сумської ОВА.",
        {"Sumy Oblast": 6},
    ),
    (
        "instrumental_city",
        "Кілька дронів збито над Вінницею, ще два — над Жмеринкою.",
        {"Vinnytsia Oblast": 2},
    ),
]

CASES += [
    (
        "odyn_z_nykh_subset",
        "На Полтавщині, за словами голови ОВА, збито шість «шахедів», один з них — над Кременчуком.",
        {"Poltava Oblast": 6},
    ),
    (
        "reshta_null",
        "Усього за ніч збито 20 цілей: 12 — над Київщиною, 5 — над Житомирщиною, решта — над Черкащиною.",
        {"Kyiv Oblast": 12, "Zhytomyr Oblast": 5, "Cherkasy Oblast": None},
    ),
]

CASES += [
    (
        "partial_breakdown_same_region",
        "Протягом доби над Миколаївщиною збито 4 БпЛА: 2 у Миколаївському районі, 2 — у Вознесенському.",
        {"Mykolaiv Oblast": 4},
    ),
]

# Session 2 probes: city case forms (instrumental, plural names), repeated prepositions.
CASES += [
    (
        "cities_instrumental",
        "Над Миколаєвом збито чотири дрони, над Кропивницьким — два.",
        {"Mykolaiv Oblast": 4, "Kirovohrad Oblast": 2},
    ),
    (
        "plural_city_names",
        "Над Черкасами збито два шахеди, над Рівним — один.",
        {"Cherkasy Oblast": 2, "Rivne Oblast": 1},
    ),
    (
        "po_odnomu_cities",
        "Над Івано-Франківськом та Чернівцями збито по одному дрону.",
        {"Ivano-Frankivsk Oblast": 1, "Chernivtsi Oblast": 1},
    ),
    (
        "repeated_preposition_po",
        "Над Вінницею та над Хмельницьким збито по одній ракеті.",
        {"Vinnytsia Oblast": 1, "Khmelnytskyi Oblast": 1},
    ),
    (
        "genitive_after_bilia",
        "Біля Сум і біля Конотопа збито шість дронів.",
        {"Sumy Oblast": 6},
    ),
    ("hundreds_compound", "Над Брянщиною збито сто двадцять дронів.", {"Bryansk Oblast": 120}),
    (
        "air_force_slash_verbs_dash_list",
        "Збито/подавлено 36 дронів: на Київщині — 12, на Черкащині — 9, на Полтавщині — 7.",
        {"Kyiv Oblast": 12, "Cherkasy Oblast": 9, "Poltava Oblast": 7},
    ),
    (
        "regions_genitive_list_group",
        "Протиповітряною обороною знешкоджено 19 ворожих БпЛА в Сумській, Харківській та "
        "Чернігівській областях.",
        {"Sumy Oblast": None, "Kharkiv Oblast": None, "Chernihiv Oblast": None},
    ),
    (
        "po_try_then_elided",
        "Уночі над Житомирщиною і Рівненщиною збито по три дрони, над Волинню — один.",
        {"Zhytomyr Oblast": 3, "Rivne Oblast": 3, "Volyn Oblast": 1},
    ),
    (
        "teen_numeral_genitive",
        "Сили ППО знешкодили над Київщиною вісімнадцятьох шахедів.",
        {"Kyiv Oblast": 18},
    ),
    (
        "shche_dva_same_sentence",
        "Зранку над Сумщиною збили два дрони, увечері — ще два.",
        {"Sumy Oblast": 4},
    ),
    (
        "headline_minus_then_body",
        "Мінус 8 шахедів над Київщиною\nУночі над Київщиною сили ППО збили вісім ударних дронів, "
        "повідомила ОВА.",
        {"Kyiv Oblast": 8},
    ),
    (
        "running_ordinal_per_day",
        "Ще один дрон збито над Сумщиною, це вже дев'ятий за добу.",
        {"Sumy Oblast": 9},
    ),
    ("all_n_target_null", "Вночі ворог атакував Київ ракетами, всі 6 ракет збито.", {"Kyiv": None}),
    (
        "shot_down_of_launched_with_parentheses",
        "Ворог атакував 50 дронами, збито 40 (над Київщиною - 15, над Черкащиною - 10).",
        {"Kyiv Oblast": 15, "Cherkasy Oblast": 10},
    ),
]

NEGATIVES: list[tuple[str, str]] = [
    ("activity", "На Львівщині працює ППО! Залишайтеся в укриттях."),
    ("debris", "Уламки збитого дрона впали на дах будинку в Ірпені."),
    ("hit", "Ворожий дрон влучив у склад в Одесі, виникла пожежа."),
    ("target", "Ворожі БпЛА рухаються курсом на Житомирщину."),
    ("launch", "Противник запустив 40 дронів з напрямків Курськ та Брянськ."),
    ("negation", "Над Волинню не було збито жодного дрона, повідомив голова ОВА."),
    ("lost_from_radar", "Ще 20 дронів-імітаторів локаційно втрачено."),
    ("earlier", "Нагадаємо, минулої ночі над областю збили шість дронів."),
    ("direction", "Збито 50 ворожих БпЛА на півночі, півдні та сході країни."),
    ("shot_down_of_launched_lost", "Сили ППО збили/придушили 45 з 60 ударних БпЛА; 12 - локаційно втрачені."),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_ukrainian_pattern(rows: Rows, name: str, text: str, expected: dict[str, int | None]) -> None:
    """Each Ukrainian pattern gives the expected region counts."""
    assert rows(text, language="uk") == expected, name


@pytest.mark.parametrize(("name", "text"), NEGATIVES, ids=[c[0] for c in NEGATIVES])
def test_ukrainian_negative(rows: Rows, name: str, text: str) -> None:
    """Hard negatives give no interception rows."""
    assert rows(text, language="uk") == {}, name
