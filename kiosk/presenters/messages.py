"""Friendly texts for refusal codes, dates and counts, in the current language.

Everything said to a reader goes through `say`: «ты» to pupils, «Вы» to teachers (``formal``).
A refusal always says what to do with the book in the reader's hands: put it back where it was
taken from, or give it to the librarian.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from kiosk.i18n import N_, _, ngettext, pgettext, say

MONTHS = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
          N_("July"), N_("August"), N_("September"), N_("October"), N_("November"),
          N_("December"))
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
            N_("Saturday"), N_("Sunday"))


def refusal(code: str, formal: bool = False) -> str:
    """Why a book cannot be taken, and what to do with it."""
    texts = {
        "item_not_found": say("This book is not in our catalogue. Give it to the librarian.",
                              formal),
        "item_on_loan": say("This copy is still checked out to someone. Give it to the "
                            "librarian.", formal),
        "already_yours": say("You already have this book.", formal),
        "not_for_loan": say("This book stays in the library: read it in the reading room, then "
                            "put it back on the shelf.", formal),
        "reader_blocked": say("Your card is blocked. Put the book back on the shelf and talk "
                              "to the librarian.", formal),
        "has_overdue": say("First return your overdue books. Put this one back on the shelf "
                           "for now.", formal),
        "limit_reached": say("You have as many books as you can take. Return one first; put "
                             "this one back on the shelf.", formal),
        "reserved": say("This book is kept for another reader. Give it to the librarian.",
                        formal),
        "has_lost": say("You have a lost book: talk to the librarian. Put this one back on "
                        "the shelf.", formal),
        "age_restricted": say("This book is for older readers. Put it back on the shelf.",
                              formal),
        "item_unavailable": say("This copy cannot be lent now. Give it to the librarian.",
                                formal),
        "offline_refused": say("No connection to the library server: books cannot be checked "
                               "out now. Give the book to the librarian.", formal),
        # a terminal lends its own school's copies to its own school's readers (docs/SCHOOLS.md)
        "other_school": say("This book is from another school: give it to the librarian.",
                            formal),
        "other_school_reader": say("Your card is from another school: books are lent at your "
                                   "own school. Give the book to the librarian.", formal),
        # the school's ИРБИС64 server ([circulation] backend = "irbis") away or refusing
        "irbis_unavailable": say("The library system is not answering now. Put the book back "
                                 "on the shelf or give it to the librarian.", formal),
        "irbis_refused": say("The library system is not answering now. Put the book back on "
                             "the shelf or give it to the librarian.", formal),
    }
    return texts.get(code, say("This book cannot be checked out here. Give it to the "
                               "librarian.", formal))


def reader_refusal(code: str, formal: bool = False) -> str:
    """Why a card (or PIN) was not accepted."""
    texts = {
        "reader_blocked": say("Your card is blocked. Talk to the librarian.", formal),
        "wrong_pin": say("Wrong PIN. Try again.", formal),
        "finish_first": say("This is another reader's card: press “Done” first.", formal),
        "offline_refused": say("No connection to the library server: ask the librarian.",
                               formal),
        "too_many_attempts": say("Too many attempts. Ask the librarian.", formal),
        "card_locked": say("Too many wrong PINs: the card is locked for a while. Try again "
                           "later or ask the librarian.", formal),
    }
    return texts.get(code, _("This is not a library card we know. Show your library card."))


def pin_change_refusal(code: str, formal: bool = False, params: dict | None = None) -> str:
    """Why a new PIN was not saved, and what to do next."""
    params = params or {}
    if code == "pin_format":
        return say("A PIN is {min} to {max} digits. Make up another one.", formal).format(
            min=params.get("min", 4), max=params.get("max", 8))
    texts = {
        "pin_trivial": say("This PIN is too easy to guess. Make up another one.", formal),
        "pin_self_set_off": say("Your PIN is set by the librarian: ask at the desk.", formal),
        "wrong_pin": say("Wrong PIN. Type the PIN you have now.", formal),
        "card_locked": reader_refusal("card_locked", formal),
        "offline_refused": say("No connection to the library server: the PIN was not changed. "
                               "Try later.", formal),
    }
    return texts.get(code, say("The PIN was not changed. Ask the librarian.", formal))


def restriction(code: str, note: str | None = None, formal: bool = False) -> str:
    """Why a reader cannot borrow now, told when the card is shown, with what to do."""
    texts = {
        "reader_blocked": say("You cannot take books now: your card is blocked. Talk to the "
                              "librarian.", formal),
        "has_overdue": say("You cannot take books now: first return your overdue books "
                           "(“My books” shows which).", formal),
        "has_lost": say("You cannot take books now: a book you took is lost. Talk to the "
                        "librarian.", formal),
    }
    text = texts.get(code, say("You cannot take books now. Talk to the librarian.", formal))
    if note:
        text += "\n" + _("The librarian's note: {note}").format(note=note)
    return text


def return_refusal(code: str) -> str:
    """Why a book could not be returned here, and what to do with it."""
    texts = {
        "not_on_loan": _("This book was not checked out. Put it on the return cart."),
        "reader_card": _("This is a library card. To return a book, show the barcode on the "
                         "book."),
        "offline_refused": _("No connection to the library server. Give the book to the "
                             "librarian."),
        "irbis_unavailable": _("The library system is not answering now. Give the book to the "
                               "librarian."),
        "irbis_refused": _("The library system is not answering now. Give the book to the "
                           "librarian."),
    }
    return texts.get(code, _("This book is not from our library. Give it to the librarian."))


def renewal_refusal(code: str, formal: bool = False) -> str:
    """Why a loan cannot be renewed."""
    texts = {
        "overdue_no_renew": say("Overdue books cannot be renewed. Bring it back, please.",
                                formal),
        "renewal_limit": say("This book has been renewed too many times. Bring it back, "
                             "please.", formal),
        "reserved": say("Another reader is waiting for this book. Bring it back, please.",
                        formal),
        "renewal_held": say("Another reader is waiting for this book. Bring it back, please.",
                            formal),
        "renewal_not_allowed": _("This book cannot be renewed."),
        "offline_refused": _("No connection to the library server: renewing needs it. Try "
                             "later."),
    }
    return texts.get(code, say("Cannot renew. Ask the librarian.", formal))


CAMERA_HINTS = {
    "closer": N_("Hold it closer to the camera"),
    "steadier": N_("Hold it still and straight"),
    "dark": N_("Too dark: hold it nearer the light"),
    "blurred": N_("Hold it still for a moment"),
}


def camera_hint(code: str | None) -> str:
    """What to do when the camera sees a code but cannot read it ('' for none)."""
    return _(CAMERA_HINTS[code]) if code in CAMERA_HINTS else ""


def authors_short(authors: Iterable[str]) -> str:
    """«Виленкин Н. Я. и др.»: one name never cut in the middle on a narrow line."""
    names = [a for a in authors if a]
    if len(names) > 1:
        return _("{first} et al.").format(first=names[0])
    return names[0] if names else ""


def day_month(day: dt.date) -> str:
    """'5 марта' / 'March 5'."""
    month = pgettext("genitive", MONTHS[day.month - 1])
    return _("{month} {day}").format(day=day.day, month=month)


def weekday(day: dt.date) -> str:
    """The weekday's name."""
    return _(WEEKDAYS[day.weekday()])


def due_text(due: dt.date) -> str:
    """'Вернуть до 19 марта'."""
    return _("Return by {date}").format(date=day_month(due))


def days(n: int) -> str:
    """'3 дня' with the right plural form."""
    return ngettext("{n} day", "{n} days", n).format(n=n)


def books(n: int) -> str:
    """'2 книги' with the right plural form."""
    return ngettext("{n} book", "{n} books", n).format(n=n)
