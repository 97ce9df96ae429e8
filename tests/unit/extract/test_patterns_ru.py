"""Russian phrasing patterns, one own sentence per pattern (PATTERNS.md catalogue)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Rows = Callable[..., dict[str, int | None]]

CASES: list[tuple[str, str, dict[str, int | None]]] = [
    (
        "comma_list",
        "Ночью над Липецкой областью сбиты пять беспилотников, над Тамбовской — два, над Пензенской — один.",
        {"Lipetsk Oblast": 5, "Tambov Oblast": 2, "Penza Oblast": 1},
    ),
    (
        "dash_list",
        "Силами ПВО уничтожены 12 БПЛА:\n7 — над Белгородской областью,\n5 — над Курской областью.",
        {"Belgorod Oblast": 7, "Kursk Oblast": 5},
    ),
    (
        "dash_list_place_first",
        "Смоленская обл. — 4\nТверская — 1\nВсего за ночь уничтожено 5 беспилотников.",
        {"Smolensk Oblast": 4, "Tver Oblast": 1},
    ),
    (
        "distributive_po",
        "По два беспилотника уничтожены над Саратовской и Волгоградской областями.",
        {"Saratov Oblast": 2, "Volgograd Oblast": 2},
    ),
    (
        "distributive_po_odnomu",
        "По одному дрону сбито над Калужской, Тульской и Рязанской областями.",
        {"Kaluga Oblast": 1, "Tula Oblast": 1, "Ryazan Oblast": 1},
    ),
    (
        "respectively",
        "Над Брянской и Орловской областями перехвачены девять и четыре беспилотника соответственно.",
        {"Bryansk Oblast": 9, "Oryol Oblast": 4},
    ),
    (
        "ambiguous_group",
        "Над Ивановской и Ярославской областями уничтожены три беспилотника.",
        {"Ivanovo Oblast": None, "Yaroslavl Oblast": None},
    ),
    (
        "subset",
        "Над Подмосковьем сбиты восемь дронов, в том числе три, летевших на Москву.",
        {"Moscow Oblast": 8},
    ),
    (
        "mixed_weapons",
        "Над Белгородской областью сбиты четыре ракеты РСЗО «Вампир» и шесть беспилотников.",
        {"Belgorod Oblast": 10},
    ),
    (
        "case_forms",
        "Губернатор сообщил об уничтожении двух беспилотников над Курской областью.",
        {"Kursk Oblast": 2},
    ),
    (
        "case_forms_instrumental",
        "Вечером ВСУ атаковали Брянскую область пятью беспилотниками, все они сбиты над территорией региона.",
        {"Bryansk Oblast": 5},
    ),
    (
        "bare_singular",
        "Над Воронежской областью сбит беспилотник, сообщил губернатор.",
        {"Voronezh Oblast": 1},
    ),
    ("eshche_odin", "Над Курском сбиты два дрона. Еще один уничтожен над Курчатовым.", {"Kursk Oblast": 3}),
    ("approximate_okolo", "Около 20 беспилотников сбиты над Ростовской областью.", {"Rostov Oblast": 20}),
    (
        "approximate_desyatok",
        "Свыше десятка дронов уничтожены над Краснодарским краем.",
        {"Krasnodar Krai": 10},
    ),
    ("vague", "Несколько беспилотников сбиты над Белгородом, пострадавших нет.", {"Belgorod Oblast": None}),
    (
        "running_count",
        "Еще два беспилотника уничтожены над Брянском. Всего с утра над областью сбиты уже девять БПЛА.",
        {"Bryansk Oblast": 9},
    ),
    (
        "anaphora_region",
        "Губернатор Тульской области сообщил, что над регионом за ночь уничтожены шесть дронов.",
        {"Tula Oblast": 6},
    ),
    (
        "name_variants",
        "Над Кубанью сбиты три беспилотника, еще два — над Адыгеей.",
        {"Krasnodar Krai": 3, "Adygea": 2},
    ),
    ("water_area", "Над акваторией Азовского моря уничтожены четыре беспилотника.", {"Sea of Azov": 4}),
    (
        "multiple_windows",
        "С 8:00 до 11:00 мск над Курской областью сбиты пять беспилотников. С 11:00 до 14:00 "
        "уничтожены еще три беспилотника над Курской областью.",
        {"Kursk Oblast": 8},
    ),
    (
        "neighbour_named",
        "Над Чечней сбит беспилотник, еще два уничтожены над соседней Ингушетией.",
        {"Chechnya": 1, "Ingushetia": 2},
    ),
    (
        "occupied_region_ru_claim",
        "Назначенный Москвой глава Запорожской области сообщил, что над Мелитополем "
        "уничтожены три беспилотника.",
        {"Zaporizhzhia Oblast": 3},
    ),
]

CASES += [
    (
        "name_dash_count",
        "Уничтожены 12 БПЛА: Брянская область – 5, Курская – 4, Орловская – 3.",
        {"Bryansk Oblast": 5, "Kursk Oblast": 4, "Oryol Oblast": 3},
    ),
    (
        "v_tom_chisle_breakdown",
        "Всего над регионами России уничтожено 50 беспилотников, в том числе 20 — над Белгородской областью.",
        {"Belgorod Oblast": 20},
    ),
    (
        "stavropolye",
        "Силы ПВО сбили пять беспилотников над Ставропольем и три — над Дагестаном.",
        {"Stavropol Krai": 5, "Dagestan": 3},
    ),
    (
        "district_adjective",
        "В Белгородском районе силами ПВО над селом сбит беспилотник.",
        {"Belgorod Oblast": 1},
    ),
]

CASES += [
    (
        "iz_nikh_after_anaphor",
        "С 23:00 до 6:00 над регионом перехвачены 18 беспилотников, из них 11 — над Московской "
        "областью, 4 — над Калужской и 3 — над Тульской.",
        {"Moscow Oblast": 11, "Kaluga Oblast": 4, "Tula Oblast": 3},
    ),
    (
        "po_nad_kazhdoy",
        "Над Херсонской и Запорожской областями уничтожено 14 беспилотников, по семь над каждой.",
        {"Kherson Oblast": 7, "Zaporizhzhia Oblast": 7},
    ),
]

CASES += [
    ("digits_with_case_ending", "Над Курской областью сбиты 2-х беспилотника.", {"Kursk Oblast": 2}),
]

# Session 2 probes: repeated prepositions, city case forms, hundreds, uncrewed boats.
CASES += [
    (
        "repeated_preposition_group",
        "Беспилотники сбиты под Москвой и под Курском.",
        {"Moscow": None, "Kursk Oblast": None},
    ),
    (
        "repeated_preposition_po",
        "Под Брянском и под Смоленском уничтожено по три беспилотника.",
        {"Bryansk Oblast": 3, "Smolensk Oblast": 3},
    ),
    ("city_instrumental_em", "Над Воронежем сбиты пятнадцать дронов.", {"Voronezh Oblast": 15}),
    (
        "cities_elided_po",
        "Над Брянском сбиты два беспилотника, над Липецком и Смоленском — по одному.",
        {"Bryansk Oblast": 2, "Lipetsk Oblast": 1, "Smolensk Oblast": 1},
    ),
    (
        "two_towns_one_region_each",
        "Возле Джанкоя и над Феодосией уничтожены по две ракеты.",
        {"Crimea": 4},
    ),
    (
        "hundreds_compound",
        "Над Брянской областью уничтожено двести пятьдесят три беспилотника.",
        {"Bryansk Oblast": 253},
    ),
    (
        "uncrewed_boats_not_drones",
        "Над Новороссийском уничтожены семь беспилотных катеров и два дрона.",
        {"Krasnodar Krai": 2},
    ),
    (
        "genitive_list_dash",
        "Уничтожено 5 беспилотников (над Брянской областью — 3, над Смоленской — 2).",
        {"Bryansk Oblast": 3, "Smolensk Oblast": 2},
    ),
    ("skies_over", "В небе над Ростовской областью уничтожены четыре БПЛА.", {"Rostov Oblast": 4}),
    (
        "dash_breakdown",
        "Сбиты 12 беспилотников — 7 над Курской областью и 5 над Брянской.",
        {"Kursk Oblast": 7, "Bryansk Oblast": 5},
    ),
    (
        "place_dash_figure_unchanged",
        "Над Курской областью — 7 сбитых беспилотников, над Брянской — 5.",
        {"Kursk Oblast": 7, "Bryansk Oblast": 5},
    ),
    (
        "crimea_and_sea_area_po",
        "Над Крымом и над акваторией Черного моря сбиты по три беспилотника.",
        {"Crimea": 3, "Black Sea": 3},
    ),
    (
        "crimea_and_sea_area_group",
        "Сбито 12 беспилотников над Крымом и акваторией Черного моря.",
        {"Crimea": None, "Black Sea": None},
    ),
    (
        "colon_list_then_po_dva",
        "Силами ПВО уничтожены 16 украинских беспилотников: 12 над Брянской областью и по два над "
        "Курской и Смоленской.",
        {"Bryansk Oblast": 12, "Kursk Oblast": 2, "Smolensk Oblast": 2},
    ),
    (
        "missiles_and_drones_one_region",
        "Минобороны России сообщило об уничтожении двух ракет ATACMS и 17 беспилотников над "
        "Белгородской областью.",
        {"Belgorod Oblast": 19},
    ),
    (
        "teen_numeral_genitive",
        "Об уничтожении девятнадцати беспилотников над Брянской областью сообщил губернатор.",
        {"Bryansk Oblast": 19},
    ),
    (
        "eshche_dva_same_sentence",
        "Утром над Воронежской областью сбиты два беспилотника, вечером — еще два.",
        {"Voronezh Oblast": 4},
    ),
    (
        "all_n_target_null",
        "Все 14 беспилотников, летевших на Москву, были уничтожены.",
        {"Moscow": None},
    ),
]

NEGATIVES: list[tuple[str, str]] = [
    ("debris", "В Брянске обломки беспилотника повредили крышу частного дома."),
    ("fire", "В Туапсе загорелся резервуар на нефтебазе после атаки беспилотников."),
    ("target", "Беспилотники направлялись в сторону Москвы, сообщили источники."),
    ("activity", "В Курске работает ПВО, жителей просят оставаться в укрытиях."),
    ("negation", "Над Тамбовом сбитых беспилотников нет, сообщили в мэрии."),
    ("cumulative", "Всего с начала специальной военной операции уничтожены 30 512 беспилотников."),
    ("earlier", "Напомним, накануне над Курской областью были сбиты семь беспилотников."),
    ("boats", "Силами Черноморского флота уничтожены три безэкипажных катера."),
    ("launch", "Беспилотники были запущены с территории Сумской области."),
    (
        "bombs_and_mlrs_rockets_no_place",
        "Дежурными средствами ПВО перехвачены и уничтожены четыре управляемые авиабомбы и 11 "
        "реактивных снарядов РСЗО «Вампир».",
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_russian_pattern(rows: Rows, name: str, text: str, expected: dict[str, int | None]) -> None:
    """Each Russian pattern gives the expected region counts."""
    assert rows(text, language="ru") == expected, name


@pytest.mark.parametrize(("name", "text"), NEGATIVES, ids=[c[0] for c in NEGATIVES])
def test_russian_negative(rows: Rows, name: str, text: str) -> None:
    """Hard negatives give no interception rows."""
    assert rows(text, language="ru") == {}, name
