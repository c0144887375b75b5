"""Friendly texts for refusal codes, dates and counts, in the current language."""

from __future__ import annotations

import datetime as dt

from kiosk.i18n import N_, _, ngettext, pgettext

MONTHS = (N_("January"), N_("February"), N_("March"), N_("April"), N_("May"), N_("June"),
          N_("July"), N_("August"), N_("September"), N_("October"), N_("November"),
          N_("December"))
WEEKDAYS = (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"),
            N_("Saturday"), N_("Sunday"))


def refusal(code: str) -> str:
    """Why a book cannot be taken, said to a child."""
    texts = {
        "item_not_found": _("This book is not in our catalogue. Please give it to the librarian."),
        "item_on_loan": _("This copy is already checked out to someone. Please show it to the "
                          "librarian."),
        "already_yours": _("You already have this book."),
        "not_for_loan": _("This book stays in the library: you can read it in the reading room."),
        "reader_blocked": _("Your card is blocked. Please talk to the librarian."),
        "has_overdue": _("Please return your overdue books first."),
        "limit_reached": _("You have as many books as you can take. Return one first."),
        "reserved": _("This book is reserved for another reader."),
        "duplicate": _("This book is already in your list."),
        "has_lost": _("You have a lost book: please talk to the librarian."),
        "age_restricted": _("This book is for older readers."),
        "item_unavailable": _("This copy cannot be lent now. Please show it to the librarian."),
        "offline_refused": _("No connection to the library server: books cannot be checked out "
                             "now. Please ask the librarian."),
    }
    return texts.get(code, _("The book cannot be checked out here. Please ask the librarian."))


def reader_refusal(code: str) -> str:
    """Why a card (or PIN) was not accepted."""
    texts = {
        "reader_blocked": _("Your card is blocked. Please talk to the librarian."),
        "wrong_pin": _("Wrong PIN. Try again."),
        "finish_first": _("Press «Done» first: then the next reader can show a card."),
        "offline_refused": _("No connection to the library server: please ask the librarian."),
        "too_many_attempts": _("Too many attempts. Please ask the librarian."),
    }
    return texts.get(code, _("This is not a reader card we know. Show your library card."))


def return_refusal(code: str) -> str:
    """Why a book could not be returned here."""
    texts = {
        "not_on_loan": _("This book was not checked out. Put it on the return cart."),
        "offline_refused": _("No connection to the library server. Please give the book to "
                             "the librarian."),
    }
    return texts.get(code, _("This book is not from our library. Please give it to the "
                             "librarian."))


def renewal_refusal(code: str) -> str:
    """Why a loan cannot be renewed."""
    texts = {
        "overdue_no_renew": _("Overdue books cannot be renewed. Please bring it back."),
        "renewal_limit": _("This book has been renewed too many times."),
        "reserved": _("Another reader is waiting for this book."),
        "renewal_not_allowed": _("This book cannot be renewed."),
        "offline_refused": _("No connection to the library server: renewing needs it. Try "
                             "later."),
    }
    return texts.get(code, _("Cannot renew. Please ask the librarian."))


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
