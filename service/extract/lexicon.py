"""Word lists for en/ru/uk: number words, weapon nouns, verbs and context cues.

Kept as plain sets and prefix tuples (``str.startswith`` with a tuple is fast and linear);
every list is about *grammar* (numerals, prepositions, verbs of interception, damage,
launch, targets), never about particular reports.
"""

from __future__ import annotations


def words(text: str) -> list[str]:
    """The whitespace-separated words of a literal (keeps long word lists compact)."""
    return text.split()


def _forms(spec: str, value: int) -> dict[str, int]:
    return dict.fromkeys(spec.split(), value)


NUMBER_WORDS: dict[str, int] = {}
for _spec, _val in [
    ("one один одного одному одним одном одна одной одну одною одно одне одної одній", 1),
    ("two два две двух двум двумя дві двох двом двома both оба обе обоих обидва обидві", 2),
    ("three три трех трем тремя трьох трьом трьома", 3),
    ("four четыре четырех четырем четырьмя чотири чотирьох чотирьом чотирма", 4),
    ("five пять пяти пятью п'ять п'яти п'ятьох п'ятьом п'ятьма п'ятьома", 5),
    ("six шесть шести шестью шість шістьох шістьом шістьма шістьома", 6),
    ("seven семь семи семью сім сімох сімом сьома сімома", 7),
    ("eight восемь восьми восемью восьмью вісім вісьмох вісьмом вісьмома", 8),
    ("nine девять девяти девятью дев'ять дев'яти дев'ятьох дев'ятьма дев'ятьома", 9),
    ("ten десять десяти десятью десятьох десятьма десятьома", 10),
    ("eleven одиннадцать одиннадцати одиннадцатью одинадцять одинадцяти одинадцятьох одинадцятьма", 11),
    ("twelve двенадцать двенадцати двенадцатью дванадцять дванадцяти дванадцятьох дванадцятьма", 12),
    ("thirteen тринадцать тринадцати тринадцатью тринадцять тринадцяти тринадцятьох тринадцятьма", 13),
    (
        "fourteen четырнадцать четырнадцати четырнадцатью "
        "чотирнадцять чотирнадцяти чотирнадцятьох чотирнадцятьма",
        14,
    ),
    ("fifteen пятнадцать пятнадцати пятнадцатью п'ятнадцять п'ятнадцяти п'ятнадцятьох п'ятнадцятьма", 15),
    ("sixteen шестнадцать шестнадцати шестнадцатью шістнадцять шістнадцяти шістнадцятьох шістнадцятьма", 16),
    ("seventeen семнадцать семнадцати семнадцатью сімнадцять сімнадцяти сімнадцятьох сімнадцятьма", 17),
    (
        "eighteen восемнадцать восемнадцати восемнадцатью "
        "вісімнадцять вісімнадцяти вісімнадцятьох вісімнадцятьма",
        18,
    ),
    (
        "nineteen девятнадцать девятнадцати девятнадцатью "
        "дев'ятнадцять дев'ятнадцяти дев'ятнадцятьох дев'ятнадцятьма",
        19,
    ),
    ("twenty двадцать двадцати двадцатью двадцять двадцяти двадцятьох двадцятьма", 20),
    ("thirty тридцать тридцати тридцатью тридцять тридцяти тридцятьох тридцятьма", 30),
    ("forty сорок сорока", 40),
    ("fifty пятьдесят пятидесяти пятьюдесятью п'ятдесят п'ятдесяти п'ятдесятьма", 50),
    ("sixty шестьдесят шестидесяти шістдесят шістдесяти", 60),
    ("seventy семьдесят семидесяти сімдесят сімдесяти", 70),
    ("eighty восемьдесят восьмидесяти вісімдесят вісімдесяти", 80),
    ("ninety девяносто девяноста дев'яносто", 90),
    ("hundred сто ста", 100),
    ("двести двухсот двісті двохсот", 200),
    ("триста трехсот трьохсот", 300),
    ("четыреста четырехсот чотириста чотирьохсот", 400),
    ("пятьсот пятисот п'ятсот п'ятисот", 500),
    ("шестьсот шестисот шістсот шестисот", 600),
    ("семьсот семисот сімсот", 700),
    ("восемьсот восьмисот вісімсот", 800),
    ("девятьсот девятисот дев'ятсот", 900),
    ("dozen дюжина дюжины дюжину", 12),
    ("десяток десятка десятком десятку", 10),
    ("pair couple пара пары пару парой пари парою", 2),
]:
    NUMBER_WORDS.update(_forms(_spec, _val))

