"""A Z39.50 front on Debian's Zebra (issue 22 item 3, docs/Z3950.md): the nightly register.

Systems that speak only Z39.50 (ИРБИС64, Koha copy-cataloguing) search the public catalogue on
Index Data's Zebra server (`zebrasrv`), fed by a nightly export instead of a home-made BER codec.
This module writes what Zebra needs into one directory and builds its register:

- the public catalogue as MARC21 in MARCXML (``records.xml``, removed once indexed): the
  records an anonymous SRU client finds (library.search.cql.find with ``cql.allRecords``: never
  deleted records, never teachers-only media — library.access's pupil share), each built by the
  export's own code path
  (library.marc.catalogue_xml.records_marc: a record imported as MARC21 is its stored MARC, a
  RUSMARC one is built as MARC21 from its stored columns). Every holdings and local field
  (852, 59X, 9XX: 910, 952, ИРБИС 907…) and the notes naming people (541, 561, 583) are dropped
  — they may carry donors', cataloguers' or borrowers' names — and one 852 per school is
  written instead: $a sigla, $b the school's name, $z the
  copies on the shelf and in all, from library.schools.holdings at export time;
- the Zebra configuration: ``zebra.cfg``, the `dom` filter's ``dom-config.xml``, the index
  stylesheet ``index.xsl`` (bib-1 Use attributes → MARC21 fields, ATTRIBUTES below), the ICU
  chains (case folding, ё = е), ``yazserver.xml`` (listen address, database ``ibc``, record
  syntaxes USMARC and RUSMARC/UNIMARC in UTF-8, and XML); each record is stored as MARC21 (what
  is indexed and shown as USMARC) and as RUSMARC (library.marc.catalogue_xml's rusmarc family:
  a RUSMARC record as stored, a MARC21 one built from its columns; 899, 316-318 and 9XX
  dropped), which ИРБИС64 takes without conversion;
- the register: `zebraidx init` + `update` into a fresh ``builds/<stamp>/register``, then the
  ``current`` symlink is swapped to it in one rename. A failed or killed build leaves
  ``current`` (yesterday's register) serving; the next build removes its leftovers.

Nothing here reads readers, loans or holds.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from library.errors import IbcError
from library.marc.catalogue_xml import public, xml_text
from library.marc.model import DataField, MarcRecord, RecordError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from library.storage.database import Database

DATABASE = "ibc"
PAGE = 500  # records built and written per round
ALL = 2**31 - 1  # LIMIT for «every id»
MODULE_PATHS = ("/usr/lib/x86_64-linux-gnu/idzebra-2.0/modules", "/usr/lib/aarch64-linux-gnu/"
                "idzebra-2.0/modules", "/usr/lib/idzebra-2.0/modules")
TAB_PATH = "/usr/share/idzebra-2.0/tab"
NS = "http://www.loc.gov/MARC21/slim"
IBC_NS = "info:ibc/zebra-v1"  # the wrapper: <bib id="rN"><marc21>record</marc21><rusmarc>…
KEEP_BUILDS = 1  # old registers kept besides the current one (a session open on it may read)

# bib-1 Use attribute → (Zebra index name, what it searches) — docs/Z3950.md's table.
ATTRIBUTES: dict[int, tuple[str, str]] = {
    4: ("Title", "245 $a$b$n$p, 246 $a, 240 $a, 130 $a"),
    1003: ("Author", "100, 110, 111, 700, 710, 711 $a"),
    1004: ("Author-name-personal", "100, 700 $a"),
    7: ("ISBN", "020 $a as written, without hyphens, and its ISBN-10/ISBN-13 twin"),
    21: ("Subject-heading", "600, 610, 611, 630, 648, 650, 651, 653, 655 $a$x$y$z$v"),
    31: ("Date-of-publication", "008/07-10, 260 $c, 264 $c"),
    12: ("Local-number", "001"),
    1016: ("Any", "every subfield of every data field, and 001"),
}


class ZebraError(IbcError):
    """The Zebra register could not be built (zebraidx missing or failing, the directory not
    writable, another build running); the previous register keeps serving."""

    code = "zebra"


@dataclass
class ExportCounts:
    """What went into records.xml."""

    records: int = 0
    skipped: int = 0
    holdings: int = 0  # 852 fields written (one per record and school)
    warnings: list[str] = field(default_factory=list)


@dataclass
class BuildReport:
    """Counts of one `ibc z3950 build`."""

    directory: str
    register: str
    records: int
    skipped: int
    holdings: int
    indexed: int
    seconds: float
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON form."""
        out = asdict(self)
        out["warnings"] = self.warnings[:100]
        return out


