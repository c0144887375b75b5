"""Helpers of the ИРБИС64 tests (imported by name: tests/ils/conftest.py puts this folder on
sys.path, as tests/marc does for marc_fixtures)."""

from __future__ import annotations

import socket

from ils.irbis import IrbisRecord
from ils.irbis.emulator import IrbisEmulator, demo_readers

HOST = "127.0.0.1"
USER, PASSWORD = "librarian", "secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def book(title: str, author: str, *copies: tuple[str, str, str]) -> IrbisRecord:
    """A catalogue record: 200 title, 700 author, one 910 per (status, inventory no., barcode)."""
    rec = IrbisRecord()
    surname, _, initials = author.partition(" ")
    rec.add_field(700, subfields=[("a", surname), ("b", initials)])
    rec.add_field(200, subfields=[("a", title), ("f", author)])
    rec.add_field(210, subfields=[("a", "Москва"), ("c", "Детская литература"), ("d", "2019")])
    for status, inventory, barcode in copies:
        rec.add_field(910, subfields=[("a", status), ("b", inventory), ("d", "ФБ"), ("h", barcode)])
    return rec


def catalogue() -> list[IrbisRecord]:
    records = [
        book("Война и мир", "Толстой Л. Н.", ("0", "1001", "E00401001"), ("0", "1002", "E00401002")),
        book("Капитанская дочка", "Пушкин А. С.", ("0", "2001", "E00402001")),
        book("Мир приключений", "Иванов И. И.", ("1", "3001", "E00403001")),
    ]
    for mfn, rec in enumerate(records, 1):
        rec.mfn, rec.version = mfn, 1
    return records


def make_emulator(**kwargs) -> IrbisEmulator:
    emu = IrbisEmulator({USER: (PASSWORD, "ABCMR")}, **kwargs)
    emu.add_database("IBIS", catalogue())
    emu.add_database("RDR", demo_readers(5))
    return emu
