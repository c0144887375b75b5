"""The relative indicators every Russian library report carries, from the period's counts.

One place for the formulas, the rounding and the definitions (the report's files, `ibc report
--json`, `key_figures` and the desk all read them from here):

* читаемость (``loans_per_reader``) = loans in the period ÷ registered readers at its end;
* посещаемость (``visits_per_reader``) = visits in the period ÷ registered readers at its end;
* обращаемость фонда (``loans_per_copy``) = loans in the period ÷ copies in the fund at its end
  (copies not written off);
* книгообеспеченность (``copies_per_reader``, ``copies_per_pupil``) = copies ÷ registered
  readers, and copies ÷ pupils of the school;
* охват читателей (``coverage``, %) = pupils who are registered readers ÷ pupils of the school
  × 100.

«Readers» is the standard library-statistics count (число читателей): readers registered by the
end of the period and not archived — not only those who borrowed. «Pupils of the school» is the
setting ``[school] pupils`` when set, else the pupils among the registered readers (then the
coverage is 100 % by definition, and the report says where the count came from). Values are
rounded half up (loans, visits and turnover to two decimals, provision and coverage to one); a
division by zero gives None, shown as «—».
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

DASH = "—"


@dataclass(frozen=True)
class Indicator:
    """One relative indicator: its key, Russian name, how it is computed, and its rounding."""

    key: str
    name: str
    numerator: str
    denominator: str
    decimals: int
    percent: bool = False


INDICATORS = [
    Indicator("loans_per_reader", "Читаемость", "loans", "readers", 2),
    Indicator("visits_per_reader", "Посещаемость", "visits", "readers", 2),
    Indicator("loans_per_copy", "Обращаемость фонда", "loans", "copies", 2),
    Indicator("copies_per_reader", "Книгообеспеченность на одного читателя", "copies", "readers", 1),
    Indicator("copies_per_pupil", "Книгообеспеченность на одного учащегося", "copies", "pupils", 1),
    Indicator("coverage", "Охват учащихся библиотечным обслуживанием",
              "pupil_readers", "pupils", 1, percent=True),
]
KEYS = [x.key for x in INDICATORS]
# The counts the indicators divide, in the report's words (a definition names both).
COUNT_WORDS = {
    "loans": "выдачи (книговыдачи) за период",
    "visits": "посещения за период (карта читателя в терминале или на кафедре)",
    "readers": "зарегистрированные читатели на конец периода",
    "copies": "экземпляры в фонде на конец периода (не списанные)",
    "pupils": "учащиеся школы",
    "pupil_readers": "читатели-учащиеся на конец периода",
}
PUPILS_FROM_SETTING = "setting"
PUPILS_FROM_READERS = "readers"


def ratio(numerator: int, denominator: int, decimals: int, percent: bool = False) -> float | None:
    """numerator ÷ denominator (× 100 for a percentage), rounded half up; None when ÷ 0."""
    if denominator <= 0:
        return None
    value = Decimal(numerator) * (100 if percent else 1) / Decimal(denominator)
    return float(value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def number_text(value: float | None, decimals: int, *, comma: bool = True) -> str:
    """'0,17' (or '0.17' with comma=False); «—» for None."""
    if value is None:
        return DASH
    text = f"{value:.{decimals}f}"
    return text.replace(".", ",") if comma else text


def pupil_count(setting: int, pupil_readers: int) -> tuple[int, str]:
    """(pupils of the school, where the number comes from): the setting when above 0, else
    the pupils among the registered readers."""
    if setting > 0:
        return setting, PUPILS_FROM_SETTING
    return pupil_readers, PUPILS_FROM_READERS


def compute(counts: dict[str, int], pupils_setting: int = 0) -> dict:
    """The indicators from the period's counts ('loans', 'visits', 'readers', 'copies',
    'pupil_readers'): {indicator key: value or None, …} plus the counts it divided ('loans',
    'visits', 'readers', 'copies', 'pupil_readers', 'pupils') and 'pupils_source' ('setting' or
    'readers')."""
    pupils, source = pupil_count(pupils_setting, counts["pupil_readers"])
    base = {**{k: int(counts[k]) for k in ("loans", "visits", "readers", "copies",
                                             "pupil_readers")}, "pupils": pupils}
    out: dict = {x.key: ratio(base[x.numerator], base[x.denominator], x.decimals, x.percent)
                 for x in INDICATORS}
    return {**out, **base, "pupils_source": source}


def value_text(ind: Indicator, value: float | None, *, comma: bool = True) -> str:
    """The value as the report writes it: '0,17', '87,5 %', «—»."""
    text = number_text(value, ind.decimals, comma=comma)
    return f"{text} %" if ind.percent and value is not None else text


def definition(ind: Indicator, counts: dict) -> str:
    """The definition written out in Russian with the period's numbers, e.g. «выдачи
    (книговыдачи) за период ÷ зарегистрированные читатели на конец периода: 8 ÷ 47»."""
    a, b = counts[ind.numerator], counts[ind.denominator]
    text = f"{COUNT_WORDS[ind.numerator]} ÷ {COUNT_WORDS[ind.denominator]}"
    numbers = f"{a} ÷ {b}"
    if ind.percent:
        text, numbers = f"{text} × 100", f"{numbers} × 100"
    out = f"{text}: {numbers}"
    if ind.denominator == "pupils":
        out += "; " + pupils_note(counts)
    if b <= 0:
        out += "; делить не на что — показатель не считается"
    return out


def pupils_note(counts: dict) -> str:
    """Where the pupil count came from, in words."""
    if counts.get("pupils_source") == PUPILS_FROM_SETTING:
        return f"учащихся {counts['pupils']} — из настройки [school] pupils"
    return (f"учащихся {counts['pupils']} — по числу читателей-учащихся (число учащихся школы "
            "не задано в настройке [school] pupils)")