# --- the export ---------------------------------------------------------------------------------
def public_ids(session: Session) -> list[int]:
    """The record ids an anonymous client may find (the SRU harvest's ``cql.allRecords``: live
    records, no teachers-only media), in the index's order, read in one statement so that an
    import running meanwhile cannot make a page skip or repeat records."""
    from library.search.cql import Clause, find

    found = find(session, Clause("cql.allRecords", "=", "1"), offset=0, limit=ALL, audience=None)
    return list(dict.fromkeys(found.record_ids))


def public_rusmarc(rec: MarcRecord) -> MarcRecord:
    """The RUSMARC record without holdings, local fields and copy notes (catalogue_xml.PRIVATE_TAGS, 9XX)."""
    return public(rec, "rusmarc")


def public_record(rec: MarcRecord, schools: list[dict[str, Any]]) -> MarcRecord:
    """The MARC21 record without holdings, local fields and notes naming people (catalogue_xml.PRIVATE_TAGS,
    59X, 9XX), with one 852 per school."""
    fields = list(public(rec, "marc21").fields)
    for s in schools:
        fields.append(DataField("852", " ", " ", [
            ("a", str(s["sigla"])), ("b", str(s["name"])),
            ("z", f"Свободно {s['available']} из {s['total']}")]))
    return MarcRecord(rec.leader, fields)


def _xml(rec: MarcRecord) -> bytes:
    import pymarc

    from library.marc.export import to_pymarc

    node = pymarc.record_to_xml_node(to_pymarc(rec), namespace=False)
    node.set("xmlns", NS)
    return xml_text(node).encode("utf-8")


def export_public(db: Database, out: IO[bytes]) -> ExportCounts:
    """Write the public catalogue (UTF-8 XML) as ``<bib id="rN">`` elements, N the catalogue's
    record id (Zebra's record identity), each holding the record as MARC21 (``<marc21>``) and as
    RUSMARC (``<rusmarc>``, left empty when it cannot be built), both MARCXML."""
    from library.marc.catalogue_xml import records_marc
    from library.schools import holdings

    counts = ExportCounts()
    out.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<collection xmlns="{IBC_NS}">\n'
              .encode())
    with db.session() as session:
        ids = public_ids(session)
        for start in range(0, len(ids), PAGE):
            page = ids[start:start + PAGE]
            recs = records_marc(session, page, "marc21")
            rus = records_marc(session, page, "rusmarc")
            held = holdings(session, page)
            for rid in page:
                if rid not in recs:  # deleted since the ids were read
                    continue
                rec = recs[rid]
                if rec is None:
                    counts.skipped += 1
                    counts.warnings.append(f"record {rid}: its stored MARC cannot be read")
                    continue
                ru = rus.get(rid)
                try:
                    m21 = _xml(public_record(rec, held.get(rid, [])))
                    ru_xml = _xml(public_rusmarc(ru)) if ru is not None else b""
                except (RecordError, ValueError, TypeError) as exc:  # one record, not the build
                    counts.skipped += 1
                    counts.warnings.append(f"record {rid}: {exc}")
                    continue
                out.write(b'<bib id="r%d"><marc21>' % rid + m21 + b"</marc21><rusmarc>" + ru_xml
                          + b"</rusmarc></bib>\n")
                counts.holdings += len(held.get(rid, []))
                counts.records += 1
    out.write(b"</collection>\n")
    return counts


# --- the configuration ----------------------------------------------------------------------------
_IDX = """\
# Zebra index types for ibc (written by `ibc z3950 build`; docs/Z3950.md)
index w
completeness 0
position 1
alwaysmatches 1
firstinfield 1
icuchain ibc-words.xml

index p
completeness 1
icuchain ibc-phrases.xml

index 0
completeness 0
position 1
charmap @

index n
completeness 0
charmap numeric.chr

sort s
completeness 1
icuchain ibc-phrases.xml
"""

