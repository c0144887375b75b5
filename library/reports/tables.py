"""The report dict laid out as sections of tables with Russian headings, shared by all renderers.

PDF, XLSX and CSV show the same tables in the same order; the PDF adds charts. Cells are
str, int or `Ratio` (a rounded indicator: str() writes it the Russian way, «0,17», «—» for a
division by zero; XLSX stores its number); nothing here formats for one output only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from library.reports import indicators as ind
from library.reports.report import NO_CLASS

ACTIONS = {"checkout": "Выдача", "renew": "Продление", "checkin": "Возврат"}
REFUSALS = {
    "reader_not_found": "карта не зарегистрирована", "reader_blocked": "читатель заблокирован",
    "wrong_pin": "неверный PIN", "limit_reached": "превышен лимит книг",
    "has_overdue": "есть просроченные книги", "has_lost": "есть утерянная книга",
    "item_not_found": "штрихкод не найден", "not_for_loan": "только для читального зала",
    "item_unavailable": "экземпляр недоступен", "item_on_loan": "экземпляр уже выдан",
    "already_yours": "книга уже у читателя", "age_restricted": "возрастное ограничение",
    "not_on_loan": "книга не выдана", "renewal_not_allowed": "продление не допускается",
    "renewal_limit": "исчерпан лимит продлений", "overdue_no_renew": "просрочена, продление нельзя",
    "not_your_loan": "книга у другого читателя", "txn_mismatch": "повтор операции",
    "reserved": "книга отложена для другого читателя", "renewal_held": "на книгу очередь",
}
MEDIA_KINDS = {"video": "Видео", "audio": "Аудио", "image": "Изображения", "pdf": "PDF",
               "presentation": "Презентации", "other": "Прочее"}
SUMMARY_ROWS = [
    ("titles", "Названий в фонде"), ("copies", "Экземпляров в фонде"),
    ("readers", "Зарегистрировано читателей"),
    ("active_readers", "Активных читателей (брали книги)"),
    ("visits", "Посещений"), ("loans", "Выдано экземпляров"), ("returns", "Возвращено"),
    ("renewals", "Продлений"), ("on_loan", "На руках на конец периода"),
    ("overdue", "Просрочено на конец периода"), ("searches", "Поисковых запросов"),
    ("zero_searches", "Запросов без результата"), ("plays", "Просмотров медиатеки"),
    ("overrides", "Решений библиотекаря в обход правил"),
]
MONTH_COLUMNS = [("checkout", "Выдачи"), ("return", "Возвраты"), ("renew", "Продления"),
                 ("visit", "Посещения"), ("search", "Поиски"), ("search_zero", "Без результата"),
                 ("play", "Медиа")]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (a reader's search query «=HYPERLINK(…)»,
    a title) gets a leading apostrophe in CSV; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def xlsx_text_cells(row: Iterable[Any]) -> None:
    """openpyxl stores a string starting with '=' as a formula: make such cells of a written
    row (a tuple of cells) plain text again."""
    for cell in row:
        if cell.data_type == "f":
            cell.data_type = "s"


def list_csv(header: list[str], rows: Iterable[list]) -> bytes:
    """A list (the overdue list, the owing textbooks) as CSV: semicolon-separated UTF-8 with a
    BOM (how Russian Excel opens CSV without asking), formula-like texts made safe."""
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(header)
    for row in rows:
        w.writerow([csv_safe(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")


def list_xlsx(sheet: str, heading: str, header: list[str], rows: Iterable[list],
              widths: Iterable[int] = ()) -> bytes:
    """The same list as an XLSX workbook: a bold heading line, the column names, the rows (texts
    starting with '=' kept as text), the columns' widths."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    ws.append([heading])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append(header)
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
        xlsx_text_cells(ws[ws.max_row])
    for i, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _holds_table(h: dict[str, Any] | None) -> list[Table]:
    """The holds (заказы) of the period, when the report has them (docs/HOLDS.md)."""
    if not h:
        return []
    wait = h.get("median_wait_days")
    return [Table("Заказы (очередь на книги)", ["Показатель", "Значение"], [
        ["Поставлено в очередь", h["placed"]], ["Отложено для читателя", h["waiting"]],
        ["Выдано по заказу", h["fulfilled"]], ["Не забрали вовремя", h["expired"]],
        ["Отменено", h["cancelled"]],
        ["Ожидание, медиана (дней)", "—" if wait is None else f"{wait:g}".replace(".", ",")]],
        "Ожидание: от заказа до того, как книгу отложили для читателя.")]


