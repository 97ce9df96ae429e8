"""English phrasing patterns, one own sentence per pattern (PATTERNS.md catalogue)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

Rows = Callable[..., dict[str, int | None]]

CASES: list[tuple[str, str, dict[str, int | None]]] = [
    (
        "comma_list",
        "Air defences brought down twelve drones over the Kursk Region, five over the Lipetsk "
        "Region and one over the Tver Region, the ministry said.",
        {"Kursk Oblast": 12, "Lipetsk Oblast": 5, "Tver Oblast": 1},
    ),
    (
        "dash_list",
        "The ministry gave this breakdown of the 9 drones destroyed overnight:\n"
        "6 – over the Samara Region,\n3 – over the Saratov Region.",
        {"Samara Oblast": 6, "Saratov Oblast": 3},
    ),
    (
        "distributive_each",
        "Four drones were shot down over the Penza Region and two each over the Tambov and Ryazan regions.",
        {"Penza Oblast": 4, "Tambov Oblast": 2, "Ryazan Oblast": 2},
    ),
    (
        "distributive_apiece_after",
        "The last drones were destroyed over the Orel and Kaluga regions, one apiece.",
        {"Oryol Oblast": 1, "Kaluga Oblast": 1},
    ),
    (
        "respectively",
        "Over the Poltava and Cherkasy regions, air defence destroyed eight and three drones respectively.",
        {"Poltava Oblast": 8, "Cherkasy Oblast": 3},
    ),
    (
        "ambiguous_group",
        "Six drones were downed over the Vinnytsia and Zhytomyr regions, the air force said.",
        {"Vinnytsia Oblast": None, "Zhytomyr Oblast": None},
    ),
    (
        "group_resolved_by_total",
        "In all, 12 drones were intercepted: eight over the Bryansk Region and two over the "
        "Tula and Oryol regions.",
        {"Bryansk Oblast": 8, "Tula Oblast": 2, "Oryol Oblast": 2},
    ),
    (
        "subset_not_added",
        "Nine drones were destroyed over the Moscow Region, including three that were flying towards Moscow.",
        {"Moscow Oblast": 9},
    ),
    (
        "mixed_weapons",
        "Air defence shot down two cruise missiles and seven drones over the Mykolaiv region.",
        {"Mykolaiv Oblast": 9},
    ),
    (
        "digits_city_for_region",
        "Air defence units destroyed 17 drones over Taganrog overnight, the governor said.",
        {"Rostov Oblast": 17},
    ),
    (
        "article_one",
        "A drone was destroyed over the Novgorod Region on Monday, the governor said.",
        {"Novgorod Oblast": 1},
    ),
    (
        "another",
        "Three drones were shot down over Belgorod. Another was downed over the Kursk Region.",
        {"Belgorod Oblast": 3, "Kursk Oblast": 1},
    ),
    (
        "approximate",
        "About 25 drones were shot down over the Kharkiv region overnight.",
        {"Kharkiv Oblast": 25},
    ),
    (
        "lower_bound",
        "More than 15 drones were downed over the Zaporizhzhia region, officials said.",
        {"Zaporizhzhia Oblast": 15},
    ),
    (
        "vague_quantity",
        "Several drones were shot down over the Lipetsk Region, the governor said.",
        {"Lipetsk Oblast": None},
    ),
    (
        "running_count",
        "Two more drones were destroyed over the Kaluga Region, bringing the number shot down "
        "over the region since midnight to seven.",
        {"Kaluga Oblast": 7},
    ),
    (
        "anaphora_our_region",
        "'Over our region, air defence destroyed four drones,' the head of the Sumy regional "
        "military administration wrote.",
        {"Sumy Oblast": 4},
    ),
    (
        "water_area",
        "Five drones were destroyed over the Crimea and two more over the Black Sea.",
        {"Crimea": 5, "Black Sea": 2},
    ),
    (
        "name_variants",
        "Drones were downed over the Krasnodar Territory (11) ... Officially, 11 over the "
        "Krasnodar Territory and three over the Republic of Bashkortostan.",
        {"Krasnodar Krai": 11, "Bashkortostan": 3},
    ),
    (
        "third_country",
        "Belarusian air defence forces destroyed a drone over the Brest region overnight.",
        {"Belarus": 1},
    ),
    (
        "same_day_summed",
        "Three drones were shot down over the Voronezh Region in the evening. Earlier in the "
        "day, two drones had been destroyed over the region.",
        {"Voronezh Oblast": 5},
    ),
    (
        "earlier_event_not_added",
        "Four drones were shot down over the Smolensk Region. A day earlier, nine drones were "
        "destroyed over the Smolensk Region.",
        {"Smolensk Oblast": 4},
    ),
    (
        "moscow_city_vs_oblast",
        "Two drones flying towards Moscow were shot down on the approach to the city, the "
        "mayor of Moscow said.",
        {"Moscow": 2},
    ),
]

CASES += [
    (
        "parenthetical_counts",
        "The drones were destroyed over the regions of Bryansk (12), Kursk (5) and Oryol (3), the "
        "ministry said.",
        {"Bryansk Oblast": 12, "Kursk Oblast": 5, "Oryol Oblast": 3},
    ),
    (
        "colon_items",
        "Air defence destroyed 9 drones. Bryansk region: 5; Kursk region: 4.",
        {"Bryansk Oblast": 5, "Kursk Oblast": 4},
    ),
    (
        "of_them_breakdown",
        "Russian air defences downed 26 Ukrainian drones overnight, the ministry said, 10 of them "
        "over the Belgorod region.",
        {"Belgorod Oblast": 10},
    ),
    (
        "of_them_subset",
        "Air defence destroyed eight drones over the Poltava region, one of them over Kremenchuk.",
        {"Poltava Oblast": 8},
    ),
    (
        "breakdown_same_region",
        "Seven drones were destroyed over the Leningrad Region, five in the Kingisepp district and "
        "two near Kirishi, the governor said.",
        {"Leningrad Oblast": 7},
    ),
    (
        "capital_from_claimant",
        "Russia's Defence Ministry said three Ukrainian drones were destroyed over the capital.",
        {"Moscow": 3},
    ),
    (
        "all_of_them",
        "From 1500 to 1700 GMT seven more drones were destroyed, all of them over the Kursk Region.",
        {"Kursk Oblast": 7},
    ),
]

CASES += [
    (
        "headline_place",
        "Sumy: air defence shot down 3 Shahed drones overnight, the regional administration said.",
        {"Sumy Oblast": 3},
    ),
    (
        "city_and_the_region_group",
        "Air defence shot down 14 drones over Kyiv and the region overnight.",
        {"Kyiv": None, "Kyiv Oblast": None},
    ),
    (
        "launch_area_not_counted",
        "Of the 20 cruise missiles fired by bombers from over the Caspian Sea, 16 were destroyed "
        "over the Kyiv region.",
        {"Kyiv Oblast": 16},
    ),
]

CASES += [
    (
        "each_of_the",
        "Two drones were downed over each of the Bryansk and Kursk regions.",
        {"Bryansk Oblast": 2, "Kursk Oblast": 2},
    ),
    ("ew_jammed", "Electronic warfare jammed four drones over the Tula Region.", {"Tula Oblast": 4}),
    ("took_out", "Air defence took out three drones over the Oryol Region.", {"Oryol Oblast": 3}),
    (
        "unspecified_number",
        "An unspecified number of drones were shot down over the Belgorod region.",
        {"Belgorod Oblast": None},
    ),
]

# Phrasings probed with our own sentences (session 2): repeated prepositions, elided nouns,
# long number words, "skies over", headline repeated by the body.
CASES += [
    (
        "repeated_preposition_each",
        "Drones were shot down near Moscow and near Kursk, two each, the ministry said.",
        {"Moscow": 2, "Kursk Oblast": 2},
    ),
    (
        "repeated_preposition_group",
        "Air defence destroyed three drones near Moscow and near Kursk.",
        {"Moscow": None, "Kursk Oblast": None},
    ),
    (
        "repeated_over_list",
        "Air defences destroyed five drones over Bryansk, over Kursk and over Belgorod.",
        {"Bryansk Oblast": None, "Kursk Oblast": None, "Belgorod Oblast": None},
    ),
    (
        "repeated_above_each",
        "Air defence destroyed four drones above Bryansk and above Smolensk, two each.",
        {"Bryansk Oblast": 2, "Smolensk Oblast": 2},
    ),
    (
        "elided_noun_cities",
        "Seven drones were destroyed over Voronezh, three over Lipetsk and one over Tambov.",
        {"Voronezh Oblast": 7, "Lipetsk Oblast": 3, "Tambov Oblast": 1},
    ),
    (
        "hundreds_in_words",
        "Air defence destroyed two hundred and fifty drones over the Kursk region.",
        {"Kursk Oblast": 250},
    ),
    ("skies_over", "Six drones were shot down in the skies over the Rostov region.", {"Rostov Oblast": 6}),
    (
        "above_the_territory",
        "Air defence destroyed eleven drones above the territory of the Belgorod region.",
        {"Belgorod Oblast": 11},
    ),
    (
        "headline_then_body",
        "Five drones shot down over Kursk region\nAir defence units destroyed five drones over the "
        "Kursk region overnight, the governor said.",
        {"Kursk Oblast": 5},
    ),
    (
        "parenthesised_counts_after_regions",
        "Drones were destroyed over the Tver region (4), the Pskov region (2) and the Novgorod region (1).",
        {"Tver Oblast": 4, "Pskov Oblast": 2, "Novgorod Oblast": 1},
    ),
    (
        "negated_clause_then_claim",
        "No drones were shot down over Moscow, but two were destroyed over the Tula region.",
        {"Tula Oblast": 2},
    ),
    (
        "dash_breakdown",
        "Russian air defences intercepted 8 drones overnight — 5 over Bryansk and 3 over Kursk regions.",
        {"Bryansk Oblast": 5, "Kursk Oblast": 3},
    ),
    (
        "article_long_noun_phrase",
        "Ukraine's air defence shot down a Russian Kh-101 cruise missile over the Kyiv region.",
        {"Kyiv Oblast": 1},
    ),
    (
        "article_not_a_launcher",
        "Air defences destroyed six rockets from a Vampire multiple launch rocket system over the "
        "Belgorod Region.",
        {"Belgorod Oblast": 6},
    ),
    (
        "possessive_country_region",
        "Five drones were shot down over Russia's southern Krasnodar region overnight.",
        {"Krasnodar Krai": 5},
    ),
    (
        "colon_then_each_group",
        "Air defences shot down 16 drones: 12 over the Bryansk region and two each over the Kursk "
        "and Smolensk regions.",
        {"Bryansk Oblast": 12, "Kursk Oblast": 2, "Smolensk Oblast": 2},
    ),
    (
        "subset_of_which_heading",
        "Fourteen drones were shot down over the Kaluga region, and another 11 over the Moscow "
        "region, six of which were heading for Moscow.",
        {"Kaluga Oblast": 14, "Moscow Oblast": 11},
    ),
    (
        "two_more_same_sentence",
        "Two drones were destroyed over the Voronezh region in the morning and two more in the evening.",
        {"Voronezh Oblast": 4},
    ),
    (
        "all_n_at_target_null",
        "Ukrainian air defences destroyed all 14 drones launched at the Odesa region overnight.",
        {"Odesa Oblast": None},
    ),
    (
        "debris_clause_not_counted",
        "Three drones were shot down over the Bryansk region; debris damaged a house in Klintsy.",
        {"Bryansk Oblast": 3},
    ),
]

NEGATIVES: list[tuple[str, str]] = [
    ("hit_or_debris", "Fragments of a drone damaged a warehouse roof in the Lipetsk Region."),
    ("fire", "A fire broke out at a fuel depot in the Bryansk Region after a drone strike."),
    ("target", "Drones were heading towards Kyiv, and sirens sounded across the city."),
    ("launch_site", "Russia launched 30 drones from the Kursk Region and the Bryansk Region."),
    (
        "cumulative",
        "Since the start of the operation, air defences have destroyed 41,000 drones over Russia.",
    ),
    ("activity_only", "Air defence is working in the Kyiv region, officials said."),
    ("negation", "No drones were shot down over the Rivne region overnight, the governor said."),
    ("sea_drone", "Black Sea Fleet crews destroyed four uncrewed boats in the Black Sea."),
    (
        "direction_only",
        "The air force said 40 drones were shot down in the north, south and east of the country.",
    ),
    ("command_zone", "Nine missiles were destroyed in the zone of Air Command South."),
    (
        "locationally_lost",
        "Ukraine's air force said it shot down 35 of the 48 drones launched overnight; 10 were "
        "locationally lost.",
    ),
    ("did_not_shoot_down", "Air defence did not shoot down any drones over the Tula region."),
    ("aircraft_only", "Ukrainian forces shot down a Russian Su-34 fighter jet over the Donetsk region."),
    ("guided_bombs_only", "Russia shot down two Ukrainian guided bombs over the Belgorod region."),
    (
        "foreign_unrelated",
        "Residents of a county in Ohio reported mysterious drones over farmland last week.",
    ),
]


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_english_pattern(rows: Rows, name: str, text: str, expected: dict[str, int | None]) -> None:
    """Each English pattern gives the expected region counts."""
    assert rows(text, language="en") == expected, name


@pytest.mark.parametrize(("name", "text"), NEGATIVES, ids=[c[0] for c in NEGATIVES])
def test_english_negative(rows: Rows, name: str, text: str) -> None:
    """Hard negatives give no interception rows."""
    assert rows(text, language="en") == {}, name
