"""Named errors of the places: each has a stable ``code`` and an English message template (the
gettext msgid, translated with library.i18n like the circulation refusals).

    PlacesError (library.errors)
    ├── PlaceNotFound        ├── BadBox           ├── BadRule
    ├── PlaceExists          ├── BadLetters       ├── BadValue
    └── PlacesFileError      a places file with every problem found (file, line, key, reason)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from library.errors import PlacesError as _Base

N_ = str  # marks msgids for extraction; translation happens in front ends
Translate = Callable[[str], str]


class PlacesError(_Base):
    """A place, rule or file is wrong; ``params`` fill the message template (library.errors.RuleError)."""

    code = "places"
    template = N_("The places are not valid")


class PlaceNotFound(PlacesError):
    code, template = "place_not_found", N_("There is no place «{name}»")


class PlaceExists(PlacesError):
    code, template = "place_exists", N_("A place «{name}» already exists")


class BadBox(PlacesError):
    code, template = "bad_box", N_(
        "The box must be four numbers x, y, w, h from 0 to 1 (y from the top, x + w and y + h "
        "at most 1), not {value}")


class BadLetters(PlacesError):
    code, template = "bad_letters", N_(
        "Letters must be one letter or a range such as А-Л (first letter not after the last), "
        "not {value}")


class BadRule(PlacesError):
    code, template = "bad_rule", N_(
        "A rule needs a collection, a shelf-mark prefix, a ББК prefix or letters (or is the "
        "fallback alone)")


class BadValue(PlacesError):
    """A field's value is wrong: ``reason`` is a msgid of MESSAGES filled with the other params."""

    code, template = "bad_value", N_("{key}: {reason}")

    def message(self, translate: Translate | None = None) -> str:
        """«name: is too long (at most 100 characters)», the reason translated too."""
        tr = translate or (lambda s: s)
        reason = str(self.params.get("reason", ""))
        try:
            reason = tr(reason).format(**self.params)
        except (KeyError, IndexError, ValueError):
            reason = tr(reason)
        return tr(self.template).format(key=self.params.get("key", ""), reason=reason)


@dataclass(frozen=True)
class Problem:
    """One problem in a places file: where it is and what is wrong."""

    line: int | None
    key: str
    error: PlacesError | str
    params: tuple[tuple[str, Any], ...] = ()

    def message(self, translate: Translate | None = None) -> str:
        """«line 12, place[3].box: …» (`error` is a PlacesError or a msgid of MESSAGES)."""
        tr = translate or (lambda s: s)
        where = tr("line {line}").format(line=self.line) if self.line else ""
        if isinstance(self.error, PlacesError):
            text = self.error.message(translate)
        else:
            text = tr(self.error).format(**dict(self.params))
        head = ", ".join(x for x in (where, self.key) if x)
        return f"{head}: {text}" if head else text

    def to_dict(self, translate: Translate | None = None) -> dict[str, Any]:
        """JSON-safe form."""
        code = self.error.code if isinstance(self.error, PlacesError) else "bad_file"
        return {"line": self.line, "key": self.key, "code": code,
                "message": self.message(translate)}


class PlacesFileError(PlacesError):
    """A places file that cannot be imported; ``problems`` lists every problem found."""

    code, template = "bad_places_file", N_("{file}: {count} problem(s) in the places file")

    def __init__(self, file: str, problems: list[Problem]):
        self.problems = problems
        super().__init__(file=file, count=len(problems))

    def message(self, translate: Translate | None = None) -> str:
        """The headline, then one line per problem."""
        head = super().message(translate)
        return "\n".join([head, *("  " + p.message(translate) for p in self.problems)])


# Messages that are not error templates but are translated the same way.
MESSAGES = (
    N_("line {line}"),
    N_("not valid TOML: {reason}"),
    N_("unknown key"),
    N_("must be text"),
    N_("must be a whole number"),
    N_("must be true or false"),
    N_("must be a list of rules"),
    N_("must be a table"),
    N_("is required"),
    N_("is too long (at most {n} characters)"),
    N_("must not contain control characters"),
    N_("is used by another place in this file"),
    N_("the file is for {file_sigla}, this school is {sigla}: use --sigla"),
)