def refusal_words(code: str) -> str:
    """A refusal code in short Russian words ('has_overdue' → 'есть просроченные книги')."""
    return REFUSALS.get(code, code)


@dataclass(frozen=True)
class Ratio:
    """A relative indicator's cell: the rounded value (None: division by zero) and its decimals."""

    value: float | None
    decimals: int
    percent: bool = False

    def __str__(self) -> str:
        text = ind.number_text(self.value, self.decimals)
        return f"{text} %" if self.percent and self.value is not None else text


@dataclass
class Table:
    """A titled table: header row and data rows (`shares`: the text columns' parts of the
    spare width in the PDF, when not the default)."""

    title: str
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    note: str = ""
    shares: tuple[float, ...] = ()


INDICATORS_TITLE = "Относительные показатели"
INDICATOR_HEADERS = ["Показатель", "Значение", "Как считается"]


def indicator_table(r: dict) -> Table:
    """The relative indicators with their definitions written out (library.reports.indicators)."""
    values = r["indicators"]
    rows = [[x.name, Ratio(values[x.key], x.decimals, x.percent), ind.definition(x, values)]
            for x in ind.INDICATORS]
    return Table(INDICATORS_TITLE, INDICATOR_HEADERS, rows,
                 "Читатели — зарегистрированные на конец периода (не только бравшие книги); "
                 "«—» — делить не на что (знаменатель равен нулю). Округление до сотых "
                 "(читаемость, посещаемость, обращаемость) и до десятых (книгообеспеченность, "
                 "охват).", shares=(0.3, 0.7))


@dataclass
class Section:
    """One section of the report (a sheet in XLSX, a heading in PDF)."""

    key: str
    title: str
    tables: list[Table]


def _authors(names: list[str]) -> str:
    return "; ".join(names[:2]) + (" и др." if len(names) > 2 else "")


