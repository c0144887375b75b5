"""Copy (holdings) fields in both directions: ИРБИС 910, RUSMARC 899, MARC21 852 and Koha 952.

Status mapping of ИРБИС 910^a (ManagedIrbis5 ExemplarStatus) to CopyStatus:
0 available, 1 on_loan, 2 ordered, 3 bindery, 4 lost, 5 not_for_loan, 6 written_off,
8 in_process (journal issue received, not yet shelved), 9 reserved,
C not_for_loan (copy group held for a network library), P not_for_loan (bound into a binding:
the binding is lent, not the issue), R in_process (copy group for reproduction),
U not_for_loan (group without inventory numbers: nothing to scan at a kiosk);
any other code → in_process. The original code is kept in Copy.status_code and written back
unchanged on export unless the status changed since.

910^h holds a barcode or an RFID tag UID: a 16-hex-digit value starting "E0" (ISO 15693 UID)
goes to Copy.rfid, anything else to Copy.barcode.

On export a holdings field is regenerated from the Copy row: when the copy came from a field
of the stored record, that field is kept as it was and only the subfields whose value changed
are rewritten, so unchanged copies round-trip byte for byte.
"""

from __future__ import annotations

import re
from typing import Protocol

from library.marc.model import CopyData, DataField

HOLDINGS_TAGS = ("910", "899", "852", "952")

STATUS_BY_CODE = {
    "0": "available", "1": "on_loan", "2": "ordered", "3": "bindery", "4": "lost",
    "5": "not_for_loan", "6": "written_off", "8": "in_process", "9": "reserved",
    "C": "not_for_loan", "P": "not_for_loan", "R": "in_process", "U": "not_for_loan",
}
CODE_BY_STATUS = {
    "available": "0", "on_loan": "1", "ordered": "2", "bindery": "3", "lost": "4",
    "not_for_loan": "5", "written_off": "6", "in_process": "8", "reserved": "9",
}
_RFID = re.compile(r"^E0[0-9A-F]{14}$", re.I)

# attribute → subfield code, per holdings tag (used for writing back changed values)
_SPEC = {
    "910": {"inventory_number": "b", "sigla": "d", "shelf_mark": "r", "collection": "q",
            "price": "e", "received": "c"},
    "899": {"sigla": "a", "shelf_mark": "j", "inventory_number": "p", "barcode": "x"},
    "852": {"sigla": "a", "shelf_mark": "h", "barcode": "p"},
    "952": {"sigla": "a", "shelf_mark": "o", "barcode": "p", "inventory_number": "i",
            "price": "g", "received": "d", "collection": "8"},
}


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def status_of(code: str | None) -> str:
    """CopyStatus value for an ИРБИС 910^a code (blank means available)."""
    code = (code or "").strip().upper()
    if not code:
        return "available"
    return STATUS_BY_CODE.get(code, "in_process")


def code_for(status: str, original: str | None) -> str:
    """The 910^a code to export: the original code while it still means `status`."""
    if original is not None and status_of(original) == status:
        return original
    return CODE_BY_STATUS.get(status, "0")


