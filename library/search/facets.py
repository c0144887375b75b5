"""Facet definitions shared by both backends: what is counted and how values are labelled."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

# Main classes of ББК (tables for mass/school libraries use digits, the full edition letters).
BBK_SECTIONS = {
    "1": "Общенаучное и междисциплинарное знание",
    "2": "Естественные науки", "20": "Естественные науки в целом",
    "22": "Физико-математические науки", "24": "Химические науки", "26": "Науки о Земле",
    "28": "Биологические науки",
    "3": "Техника. Технические науки", "30": "Техника в целом", "31": "Энергетика",
    "32": "Радиоэлектроника", "34": "Технология металлов. Машиностроение",
    "35": "Химическая технология", "37": "Технология лёгкой промышленности",
    "38": "Строительство", "39": "Транспорт",
    "4": "Сельское и лесное хозяйство", "5": "Здравоохранение. Медицинские науки",
    "6": "Общественные науки", "60": "Общественные науки в целом",
    "63": "История. Исторические науки", "65": "Экономика", "66": "Политика",
    "67": "Право", "68": "Военное дело",
    "7": "Культура. Наука. Просвещение", "71": "Культура", "72": "Наука",
    "74": "Образование. Педагогика", "75": "Физическая культура и спорт",
    "76": "Средства массовой информации", "77": "Культурно-досуговая деятельность",
    "78": "Библиотечное дело", "79": "Музейное дело",
    "8": "Филология. Искусство. Религия. Философия", "80": "Филологические науки",
    "81": "Языкознание", "83": "Литературоведение", "84": "Художественная литература",
    "85": "Искусство", "86": "Религия", "87": "Философия", "88": "Психология",
    "9": "Литература универсального содержания", "91": "Библиографические пособия",
    "92": "Справочные издания",
    "А": "Марксизм-ленинизм", "Б": "Естественные науки в целом",
    "В": "Физико-математические науки", "Г": "Химические науки", "Д": "Науки о Земле",
    "Е": "Биологические науки", "Ж": "Техника", "З": "Энергетика. Радиоэлектроника",
    "И": "Горное дело", "К": "Технология металлов. Машиностроение",
    "Л": "Химическая технология", "М": "Технология лёгкой промышленности",
    "Н": "Строительство", "О": "Транспорт", "П": "Сельское хозяйство",
    "Р": "Медицина", "С": "Общественные науки в целом", "Т": "История",
    "У": "Экономика", "Ф": "Политика", "Х": "Право", "Ц": "Военное дело",
    "Ч": "Культура. Наука. Просвещение", "Ш": "Филологические науки. Художественная литература",
    "Щ": "Искусство", "Э": "Религия", "Ю": "Философия. Психология",
    "Я": "Литература универсального содержания",
}
TYPE_LABELS = {"book": "Книга", "textbook": "Учебник", "reference": "Справочник"}
LANGUAGE_LABELS = {"rus": "Русский", "eng": "Английский", "ger": "Немецкий", "fre": "Французский",
                   "spa": "Испанский", "chi": "Китайский", "tat": "Татарский", "bak": "Башкирский"}
FACET_TITLES = {
    "author": "Автор", "subject": "Тема", "bbk": "Раздел ББК", "decade": "Годы издания",
    "type": "Вид издания", "language": "Язык", "available": "Наличие", "age": "Возраст",
}
TOP_VALUES = 10
SEP = "\x1f"


def bbk_section(bbk: str | None) -> str | None:
    """The ББК section of a code: two leading digits when known (84(2Рос)6 → 84), else one."""
    if not bbk:
        return None
    code = bbk.strip().upper()
    m = re.match(r"\d{1,2}", code)
    if m:
        two = m.group()
        return two if two in BBK_SECTIONS else two[0]
    if code[:1] in BBK_SECTIONS:
        return code[:1]
    return None


def bbk_label(section: str) -> str:
    """'84 Художественная литература'."""
    name = BBK_SECTIONS.get(section)
    return f"{section} {name}" if name else section


def decade(year: int | None) -> int | None:
    """The decade of a year (1997 → 1990)."""
    return None if year is None else year // 10 * 10


def decade_label(start: int) -> str:
    """'1990–1999'."""
    return f"{start}–{start + 9}"


def count_facets(rows: Iterable[dict], top: int = TOP_VALUES) -> dict[str, list[dict]]:
    """Facet value counts over candidate rows (dicts with the search_docs facet columns)."""
    counters: dict[str, Counter] = {k: Counter() for k in FACET_TITLES}
    for r in rows:
        for a in filter(None, (r.get("facet_authors") or "").split(SEP)):
            counters["author"][a] += 1
        for s in filter(None, (r.get("facet_subjects") or "").split(SEP)):
            counters["subject"][s] += 1
        for key, col in (("bbk", "bbk_section"), ("decade", "decade"), ("type", "item_type"),
                         ("language", "language"), ("age", "age_rating")):
            if r.get(col) is not None and r.get(col) != "":
                counters[key][r[col]] += 1
        counters["available"]["yes" if (r.get("available") or 0) > 0 else "no"] += 1
    out: dict[str, list[dict]] = {}
    for key, counter in counters.items():
        items = counter.most_common(top) if key in ("author", "subject") else sorted(
            counter.items(), key=lambda kv: (-kv[1], str(kv[0])))
        if key == "decade":
            items = sorted(counter.items(), key=lambda kv: kv[0], reverse=True)
        out[key] = [{"value": v, "label": _label(key, v), "count": n} for v, n in items]
    return out


def _label(key: str, value: str | int) -> str:
    """The label of a facet value: text for every facet but the decade (a year, int)."""
    if key == "decade":
        return decade_label(int(value))
    text = str(value)
    if key == "bbk":
        return bbk_label(text)
    if key == "type":
        return TYPE_LABELS.get(text, text)
    if key == "language":
        return LANGUAGE_LABELS.get(text, text)
    if key == "available":
        return "Есть на полке" if text == "yes" else "Нет на полке"
    return text