TENS = frozenset({20, 30, 40, 50, 60, 70, 80, 90})
# Number words that combine into compounds ("двести пятьдесят три", "two hundred and five").
_NOT_COMBINED = frozenset(
    words(
        "both оба обе обоих обидва обидві dozen дюжина дюжины дюжину десяток десятка десятком "
        "десятку pair couple пара пары пару парой пари парою"
    )
)
PLAIN_NUMERALS = frozenset(w for w in NUMBER_WORDS if w not in _NOT_COMBINED)

ORDINALS: dict[str, int] = {}
for _spec, _val in [
    ("first первый первая первой первого перший перша першого", 1),
    ("second второй вторая второго другий друга другого", 2),
    ("third третий третья третьего третій третя третього", 3),
    ("fourth четвертый четвертая четвертого четвертий четверта четвертого", 4),
    ("fifth пятый пятая пятого п'ятий п'ята п'ятого", 5),
    ("sixth шестой шестая шестого шостий шоста шостого", 6),
    ("seventh седьмой седьмая седьмого сьомий сьома сьомого", 7),
    ("eighth восьмой восьмая восьмого восьмий восьма восьмого", 8),
    ("ninth девятый девятая девятого дев'ятий дев'ята дев'ятого", 9),
    ("tenth десятый десятая десятого десятий десята десятого", 10),
    ("eleventh одиннадцатый одинадцятий", 11),
    ("twelfth двенадцатый дванадцятий", 12),
]:
    ORDINALS.update(_forms(_spec, _val))

# Approximation and lower bounds (rule 14). Multi-word cues are checked as token pairs.
APPROX_WORDS = frozenset(
    words(
        "about around nearly almost approximately roughly some около почти примерно порядка "
        "приблизно близько майже"
    )
)
LOWER_WORDS = frozenset(["более", "свыше", "больше", "понад", "більше", "щонайменше", "минимум", "мінімум"])
LOWER_PAIRS = frozenset(
    {
        ("more", "than"),
        ("at", "least"),
        ("well", "over"),
        ("upwards", "of"),
        ("не", "менее"),
        ("не", "менше"),
        ("in", "excess"),
    }
)
VAGUE_WORDS = frozenset(
    words(
        "several несколько кілька декілька ряд all все всех усі всі most большинство більшість "
        "dozens десятки десятков десятків rest remaining остальные оставшиеся решта інші"
    )
)

# Weapon nouns by prefix -> type: drone, missile, target (untyped "air targets"), and the
# types that are never interceptions: bomb, boat, aircraft.
WEAPON_PREFIXES: tuple[tuple[str, str], ...] = tuple(
    (prefix, kind)
    for kind, spec in (
        (
            "drone",
            "drone uav unmanned shahed geran lancet orlan aircraft-type fixed-wing беспилот "
            "безпілот дрон бпла шахед герань ланцет орлан аппарат апарат",
        ),
        (
            "missile",
            "missile rocket projectile ракет снаряд kalibr калибр калібр iskander искандер "
            "іскандер atacms himars storm neptune нептун точк tochka vampire вампир vilkha "
            "вільх ольх olkha kh- х- s-300 с-300 балістичн баллистическ крылат крилат",
        ),
        ("target", "target цел ціл"),
        ("bomb", "bomb авиабомб бомб каб"),
        ("boat", "boat катер vessel човн"),
        ("aircraft", "helicopter вертол гелікоптер plane самолет літак jet"),
        ("other", "tank танк launcher установ комплекс"),
    )
    for prefix in spec.split()
)
WEAPON_TYPES_COUNTED = frozenset({"drone", "missile", "target"})
SINGULAR_WEAPONS = frozenset(
    words("drone uav missile rocket shahed беспилотник дрон ракета ракету шахед шахеда безпілотник")
)
SEA_DRONE_WORDS = frozenset(
    ["naval", "sea", "морск", "морськ", "морських", "морские", "безэкипажн", "uncrewed"]
)