def sections(r: dict) -> list[Section]:  # noqa: C901
    """Every table of the report, in order."""
    s, f, rd, c = r["summary"], r["fund"], r["readers"], r["circulation"]
    out = [Section("summary", "Основные показатели", [Table(
        "Основные показатели", ["Показатель", "Значение"],
        [[label, s[key]] for key, label in SUMMARY_ROWS],
        "" if rd["active_exact"] else
        f"Активные читатели — не менее указанного: {rd['unlinked_loans']} выдач периода уже "
        "обезличены."), indicator_table(r)])]
    mv = f["movement"]
    out.append(Section("fund", "Фонд", [
        Table("Фонд по разделам ББК", ["Раздел ББК", "Названий", "Экземпляров"],
              [[x["label"], x["titles"], x["copies"]] for x in f["by_section"]]
              + [["Итого", f["titles"], f["copies"]]]),
        Table("Фонд по видам изданий", ["Вид издания", "Названий", "Экземпляров"],
              [[x["label"], x["titles"], x["copies"]] for x in f["by_type"]]),
        Table("Движение фонда за период", ["Показатель", "Значение"], [
            ["Поступило названий", mv["titles_added"]],
            ["Поступило экземпляров", mv["copies_added"]],
            ["Списано экземпляров", mv["written_off"]], ["Утеряно экземпляров", mv["lost"]]]),
    ]))
    cols = ["Зарегистрировано", "Новые", "Активные", "Посещения", "Выдачи"]
    keys = ["registered", "new", "active", "visits", "loans"]
    out.append(Section("readers", "Читатели", [
        Table("Читатели по категориям", ["Категория", *cols],
              [[x["label"], *(x[k] for k in keys)] for x in rd["by_category"]]),
        Table("Читатели по классам", ["Класс", *cols],
              [[x["class"] if x["class"] != NO_CLASS else "Без класса", *(x[k] for k in keys)]
               for x in rd["by_class"]]),
    ]))
    refusals = []
    for key, n in sorted(c["refusals"].items()):
        action, _, code = key.partition(":")
        refusals.append([f"{ACTIONS.get(action, action)}: {REFUSALS.get(code, code)}", n])
    overrides = []
    for key, n in sorted(c.get("overrides", {}).items()):
        action, _, code = key.partition(":")
        overrides.append([f"{ACTIONS.get(action, action)}: {refusal_words(code)}", n])
    if overrides:
        overrides.append(["Итого", sum(n for _, n in overrides)])
    out.append(Section("circulation", "Обслуживание", [
        Table("Выдача и возврат", ["Показатель", "Значение"], [
            ["Выдано", c["loans"]], ["Возвращено", c["returns"]], ["Продлено", c["renewals"]],
            ["Возвращено с опозданием", c["late_returns"]],
            ["На руках на конец периода", c["on_loan_at_end"]],
            ["Просрочено на конец периода", c["overdue_at_end"]]]),
        Table("По месяцам", ["Месяц", *(label for _, label in MONTH_COLUMNS)],
              [[m["label"], *(m[k] for k, _ in MONTH_COLUMNS)] for m in c["by_month"]]),
        Table("Отказы в обслуживании", ["Причина", "Количество"], refusals),
        Table("Выдачи и продления в обход правил", ["Действие и правило", "Количество"], overrides,
              "Библиотекарь разрешил действие, которое правила запрещали; правило указано."),
        *_holds_table(c.get("holds")),
    ]))
    out.append(Section("reading", "Чтение", [
        Table("Самые читаемые книги", ["№", "Заглавие", "Автор", "Год", "Выдач"],
              [[i, t["title"], _authors(t["authors"]), t["year"] or "", t["loans"]]
               for i, t in enumerate(r["reading"]["top_titles"], 1)]),
        Table("Самые читаемые авторы", ["№", "Автор", "Выдач"],
              [[i, a["author"], a["loans"]] for i, a in enumerate(r["reading"]["top_authors"], 1)]),
    ]))
    sr = r["searches"]
    out.append(Section("searches", "Поиск", [
        Table("Поиск в каталоге", ["Показатель", "Значение"],
              [["Запросов", sr["total"]], ["Без результата", sr["zero"]]]),
        Table("Частые запросы", ["Запрос", "Раз"], [[q["query"], q["count"]] for q in sr["top"]]),
        Table("Искали, но не нашли (запросы без результата)", ["Запрос", "Раз"],
              [[q["query"], q["count"]] for q in sr["zero_list"]],
              "Чего читатели ищут, а в фонде нет: подсказка для комплектования."),
    ]))
    md = r["media"]
    out.append(Section("media", "Медиатека", [
        Table("Просмотры по видам", ["Вид", "Просмотров"],
              [[MEDIA_KINDS.get(k, k), n] for k, n in sorted(md["by_kind"].items(),
                                                               key=lambda kv: -kv[1])]
              + [["Итого", md["plays"]]]),
        Table("Популярные материалы", ["№", "Название", "Просмотров"],
              [[i, m["title"], m["plays"]] for i, m in enumerate(md["top"], 1)]),
    ]))
    cat = r["catalogue"]
    out.append(Section("catalogue", "Каталог", [
        Table("Рост электронного каталога", ["Месяц", "Добавлено записей", "Всего записей"],
              [[g["label"], g["added"], g["total"]] for g in cat["growth"]]),
        Table("Загрузки записей", ["Показатель", "Значение"],
              [["Загрузок (импортов)", cat["imports"]],
               ["Записей добавлено или обновлено", cat["imported_records"]]]),
    ]))
    if r["schools"]:
        heads = [label for _, label in SUMMARY_ROWS]
        out.append(Section("schools", "По школам", [Table(
            "Показатели по школам (сводный каталог)", ["Сигла", *heads],
            [[x["sigla"], *(x[k] for k, _ in SUMMARY_ROWS)] for x in r["schools"]])]))
    return out


def header_lines(r: dict) -> tuple[str, str]:
    """(school name, period) for every page/sheet."""
    school = r["school"] or "Информационно-библиотечный центр"
    if r.get("sigla"):
        school = f"{school} — {r['sigla']}"
    return school, f"Период: {r['period']['title']}"