# ё is е (as the catalogue's own search folds it): decompose ё only, drop its diaeresis.
_FOLD = '  <transform rule="[ёЁ] Any-NFD; [\\u0308] Remove; Any-NFC"/>\n'
_WORDS = ('<icu_chain locale="ru">\n  <transform rule="[:Control:] Any-Remove"/>\n'
          '  <tokenize rule="l"/>\n  <transform rule="[[:WhiteSpace:][:Punctuation:]] Remove"/>\n'
          + _FOLD + '  <display/>\n  <casemap rule="l"/>\n</icu_chain>\n')
_PHRASES = ('<icu_chain locale="ru">\n  <transform rule="[:Control:] Any-Remove"/>\n'
            '  <transform rule="[:Punctuation:] Remove"/>\n'
            + _FOLD + '  <display/>\n  <casemap rule="l"/>\n</icu_chain>\n')


def _each(select: str, index: str, value: str = ".") -> str:
    return (f'      <xsl:for-each select="{select}">\n'
            f'        <z:index name="{index}"><xsl:value-of select="{value}"/></z:index>\n'
            '      </xsl:for-each>\n')


def _df(tags: str, codes: str = "a") -> str:
    """XPath of the subfields `codes` of the data fields `tags` (space separated)."""
    t = " or ".join(f"@tag='{x}'" for x in tags.split())
    c = " or ".join(f"@code='{x}'" for x in codes)
    return f"marc:datafield[{t}]/marc:subfield[{c}]"


_ISBN = """\
      <xsl:for-each select="marc:datafield[@tag='020']/marc:subfield[@code='a']">
        <xsl:variable name="raw" select="substring-before(concat(normalize-space(.), ' '), ' ')"/>
        <xsl:variable name="d" select="translate($raw, 'x-', 'X')"/>
        <z:index name="ISBN:w"><xsl:value-of select="$raw"/></z:index>
        <z:index name="ISBN:w"><xsl:value-of select="$d"/></z:index>
        <xsl:if test="string-length($d) = 10 and translate(substring($d, 1, 9), '0123456789', '') = ''">
          <xsl:variable name="s" select="38 + 3 * substring($d, 1, 1) + substring($d, 2, 1)
              + 3 * substring($d, 3, 1) + substring($d, 4, 1) + 3 * substring($d, 5, 1)
              + substring($d, 6, 1) + 3 * substring($d, 7, 1) + substring($d, 8, 1)
              + 3 * substring($d, 9, 1)"/>
          <z:index name="ISBN:w"><xsl:value-of
              select="concat('978', substring($d, 1, 9), (10 - $s mod 10) mod 10)"/></z:index>
        </xsl:if>
        <xsl:if test="string-length($d) = 13 and starts-with($d, '978')
                      and translate($d, '0123456789', '') = ''">
          <xsl:variable name="s" select="10 * substring($d, 4, 1) + 9 * substring($d, 5, 1)
              + 8 * substring($d, 6, 1) + 7 * substring($d, 7, 1) + 6 * substring($d, 8, 1)
              + 5 * substring($d, 9, 1) + 4 * substring($d, 10, 1) + 3 * substring($d, 11, 1)
              + 2 * substring($d, 12, 1)"/>
          <xsl:variable name="c" select="(11 - $s mod 11) mod 11"/>
          <z:index name="ISBN:w"><xsl:value-of select="concat(substring($d, 4, 9),
              substring('0123456789X', $c + 1, 1))"/></z:index>
        </xsl:if>
      </xsl:for-each>
"""


