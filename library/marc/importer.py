"""Importing MARC files into the catalogue in atomic batches.

Flow per file: `pipeline.mapped_records` streams mapped records (read and mapped in a second
process for big files); a record that cannot be read or mapped is skipped with ordinal, byte
offset and reason before anything is written; mapped records are written in batches of
`batch_size` by `writer.Writer` (one transaction per batch, re-imports update in place, copies
merged per (record, sigla); see writer.py for the rules). The same book imported by another
school joins the existing record (links.py, union.py: the union catalogue) and is reported
in `merged` / `merges`.
"""

from __future__ import annotations

import os
from collections import Counter as Tally
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from library.errors import ImportFormatError
from library.marc.pipeline import mapped_records, should_parallelise
from library.marc.reader import detect_container
from library.marc.rows import FORMAT
from library.marc.writer import CATALOGUE_COUNTER, Item, OnBatch, Writer, next_version
from library.storage.models import Event

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from library.storage.database import Database

__all__ = ["CATALOGUE_COUNTER", "ImportReport", "import_files", "next_version", "with_textbooks"]

MAX_LISTED = 1000  # errors/warnings kept in the report; counts stay exact

Progress = Callable[[str, int, int, "ImportReport"], None]


@dataclass
class ImportReport:
    """What an import did; `as_dict()` is the `ibc import --json` output."""

    read: int = 0
    added: int = 0
    updated: int = 0
    skipped: int = 0
    encodings: Tally = field(default_factory=Tally)
    formats: Tally = field(default_factory=Tally)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    warning_count: int = 0
    files: list[str] = field(default_factory=list)
    unreadable_files: int = 0
    merged: int = 0
    merges: list[dict] = field(default_factory=list)
    maintenance: dict | None = None  # {"action", "tables"}: deterministic, in as_dict
    maintenance_seconds: float = 0.0

    def skip(self, file: str, record: int | None, offset: int | None, reason: str) -> None:
        """Count a skipped record and keep its reason."""
        self.skipped += 1
        if len(self.errors) < MAX_LISTED:
            self.errors.append({"file": file, "record": record, "offset": offset,
                                "reason": reason})

    def warn(self, file: str, record: int | None, offset: int | None, reason: str) -> None:
        """Keep a warning about a record that was imported anyway."""
        self.warning_count += 1
        if len(self.warnings) < MAX_LISTED:
            self.warnings.append({"file": file, "record": record, "offset": offset,
                                  "reason": reason})

    def merge(self, file: str, record: int | None, record_id: int, union_key: str | None,
              schools: list[str]) -> None:
        """Count a record that joined an existing record of other schools and list it."""
        self.merged += 1
        if len(self.merges) < MAX_LISTED:
            self.merges.append({"file": file, "record": record, "record_id": record_id,
                                "union_key": union_key, "schools": schools})

    def as_dict(self) -> dict:
        """The JSON report."""
        return {
            "files": self.files, "read": self.read, "added": self.added,
            "updated": self.updated, "merged": self.merged, "skipped": self.skipped,
            "encodings": dict(self.encodings), "formats": dict(self.formats),
            "errors": self.errors, "warnings": self.warnings, "merges": self.merges,
            "maintenance": self.maintenance,
        }


# What an import writes (writer.py; the textbook fields of with_textbooks).
IMPORT_TABLES = ("records", "copies", "record_keys", "textbook_titles")


def import_files(db: Database, paths: Iterable[str | os.PathLike[str]], *, sigla: str,
                 on_batch: OnBatch | None = None, progress: Progress | None = None,
                 batch_size: int = 1000, event: bool = True,
                 parallel: bool | None = None, encoding: str | None = None,
                 union: bool = True, maintain: bool = True) -> ImportReport:
    """Import MARC files (ISO 2709, MARCXML, ИРБИС text) into `db`; returns the report.

    `sigla` is the holding school for copies whose field names no library (910^d / 899$a /
    852$a / 952$a empty) and scopes ИРБИС 903 keys. A file that cannot be opened or recognised
    is reported as an error and the other files go on. `parallel` reads and maps in a second
    process (None: automatically for files of 8 MB and more on multi-core machines).
    `encoding` (library.marc.encoding.FORCED) replaces the per-record detection. `union`:
    `sigla` is also the importing school, and a book another school already has joins its
    record (writer.py); False finds records by their own key alone. `maintain`: when anything
    was written, the filled tables (and the search index's with `on_batch`) get VACUUM
    (ANALYZE) on PostgreSQL, ANALYZE on SQLite (library.storage.maintenance), in the report.
    """
    report = ImportReport()
    with Writer(db, report, sigla, with_textbooks(on_batch), batch_size, union) as writer:
        _read_files(paths, sigla, writer, report, progress, parallel, encoding)
    if maintain and report.added + report.updated + report.merged:
        from library.storage.maintenance import after_bulk_write

        done = after_bulk_write(db, IMPORT_TABLES, search=on_batch is not None)
        report.maintenance = {"action": done.action, "tables": done.tables}
        report.maintenance_seconds = done.seconds
    if event:
        with db.transaction() as session:
            summary = {k: v for k, v in report.as_dict().items()
                       if k not in ("errors", "warnings", "merges")}
            summary["errors"] = report.errors[:20]
            session.add(Event(kind="import", sigla=sigla, count=report.added + report.updated,
                              payload=summary))
    return report


def with_textbooks(on_batch: OnBatch | None) -> OnBatch:
    """Each batch's textbooks get their subject, grades and series from the catalogue fields
    (`library.textbooks.titles.extract`, source ``marc``: data set at the desk or by the federal
    list are kept), in the batch's transaction, before `on_batch` (the search index) runs."""
    from library.textbooks.titles import extract

    def batch(session: object, record_ids: list[int]) -> None:
        extract(cast("Session", session), record_ids=record_ids)
        if on_batch is not None:
            on_batch(session, record_ids)
    return batch


def _read_files(paths: Iterable[str | os.PathLike[str]], sigla: str, writer: Writer, report: ImportReport,
                progress: Progress | None, parallel: bool | None,
                encoding: str | None = None) -> None:
    for path in paths:
        name = os.fspath(path)
        report.files.append(name)
        size = 0
        try:
            size = os.path.getsize(name)
            detect_container(name)  # unreadable or unknown files fail here, in this process
            if parallel is None:
                use_worker = should_parallelise(name)
            else:
                use_worker = parallel
            first = True
            for ordinal, offset, charset, data, reason in mapped_records(name, sigla, use_worker,
                                                                         encoding):
                first = False
                report.read += 1
                if charset is not None:  # the record was decoded (even if mapping refused it)
                    report.encodings[charset] += 1
                if reason is not None:
                    report.skip(name, ordinal, offset, reason)
                    continue
                report.formats[data[FORMAT]] += 1
                writer.add(Item(data, name, ordinal, offset))
                if progress is not None and report.read % 500 == 0:
                    progress(name, offset or 0, size, report)
            writer.flush()
            if first:
                report.unreadable_files += 1
                report.errors.append({"file": name, "record": None, "offset": None,
                                      "reason": "no MARC records found"})
        except (ImportFormatError, OSError) as exc:
            writer.flush()
            report.unreadable_files += 1
            reason = f"cannot read: {exc.strerror}" if isinstance(exc, OSError) else str(exc)
            report.errors.append({"file": name, "record": None, "offset": None,
                                  "reason": reason})
        if progress is not None:
            progress(name, size, size, report)