# Words that, right after a number, show it counts something that is not a weapon.
NON_COUNT_PREFIXES = tuple(
    words(
        "people person civilian man men woman women child worker resident household home house "
        "building car vehicle window hour minute day week month year km kilomet metre meter "
        "storey floor time percent % location village settlement district region town city street "
        "apartment block shell siren человек людей люди жител мирн ранен погиб дом будин авто "
        "машин окон вікон час годин минут хвилин сут доб дн недел тижн месяц місяц год лет рок км "
        "кілометр километр метр этаж поверх раз локац населен насел сел район област регион "
        "регіон громад улиц вулиц квартир обстрел обстріл ударов ударів тревог тривог травм "
        "пострад поранен загинул підприєм предприят вибух взрыв blast explosion bang хлоп massive "
        "масован"
    )
)

# Verbs and nouns that claim a completed interception (prefixes).
INTERCEPT_PREFIXES = (
    "jammed",
    "took",
    "shot",
    "shoot",
    "downed",
    "downing",
    "destroy",
    "intercept",
    "neutrali",
    "suppress",
    "brought",
    "taken",
    "knocked",
    "eliminat",
    "dealt",
    "repelled and destroyed",
    "landed",
    "сбит",
    "сбил",
    "сбив",
    "уничтож",
    "перехват",
    "перехвач",
    "подавл",
    "нейтрализ",
    "ликвидир",
    "збит",
    "збил",
    "збив",
    "знищ",
    "знешкод",
    "перехопл",
    "перехопи",
    "подавлен",
    "приземл",
    "мінус",
    "минус",
    "ліквід",
    "поражен",
    "уражен",
)
# "shot" alone is ambiguous; these pairs need their particle.
PHRASAL: dict[str, tuple[str, ...]] = {
    "brought": ("down",),
    "taken": ("down", "out"),
    "knocked": ("out", "down"),
    "dealt": ("with",),
    "shot": ("down",),
    "shoot": ("down",),
    "shooting": ("down",),
    "took": ("down", "out"),
}

# Activity only (rule 2): not a claim.
ACTIVITY_WORDS = frozenset(
    words(
        "working работает работала работают працює працювала працювали repelling отражают відбивають active"
    )
)