def index_xsl() -> str:
    """The `dom` filter's index stylesheet: MARC21 fields → bib-1 indexes (ATTRIBUTES)."""
    title = _df("245", "abnp") + " | " + _df("246 240 130")
    authors = _df("100 110 111 700 710 711")
    subjects = _df("600 610 611 630 648 650 651 653 655", "axyzv")
    year008 = "marc:controlfield[@tag='008'][translate(substring(., 8, 4), '0123456789', '') = '' " \
              "and string-length(.) &gt;= 11]"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!-- written by `ibc z3950 build` (library/marc/zebra.py); docs/Z3950.md -->\n'
        '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"\n'
        '    xmlns:z="http://indexdata.com/zebra-2.0" xmlns:marc="http://www.loc.gov/MARC21/slim"\n'
        f'    xmlns:ibc="{IBC_NS}">\n'
        '  <xsl:output method="xml" encoding="UTF-8"/>\n'
        '  <xsl:template match="text()"/>\n'
        '  <xsl:template match="/">\n    <xsl:apply-templates select="//ibc:bib"/>\n'
        '  </xsl:template>\n'
        '  <xsl:template match="ibc:bib">\n'
        '    <z:record z:id="{@id}" type="update">\n'
        '      <xsl:apply-templates select="ibc:marc21/marc:record"/>\n'
        '    </z:record>\n'
        '  </xsl:template>\n'
        '  <xsl:template match="marc:record">\n'
        + _each(title, "Title:w")
        + _each("marc:datafield[@tag='245']", "Title:p",
                "normalize-space(concat(marc:subfield[@code='a'], ' ', marc:subfield[@code='b']))")
        + _each(_df("245 246 240 130"), "Title:p")
        + _each(authors, "Author:w") + _each(authors, "Author:p")
        + _each(_df("100 700"), "Author-name-personal:w")
        + _each(_df("100 700"), "Author-name-personal:p")
        + _ISBN
        + _each(subjects, "Subject-heading:w") + _each(_df("600 610 611 630 648 650 651 653 655"),
                                                        "Subject-heading:p")
        + _each(year008, "Date-of-publication:w", "substring(., 8, 4)")
        + _each(year008, "Date-of-publication:n", "substring(., 8, 4)")
        + _each(_df("260 264", "c") + "[translate(substring(translate(., '[]c©.p ', ''), 1, 4),"
                " '0123456789', '') = '' and string-length(translate(., '[]c©.p ', '')) &gt;= 4]",
                "Date-of-publication:n", "substring(translate(., '[]c©.p ', ''), 1, 4)")
        + _each(_df("260 264", "c"), "Date-of-publication:w")
        + _each("marc:controlfield[@tag='001']", "Local-number:w")
        + _each("marc:controlfield[@tag='001']", "Local-number:0")
        + _each("marc:controlfield[@tag='001'] | marc:datafield/marc:subfield", "Any:w")
        + _each("marc:datafield[@tag='245']/marc:subfield[@code='a']", "Title:s")
        + '  </xsl:template>\n</xsl:stylesheet>\n')


def _pick(part: str) -> str:
    """A retrieve stylesheet: the stored record's MARC21 or RUSMARC MARCXML record."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<!-- written by `ibc z3950 build`: the {part} record of a stored bib -->\n'
            '<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"\n'
            f'    xmlns:marc="{NS}" xmlns:ibc="{IBC_NS}" exclude-result-prefixes="ibc">\n'
            '  <xsl:output method="xml" encoding="UTF-8"/>\n'
            '  <xsl:template match="/">\n'
            f'    <xsl:copy-of select="//ibc:{part}/marc:record"/>\n'
            '  </xsl:template>\n'
            '</xsl:stylesheet>\n')


def _dom_config(root: Path) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<dom xmlns="http://indexdata.com/zebra-2.0">\n'
            f'  <extract name="index"><xslt stylesheet="{root / "index.xsl"}"/></extract>\n'
            f'  <retrieve name="marc"><xslt stylesheet="{root / "marc.xsl"}"/></retrieve>\n'
            f'  <retrieve name="rusmarc"><xslt stylesheet="{root / "rusmarc.xsl"}"/></retrieve>\n'
            '  <input syntax="xml"><xmlreader level="1"/></input>\n'
            '</dom>\n')


def module_path() -> str:
    """Where Debian keeps Zebra's filter modules (the first that exists; all of them else)."""
    found = [p for p in MODULE_PATHS if Path(p).is_dir()]
    return ":".join(found or MODULE_PATHS)


