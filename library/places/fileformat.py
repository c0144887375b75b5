"""The places file (TOML), read with every problem reported by line and key, and written back.

    sigla = "ИБЦ"                       # optional: the school the file is for

    [[place]]
    name = "Стеллаж 5"
    note = "зарубежная проза, буква К"
    room = "Абонемент"
    box = [0.05, 0.10, 0.20, 0.08]      # x, y, w, h on the room plan, 0..1, y from the top
    rules = [
      { bbk = "84(4", letters = "К" },
      { collection = "Зарубежная литература" },
    ]

Rule keys: collection, shelf, bbk, letters, fallback (docs/PLACES.md).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from library.places.errors import PlacesError, PlacesFileError, Problem
from library.places.match import RuleSpec, fold
from library.places.spec import (
    NAME_MAX,
    NOTE_MAX,
    ROOM_MAX,
    PlaceSpec,
    clean_place,
    clean_rule,
    clean_text,
    parse_box,
)

TOP_KEYS = {"sigla", "place", "format"}
PLACE_KEYS = {"name", "note", "room", "box", "sort", "rules"}
RULE_KEYS = {"collection", "shelf", "bbk", "letters", "fallback"}
MAX_PROBLEMS = 50
_HEADER = re.compile(r"^\s*\[\[\s*place\s*\]\]\s*(?:#.*)?$")
_TOML_LINE = re.compile(r"at line (\d+)")


@dataclass(frozen=True)
class PlacesFile:
    """A read places file: the school it names (if any) and its places, checked."""

    sigla: str | None
    places: list[PlaceSpec]


class _Lines:
    """Line numbers of `[[place]]` headers and of keys inside them (tomllib gives none)."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self.headers = [i + 1 for i, line in enumerate(self.lines) if _HEADER.match(line)]

    def place(self, n: int) -> int | None:
        return self.headers[n] if n < len(self.headers) else None

    def key(self, n: int, key: str) -> int | None:
        start = self.place(n)
        if start is None:
            return None
        end = self.headers[n + 1] if n + 1 < len(self.headers) else len(self.lines) + 1
        pat = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for i in range(start, end - 1):
            if pat.match(self.lines[i]):
                return i + 1
        return start

    def rule(self, n: int, k: int) -> int | None:
        """The line of the k-th inline table after `rules =` in the n-th place."""
        start = self.key(n, "rules")
        if start is None:
            return None
        end = self.headers[n + 1] if n + 1 < len(self.headers) else len(self.lines) + 1
        seen = 0
        for i in range(start - 1, end - 1):
            seen += self.lines[i].split("#")[0].count("{")
            if seen > k:
                return i + 1
        return start

    def top(self, key: str) -> int | None:
        pat = re.compile(rf"^\s*{re.escape(key)}\s*=")
        stop = self.headers[0] if self.headers else len(self.lines) + 1
        return next((i + 1 for i in range(stop - 1) if pat.match(self.lines[i])), None)