DEBRIS_PREFIXES = tuple(words("debris fragment wreckage remnant обломк обломоч осколк уламк уламок фрагмент"))
DAMAGE_PREFIXES = tuple(
    words(
        "damag hit struck crash fire blaze burn caught explo injur wound kill shatter blown "
        "повреж пошкод попал попад влуч пожар пожеж загор горит горів возгоран ранен поранен "
        "погиб загин разруш зруйн упал впал падени падінн выбит вибит посеч обесточ знеструм"
    )
)
LAUNCH_PREFIXES = (
    "launch",
    "fired",
    "fire from",
    "запущ",
    "запуск",
    "выпущ",
    "выпуст",
    "випуст",
    "випущ",
    "запуст",
)
ATTACK_PREFIXES = ("attack", "атак", "атаку", "sent", "struck", "targeted", "target")
TARGET_WORDS = frozenset(
    words(
        "aimed heading headed towards toward bound targeted target targeting flying летевш летящ "
        "летевшие летевших летели летел направлял направлялись направлявш летіли летів рухались "
        "рухаються курс целью цель метою ціллю сторону направлении напрямку бік"
    )
)
NEGATION_WORDS = frozenset(
    words(
        "no not neither none nothing never без не ни нет ні немає жодного жодних жоден denied "
        "опровергли опроверг спростував спростували contrary"
    )
)
SUBSET_WORDS = (
    ("including",),
    ("among", "them"),
    ("among", "which"),
    ("of", "which"),
    ("в", "том", "числе"),
    ("в", "т"),
    ("зокрема",),
    ("у", "тому", "числі"),
    ("в", "тому", "числі"),
    ("серед", "них"),
    ("из", "которых"),
    ("з", "яких"),
)
EACH_WORDS = frozenset(
    words("each apiece кожен кожному кожній кожну кожною каждый каждой каждую каждом каждого")
)
RESPECTIVE_PREFIXES = ("respective", "соответствен", "відповідн")
INCREMENT_WORDS = frozenset(["another", "more", "ещё", "еще", "ще", "also", "also", "another"])
RUNNING_WORDS = frozenset(["уже", "вже", "already", "bringing", "brings", "making", "makes"])
TOTAL_WORDS = frozenset(
    words("всего итого загалом усього всього total overall altogether общей сложности целом tally")
)
CUMULATIVE_PAIRS = (
    ("since", "the", "start"),
    ("since", "the", "beginning"),
    ("since", "the", "full-scale"),
    ("с", "начала", "специальной"),
    ("с", "начала", "сво"),
    ("с", "начала", "проведения"),
    ("с", "начала", "военной"),
    ("от", "начала", "року"),
    ("з", "початку", "повномасштабного"),
    ("від", "початку", "повномасштабного"),
    ("з", "початку", "війни"),
    ("с", "начала", "войны"),
    ("since", "february"),
    ("з", "24"),
    ("since", "2022"),
    ("since", "the", "war"),
    ("від", "початку", "вторгнення"),
    ("з", "початку", "вторгнення"),
    ("over", "the", "past", "week"),
    ("in", "the", "past", "week"),
    ("this", "week"),
    ("past", "month"),
    ("this", "year"),
    ("since", "january"),
    ("за", "неделю"),
    ("за", "тиждень"),
    ("за", "месяц"),
    ("за", "місяць"),
    ("с", "начала", "года"),
    ("з", "початку", "року"),
    ("від", "початку", "року"),
    ("с", "начала", "месяца"),
    ("з", "початку", "місяця"),
    ("since", "the", "start", "of", "the", "year"),
)
BACKGROUND_PHRASES = (
    ("a", "day", "earlier"),
    ("the", "previous", "night"),
    ("the", "night", "before"),
    ("the", "day", "before"),
    ("previous", "day"),
    ("last", "week"),
    ("сутками", "ранее"),
    ("накануне",),
    ("минулої", "ночі"),
    ("напередодні",),
    ("напомним",),
    ("нагадаємо",),
    ("днем", "ранее"),
    ("днём", "ранее"),
    ("днем", "раніше"),
    ("добою", "раніше"),
    ("прошлой", "ночью"),
    ("earlier", "this", "week"),
    ("recall",),
)
SAME_DAY_PHRASES = (
    ("earlier", "in", "the", "day"),
    ("earlier", "today"),
    ("ранее", "в", "этот", "день"),
    ("раніше", "цього", "дня"),
    ("ранее", "сегодня"),
    ("раніше", "сьогодні"),
)
EARLIER_WORDS = frozenset(["ранее", "раніше", "earlier"])
WEEKDAYS: dict[str, int] = {}
for _spec, _val in [
    ("monday понедельник понедельника понеділок понеділка", 0),
    ("tuesday вторник вторника вівторок вівторка", 1),
    ("wednesday среду среда среды середу середа середи", 2),
    ("thursday четверг четверга четвер четверга", 3),
    ("friday пятницу пятница пятницы п'ятницю п'ятниця п'ятниці", 4),
    ("saturday субботу суббота субботы суботу субота суботи", 5),
    ("sunday воскресенье воскресенья неділю неділя неділі", 6),
]:
    WEEKDAYS.update(_forms(_spec, _val))

MONTHS: dict[str, int] = {}
for _spec, _val in [
    ("january jan января январь січня січень", 1),
    ("february feb февраля февраль лютого лютий", 2),
    ("march mar марта март березня березень", 3),
    ("april apr апреля апрель квітня квітень", 4),
    ("may мая май травня травень", 5),
    ("june jun июня июнь червня червень", 6),
    ("july jul июля июль липня липень", 7),
    ("august aug августа август серпня серпень", 8),
    ("september sep sept сентября сентябрь вересня вересень", 9),
    ("october oct октября октябрь жовтня жовтень", 10),
    ("november nov ноября ноябрь листопада листопад", 11),
    ("december dec декабря декабрь грудня грудень", 12),
]:
    MONTHS.update(_forms(_spec, _val))