def zebra_cfg(root: Path, register: Path, lock: Path, tmp: Path) -> str:
    """zebra.cfg for a register at `register` (the serving one names root/current/register)."""
    return (
        "# written by `ibc z3950 build` (library/marc/zebra.py); docs/Z3950.md\n"
        f"profilePath: {root}:{TAB_PATH}\n"
        f"modulePath: {module_path()}\n"
        f"recordType: dom.{root / 'dom-config.xml'}\n"
        "attset: bib1.att\nattset: explain.att\n"
        "index: ibc.idx\n"
        "encoding: utf-8\n"
        f"database: {DATABASE}\n"
        f"register: {register}:100G\n"
        f"lockDir: {lock}\n"
        f"keyTmpDir: {tmp}\n"
        "memMax: 64\n"
        "perm.anonymous: r\n")


def yazserver_xml(root: Path, listen: str, port: int) -> str:
    """The zebrasrv front-end config: where it listens, the record syntaxes it answers."""
    host = listen.strip() or "127.0.0.1"
    if ":" in host:  # an IPv6 address
        host = f"[{host}]" if not host.startswith("[") else host
    usmarc = ('<backend syntax="xml" name="marc">'
              '<marc inputformat="xml" outputformat="marc" outputcharset="utf-8"/></backend>')
    xml = '<backend syntax="xml" name="marc"/>'
    rusmarc = usmarc.replace('name="marc"', 'name="rusmarc"')
    rusxml = '<backend syntax="xml" name="rusmarc"/>'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!-- written by `ibc z3950 serve|build` (library/marc/zebra.py); docs/Z3950.md -->\n'
        '<yazgfs>\n'
        f'  <listen id="z3950">{escape(f"tcp:{host}:{int(port)}")}</listen>\n'
        '  <server id="ibc" listenref="z3950">\n'
        f'    <config>{escape(str(root / "zebra.cfg"))}</config>\n'
        '    <retrievalinfo>\n'
        f'      <retrieval syntax="usmarc" name="F">{usmarc}</retrieval>\n'
        f'      <retrieval syntax="usmarc" name="B">{usmarc}</retrieval>\n'
        f'      <retrieval syntax="usmarc">{usmarc}</retrieval>\n'
        f'      <retrieval syntax="rusmarc" name="F">{rusmarc}</retrieval>\n'
        f'      <retrieval syntax="rusmarc" name="B">{rusmarc}</retrieval>\n'
        f'      <retrieval syntax="rusmarc">{rusmarc}</retrieval>\n'
        f'      <retrieval syntax="unimarc">{rusmarc}</retrieval>\n'
        f'      <retrieval syntax="xml" name="rusmarc">{rusxml}</retrieval>\n'
        f'      <retrieval syntax="xml" name="marcxml">{xml}</retrieval>\n'
        f'      <retrieval syntax="xml" name="F">{xml}</retrieval>\n'
        f'      <retrieval syntax="xml">{xml}</retrieval>\n'
        '    </retrievalinfo>\n'
        '  </server>\n'
        '</yazgfs>\n')