def loads(text: str, *, source: str = "places.toml") -> PlacesFile:
    """Read and check a places file; PlacesFileError lists every problem (up to 50)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_LINE.search(str(exc))
        reason = str(exc).split(" (at line")[0]
        raise PlacesFileError(source, [Problem(int(m.group(1)) if m else None, "",
                                               "not valid TOML: {reason}",
                                               (("reason", reason),))]) from None
    lines = _Lines(text)
    problems: list[Problem] = []
    for key in sorted(set(data) - TOP_KEYS):
        problems.append(Problem(lines.top(key), key, "unknown key"))
    sigla = data.get("sigla")
    if sigla is not None and (not isinstance(sigla, str) or not sigla.strip()
                              or len(sigla) > 32):
        problems.append(Problem(lines.top("sigla"), "sigla", "must be text"))
        sigla = None
    raw = data.get("place", [])
    if not isinstance(raw, list):
        problems.append(Problem(lines.top("place"), "place", "must be a table"))
        raw = []
    places: list[PlaceSpec] = []
    seen: dict[str, int] = {}
    for n, item in enumerate(raw):
        spec = _place(item, n, lines, problems)
        name = item.get("name") if isinstance(item, dict) else None
        key = fold(name) if isinstance(name, str) else ""
        if key and key in seen:
            problems.append(Problem(lines.key(n, "name"), f"place[{n + 1}].name",
                                    "is used by another place in this file"))
            continue
        if key:
            seen[key] = n
        if spec is not None:
            places.append(spec)
    if problems:
        problems.sort(key=lambda p: p.line if p.line is not None else 1 << 30)
        raise PlacesFileError(source, problems[:MAX_PROBLEMS])
    return PlacesFile(sigla.strip() if isinstance(sigla, str) else None, places)


def _place(item: Any, n: int, lines: _Lines, problems: list[Problem]) -> PlaceSpec | None:
    where = f"place[{n + 1}]"
    before = len(problems)
    if not isinstance(item, dict):
        problems.append(Problem(lines.place(n), where, "must be a table"))
        return None
    label = item.get("name") if isinstance(item.get("name"), str) else None
    if label:
        where = f"place[{n + 1}] «{label.strip()[:40]}»"
    for key in sorted(set(item) - PLACE_KEYS):
        problems.append(Problem(lines.key(n, key), f"{where}.{key}", "unknown key"))
    rules: list[RuleSpec] = []
    raw_rules = item.get("rules", [])
    if not isinstance(raw_rules, list):
        problems.append(Problem(lines.key(n, "rules"), f"{where}.rules", "must be a list of rules"))
        raw_rules = []
    for k, rule in enumerate(raw_rules):
        rwhere = f"{where}.rules[{k + 1}]"
        if not isinstance(rule, dict):
            problems.append(Problem(lines.rule(n, k), rwhere, "must be a table"))
            continue
        unknown = sorted(set(rule) - RULE_KEYS)
        for key in unknown:
            problems.append(Problem(lines.rule(n, k), f"{rwhere}.{key}", "unknown key"))
        if unknown:
            continue
        fallback = rule.get("fallback", False)
        if not isinstance(fallback, bool):
            problems.append(Problem(lines.rule(n, k), f"{rwhere}.fallback",
                                    "must be true or false"))
            continue
        try:
            rules.append(clean_rule(RuleSpec(rule.get("collection"), rule.get("shelf"),
                                             rule.get("bbk"), rule.get("letters"), fallback)))
        except PlacesError as exc:
            problems.append(Problem(lines.rule(n, k), rwhere, exc))
    checks = {
        "name": lambda v: clean_text(v, "name", NAME_MAX, required=True),
        "note": lambda v: clean_text(v, "note", NOTE_MAX),
        "room": lambda v: clean_text(v, "room", ROOM_MAX),
        "box": parse_box,
        "sort": lambda v: clean_place(PlaceSpec("x", sort=v)).sort,
    }
    values: dict[str, Any] = {}
    for key, check in checks.items():
        try:
            values[key] = check(item.get(key))
        except PlacesError as exc:
            problems.append(Problem(lines.key(n, key), f"{where}.{key}", exc))
    if len(problems) > before:
        return None
    return PlaceSpec(values["name"], values["note"], values["room"], values["box"],
                     values["sort"], tuple(rules))


def _str(value: str) -> str:
    # JSON string escapes are a subset of TOML basic-string escapes.
    return json.dumps(value, ensure_ascii=False)


def _num(value: float) -> str:
    return repr(round(float(value), 6))


def dumps(places: list[PlaceSpec], *, sigla: str | None = None) -> str:
    """The TOML text of a places file (what `ibc places export` writes)."""
    out = ["# Места книг школьного ИБЦ: ibc places import FILE (docs/PLACES.md).",
           "# box = [x, y, w, h]: доли плана зала от 0 до 1, y сверху.", ""]
    if sigla:
        out += [f"sigla = {_str(sigla)}", ""]
    for p in places:
        out.append("[[place]]")
        out.append(f"name = {_str(p.name)}")
        if p.note:
            out.append(f"note = {_str(p.note)}")
        if p.room:
            out.append(f"room = {_str(p.room)}")
        if p.box is not None:
            out.append("box = [" + ", ".join(_num(v) for v in p.box) + "]")
        if p.sort is not None:
            out.append(f"sort = {int(p.sort)}")
        if p.rules:
            out.append("rules = [")
            for r in p.rules:
                parts = [f"{k} = {_str(v) if isinstance(v, str) else str(v).lower()}"
                         for k, v in r.to_dict().items()]
                out.append("  { " + ", ".join(parts) + " },")
            out.append("]")
        else:
            out.append("rules = []")
        out.append("")
    return "\n".join(out)