def read_copy(field: DataField) -> CopyData:
    """A CopyData from one holdings field (910, 899, 852 or 952)."""
    g = dict(reversed(field.subfields)).get  # first value per code, one C-level pass
    tag = field.tag
    if tag == "910":
        tagval = _clean(g("h"))
        is_rfid = bool(tagval and _RFID.match(tagval))
        code = g("a")
        return CopyData(
            sigla=_clean(g("d")), inventory_number=_clean(g("b")),
            barcode=None if is_rfid else tagval, rfid=tagval if is_rfid else None,
            shelf_mark=_clean(g("r")), collection=_clean(g("q")), status=status_of(code),
            status_code=code.strip() if code and code.strip() else None, price=_clean(g("e")),
            received=_clean(g("c")), source_tag=tag,
        )
    if tag == "899":
        return CopyData(sigla=_clean(g("a")), shelf_mark=_clean(g("j")),
                        inventory_number=_clean(g("p")), barcode=_clean(g("x")), source_tag=tag)
    if tag == "852":
        shelf = " ".join(v for v in (g("h"), g("i")) if v and v.strip()) or g("j")
        return CopyData(sigla=_clean(g("a")) or _clean(g("b")), shelf_mark=_clean(shelf),
                        barcode=_clean(g("p")), note=_clean(g("z")), source_tag=tag)
    if tag == "952":
        status = "available"
        if (g("0") or "0").strip() not in ("", "0"):
            status = "written_off"
        elif (g("1") or "0").strip() not in ("", "0"):
            status = "lost"
        elif (g("7") or "0").strip() not in ("", "0"):
            status = "not_for_loan"
        elif _clean(g("q")):
            status = "on_loan"
        return CopyData(sigla=_clean(g("a")), shelf_mark=_clean(g("o")), barcode=_clean(g("p")),
                        inventory_number=_clean(g("i")), price=_clean(g("g")),
                        received=_clean(g("d")), collection=_clean(g("8")), status=status,
                        source_tag=tag)
    raise ValueError(f"not a holdings tag: {tag}")


class CopyIds(Protocol):
    """What identifies a copy: CopyData, a Copy or a row of the copies table all have these."""

    @property
    def inventory_number(self) -> str | None: ...
    @property
    def barcode(self) -> str | None: ...
    @property
    def rfid(self) -> str | None: ...


class CopyFields(CopyIds, Protocol):
    """What `write_copy` writes of a copy (CopyData, a Copy or a row of the copies table)."""

    @property
    def sigla(self) -> str | None: ...
    @property
    def shelf_mark(self) -> str | None: ...
    @property
    def collection(self) -> str | None: ...
    @property
    def price(self) -> str | None: ...
    @property
    def received(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def status_code(self) -> str | None: ...


def identity(copy: CopyIds) -> tuple[str | None, str | None, str | None]:
    """What identifies a copy within (record, sigla): inventory number, barcode or RFID."""
    return (copy.inventory_number or None, copy.barcode or None, copy.rfid or None)


def _set(subfields: list[tuple[str, str]], code: str, value: str | None) -> None:
    for i, (c, _) in enumerate(subfields):
        if c == code:
            if value is None:
                del subfields[i]
            else:
                subfields[i] = (code, value)
            return
    if value is not None:
        subfields.append((code, value))


def write_copy(tag: str, copy: CopyFields, original: DataField | None = None,
               keep_absent_sigla: bool = False) -> DataField:
    """A holdings field for a copy row; starts from `original` and rewrites changed values.

    With `keep_absent_sigla`, an original field that named no library stays without one (its
    copy's sigla came from the import's default, not from the field).
    """
    field = DataField(tag, original.ind1 if original else " ", original.ind2 if original else " ",
                      list(original.subfields) if original else [])
    was = read_copy(field) if original else CopyData()
    for attr, code in _SPEC[tag].items():
        value = getattr(copy, attr) or None
        if attr == "sigla" and keep_absent_sigla and original is not None and was.sigla is None:
            continue
        if original is None or getattr(was, attr) != value:
            _set(field.subfields, code, value)
    if tag == "910":
        tagval = copy.barcode or copy.rfid or None
        if original is None or (was.barcode or was.rfid) != tagval:
            _set(field.subfields, "h", tagval)
        if original is None or was.status != copy.status or was.status_code != copy.status_code:
            _set(field.subfields, "a", code_for(copy.status, copy.status_code))
        if original is None:
            field.subfields.sort(key=lambda s: s[0] != "a")  # status first, as ИРБИС writes it
    elif tag == "952" and (original is None or was.status != copy.status):
        for code in ("0", "1", "7"):
            _set(field.subfields, code, None)
        extra = {"written_off": "0", "lost": "1", "not_for_loan": "7"}.get(copy.status)
        if extra:
            _set(field.subfields, extra, "1")
    return field