def _write(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, only when it changed (idempotent builds)."""
    data = text.encode("utf-8")
    try:
        if path.read_bytes() == data:
            return
    except FileNotFoundError:
        pass
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_config(root: str | os.PathLike[str], *, listen: str = "127.0.0.1",
                 port: int = 2100) -> Path:
    """Write Zebra's configuration into `root` (created); returns the absolute root."""
    base = Path(root).resolve()
    for sub in ("", "lock", "tmp", "builds"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    _write(base / "ibc.idx", _IDX)
    _write(base / "ibc-words.xml", _WORDS)
    _write(base / "ibc-phrases.xml", _PHRASES)
    _write(base / "index.xsl", index_xsl())
    _write(base / "marc.xsl", _pick("marc21"))
    _write(base / "rusmarc.xsl", _pick("rusmarc"))
    _write(base / "dom-config.xml", _dom_config(base))
    _write(base / "zebra.cfg", zebra_cfg(base, base / "current" / "register", base / "lock",
                                          base / "tmp"))
    _write(base / "yazserver.xml", yazserver_xml(base, listen, port))
    return base


# --- the build ------------------------------------------------------------------------------------
@contextlib.contextmanager
def _build_lock(root: Path) -> Iterator[None]:
    with open(root / "build.lock", "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise ZebraError(f"another build is running in {root}") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def current_register(root: str | os.PathLike[str]) -> Path | None:
    """The build directory `current` points at, or None before the first build."""
    link = Path(root) / "current"
    if not link.is_symlink():
        return None
    return (link.parent / os.readlink(link)).resolve()


def _zebraidx(exe: str, cfg: Path, *args: str) -> str:
    try:
        proc = subprocess.run([exe, "-c", str(cfg), *args], capture_output=True,  # noqa: S603
                              text=True, errors="replace", timeout=6 * 3600)
    except FileNotFoundError:
        raise ZebraError(f"{exe} not found: install Debian's idzebra-2.0 "
                         "(./install.sh server --z3950)") from None
    except subprocess.TimeoutExpired:
        raise ZebraError(f"zebraidx {' '.join(args[:1])} took longer than 6 hours") from None
    out = proc.stdout + proc.stderr
    bad = [ln for ln in out.splitlines() if "[fatal]" in ln or "[warn]" in ln]
    if proc.returncode != 0 or bad:
        detail = "; ".join(bad[-3:]) or out.strip().splitlines()[-1:] or ["no output"]
        raise ZebraError(f"zebraidx {args[0]} failed (exit {proc.returncode}): {detail}")
    return out


_INDEXED = re.compile(r"Records:\s+(\d+)\s+i/u/d\s+(\d+)/(\d+)/(\d+)")


def build(db: Database, root: str | os.PathLike[str], *, listen: str = "127.0.0.1",
          port: int = 2100, zebraidx: str = "zebraidx") -> BuildReport:
    """Export the public catalogue and index it into a fresh register, then make it current.

    Idempotent (each run builds the whole register anew from the catalogue). Any failure raises
    ZebraError and leaves the current register as it was."""
    started = time.monotonic()
    base = write_config(root, listen=listen, port=port)
    with _build_lock(base):
        current = current_register(base)
        for old in (base / "builds").iterdir():  # a killed build's leftovers
            if old.is_dir() and old != current and old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        work = base / "builds" / f".{stamp}"
        work.mkdir()
        try:
            for sub in ("register", "lock", "tmp"):
                (work / sub).mkdir()
            records = work / "records.xml"
            with open(records, "wb") as fh:
                counts = export_public(db, fh)
            cfg = work / "zebra.cfg"
            cfg.write_text(zebra_cfg(base, work / "register", work / "lock", work / "tmp"),
                           encoding="utf-8")
            _zebraidx(zebraidx, cfg, "init")
            indexed = 0
            if counts.records:
                out = _zebraidx(zebraidx, cfg, "update", str(records))
                totals = _INDEXED.findall(out)  # running totals; the last one is the run's
                indexed = int(totals[-1][1]) + int(totals[-1][2]) if totals else 0
                if indexed != counts.records:
                    raise ZebraError(f"zebraidx indexed {indexed} of {counts.records} records")
            records.unlink()  # the register keeps every record (the dom filter stores them)
            final = base / "builds" / stamp
            os.rename(work, final)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        link = base / f".current.{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        os.symlink(Path("builds") / stamp, link)
        os.replace(link, base / "current")  # the swap: one rename
        builds = sorted(p for p in (base / "builds").iterdir()
                        if p.is_dir() and not p.name.startswith(".") and p != final)
        for old in builds[:max(0, len(builds) - KEEP_BUILDS)]:
            shutil.rmtree(old, ignore_errors=True)
    return BuildReport(directory=str(base), register=str(final), records=counts.records,
                       skipped=counts.skipped, holdings=counts.holdings, indexed=indexed,
                       seconds=round(time.monotonic() - started, 3), warnings=counts.warnings)


def zebrasrv_command(root: str | os.PathLike[str], zebrasrv: str = "zebrasrv") -> list[str]:
    """The command that serves the register (`ibc z3950 serve` execs it)."""
    return [zebrasrv, "-f", str(Path(root).resolve() / "yazserver.xml")]


__all__ = ["ATTRIBUTES", "DATABASE", "BuildReport", "ExportCounts", "ZebraError", "build",
           "current_register", "export_public", "public_ids", "public_record",
           "write_config", "yazserver_xml", "zebra_cfg", "zebrasrv_command"]
