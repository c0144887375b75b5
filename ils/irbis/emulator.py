"""An ИРБИС64 server emulator: a threaded TCP server speaking the protocol of wire.py.

For tests and demos (``ibc irbis emulate``); an independent client (cbsvibpyirbis, a fork of
PythonIrbis) is driven against it in tests/ils to show it speaks the real protocol. What it does:

- registration (A/B): the user and password are checked (-3333 unknown user, -4444 wrong
  password), the workstation against the user's allowed ones (-3338), a client id that is
  already registered gets -3337; commands from an unknown client id get -3334; a client silent
  for `client_ttl` (no command, not even the N keep-alive) is forgotten, and at most
  `max_clients` are registered at once (-6666, «server overloaded»);
- read (C) with an optional lock: a record locked by another client cannot be locked (-602)
  but is still readable (status LOCKED); a logically deleted record is returned with -600;
  an MFN out of range is -140; a database it does not hold is -400 (cannot open its files);
- write (D): new records get the next MFN, every save version + 1; a record locked by another
  client is refused (-602), a stale version is refused (-608); the lock is kept only when asked;
  writes need a workstation that may edit (A, C, B, M, K; the reader's R and J get -3336);
  ``actualize`` = 0 leaves the record out of the dictionaries (status NON_ACTUALIZED);
- unlock (E one MFN, Q several), max MFN (O: the next MFN), no-op (N);
- search (K) on dictionaries built from the records (see TERMS below) with ``$`` truncation,
  ``+`` or, ``*`` and, ``^`` and-not, parentheses; a format in the request adds ``mfn#text``;
- format (G): ``@brief`` and ``@`` (a brief description), ``@all`` (every field as
  ``#tag: text`` lines, the ИРБИС text export), PythonIrbis's ALL ``&uf('+0')`` (the record's
  protocol lines); another ``@name`` is -5555 (no such format file), other inline formats -8888;
- records in memory, or in SQLite (``store``): every write is committed before the answer, so
  a killed and restarted emulator keeps what it acknowledged (and its locks).

The return codes are the server's own (PythonIrbis irbis/error.py); which command returns which
code in which case is our reading of the clients, listed in docs/IRBIS.md as not verified.
"""

from __future__ import annotations

import bisect
import re
import socket
import socketserver
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ils.irbis import wire
from ils.irbis.errors import N_, IrbisError, IrbisProtocolError
from ils.irbis.record import (
    ABSENT,
    CATALOGUE_PLAIN_TAGS,
    LOCKED,
    LOGICALLY_DELETED,
    NON_ACTUALIZED,
    PHYSICALLY_DELETED,
    IrbisRecord,
    from_marc,
)

EDITING_WORKSTATIONS = frozenset("ACBMK")
SERVER_VERSION = "64.2014.1"
KEEPALIVE_MINUTES = 5  # the «interval» line of the register answer
_WORD = re.compile(r"\w+")


class EmulatorError(IrbisError):
    """The emulator cannot start: a file cannot be loaded, the port is taken."""

    code = "irbis_emulator"
    template = N_("ИРБИС emulator: {reason}")


# ----------------------------------------------------------------------------- dictionaries


def _words(text: str) -> list[str]:
    return [w.upper() for w in _WORD.findall(text)]


def terms_of(record: IrbisRecord) -> set[str]:
    """The dictionary terms of a record (a small FST): for the catalogue (IBIS) T= title words
    and the whole title (200^a), A= author «surname» and «surname, initials» (700/701/702^a ^b),
    K= keywords (200^a^e, 606^a, 610), IN= and H= inventory number and barcode (910^b, 910^h),
    I= the record key (903); for readers (RDR) RI= the card (field 30), HIN= a loaned copy's
    barcode (40^h, every repeat: open and returned)."""
    terms: set[str] = set()
    for f in record.fields:
        if f.tag == 200:
            title = f.get("a") or f.value
            if title:
                terms.add("T=" + title.upper().strip())
                terms.update("T=" + w for w in _words(title))
                terms.update("K=" + w for w in _words(title))
            for sub in f.get_all("e"):
                terms.update("K=" + w for w in _words(sub))
        elif f.tag in (700, 701, 702, 961):
            surname = (f.get("a") or "").strip()
            if surname:
                terms.add("A=" + surname.upper())
                initials = (f.get("b") or "").strip()
                if initials:
                    terms.add(f"A={surname}, {initials}".upper())
        elif f.tag in (606, 610):
            terms.update("K=" + w for w in _words(f.get("a") or f.value))
        elif f.tag == 910:
            for code, prefix in (("b", "IN="), ("h", "IN="), ("h", "H=")):
                value = (f.get(code) or "").strip()
                if value:
                    terms.add(prefix + value.upper())
        elif f.tag == 903 and f.value.strip():
            terms.add("I=" + f.value.strip().upper())
        elif f.tag == 30 and f.value.strip():
            terms.add("RI=" + f.value.strip().upper())
        elif f.tag == 40:
            # HIN= the reader by a loaned copy's barcode/RFID (40^h): the RFID stations' index,
            # unverified against a real RDR FST (docs/IRBIS.md «Circulation against ИРБИС»).
            value = (f.get("h") or "").strip()
            if value:
                terms.add("HIN=" + value.upper())
    return terms


class _Dictionary:
    """term → MFNs, with a sorted term list for ``$`` truncation."""

    def __init__(self) -> None:
        self.postings: dict[str, set[int]] = {}
        self.by_mfn: dict[int, set[str]] = {}
        self._sorted: list[str] | None = None

    def put(self, mfn: int, terms: set[str]) -> None:
        for term in self.by_mfn.pop(mfn, set()):
            bucket = self.postings.get(term)
            if bucket is not None:
                bucket.discard(mfn)
                if not bucket:
                    del self.postings[term]
        self.by_mfn[mfn] = terms
        for term in terms:
            self.postings.setdefault(term, set()).add(mfn)
        self._sorted = None

    def exact(self, term: str) -> set[int]:
        return set(self.postings.get(term, ()))

    def prefix(self, start: str) -> set[int]:
        if self._sorted is None:
            self._sorted = sorted(self.postings)
        found: set[int] = set()
        i = bisect.bisect_left(self._sorted, start)
        while i < len(self._sorted) and self._sorted[i].startswith(start):
            found |= self.postings[self._sorted[i]]
            i += 1
        return found


class SearchSyntaxError(IrbisError):
    code = "irbis_search_syntax"
    template = N_("Bad ИРБИС search expression: {reason}")


MAX_NESTING = 32
_TOKEN = re.compile(r'\s*(?:"([^"]*)"|([+*^()])|([^\s"+*^()]+))')


def _tokens(expression: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(expression):
        if expression[pos:].strip() == "":
            break
        m = _TOKEN.match(expression, pos)
        if not m or m.end() == pos:
            raise SearchSyntaxError(reason=f"unexpected {expression[pos:pos + 10]!r}")
        quoted, op, bare = m.groups()
        if op:
            out.append(("op", op))
        else:
            out.append(("term", quoted if quoted is not None else bare))
        pos = m.end()
    return out


def evaluate(expression: str, dictionary: _Dictionary) -> set[int]:
    """MFNs matching an ИРБИС search expression (``+`` or, ``*`` and, ``^`` and-not, ``$``)."""
    tokens = _tokens(expression)
    pos = 0
    depth = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def term(text: str) -> set[int]:
        text = text.strip().upper()
        if text.endswith("$"):
            return dictionary.prefix(text[:-1])
        return dictionary.exact(text)

    def atom() -> set[int]:
        nonlocal pos
        tok = peek()
        if tok is None:
            raise SearchSyntaxError(reason="the expression ends too early")
        pos += 1
        if tok == ("op", "("):
            nonlocal depth
            depth += 1
            if depth > MAX_NESTING:
                raise SearchSyntaxError(reason="too many nested parentheses")
            found = either()
            depth -= 1
            if peek() != ("op", ")"):
                raise SearchSyntaxError(reason="missing )")
            pos += 1
            return found
        if tok[0] == "op":
            raise SearchSyntaxError(reason=f"unexpected {tok[1]!r}")
        return term(tok[1])

    def both() -> set[int]:
        nonlocal pos
        found = atom()
        while peek() in (("op", "*"), ("op", "^")):
            op = tokens[pos][1]
            pos += 1
            other = atom()
            found = found & other if op == "*" else found - other
        return found

    def either() -> set[int]:
        nonlocal pos
        found = both()
        while peek() == ("op", "+"):
            pos += 1
            found |= both()
        return found

    if not tokens:
        return set()
    result = either()
    if pos != len(tokens):
        raise SearchSyntaxError(reason=f"unexpected {tokens[pos][1]!r}")
    return result


# ---------------------------------------------------------------------------------- formats


def brief(record: IrbisRecord) -> str:
    """A brief description, like ИРБИС's @brief: «Author. Title : other / resp. - Place :
    Publisher, Year» for a book, «Surname Name Patronymic, билет N» for a reader."""
    if record.field(30) is not None and record.field(200) is None:
        name = " ".join(v for v in (record.first(10), record.first(11), record.first(12)) if v)
        return f"{name}, билет {record.first(30)}".strip(", ")
    parts: list[str] = []
    author = record.field(700)
    if author is not None and author.get("a"):
        name = " ".join(v for v in (author.get("a"), author.get("b")) if v)
        parts.append(name if name.endswith(".") else name + ".")
    title = record.field(200)
    if title is not None:
        text = title.get("a") or title.value or ""
        if title.get("e"):
            text += " : " + (title.get("e") or "")
        if title.get("f"):
            text += " / " + (title.get("f") or "")
        parts.append(text)
    imprint = record.field(210)
    if imprint is not None:
        place = imprint.get("a") or ""
        pub = imprint.get("c") or ""
        year = imprint.get("d") or ""
        where = " : ".join(v for v in (place, pub) if v)
        parts.append("- " + ", ".join(v for v in (where, year) if v))
    return " ".join(p for p in parts if p).strip()


def export_text(record: IrbisRecord) -> list[str]:
    """Every field as ``#tag: text`` (the ИРБИС text export, library.marc.irbis_text reads it)."""
    return [f"#{f.tag}: {wire.encode_field(f).partition('#')[2]}" for f in record.fields]


# ----------------------------------------------------------------------------------- storage


@dataclass(slots=True)
class _Slot:
    record: IrbisRecord
    locked_by: int = 0


@dataclass
class Database:
    """One emulated database: MFN → record (current version), locks and its dictionary."""

    name: str
    slots: dict[int, _Slot] = field(default_factory=dict)
    dictionary: _Dictionary = field(default_factory=_Dictionary)

    @property
    def next_mfn(self) -> int:
        return max(self.slots, default=0) + 1

    def put(self, slot: _Slot, actualize: bool = True) -> None:
        self.slots[slot.record.mfn] = slot
        rec = slot.record
        if actualize and not rec.deleted:
            self.dictionary.put(rec.mfn, terms_of(rec))
        elif rec.deleted:
            self.dictionary.put(rec.mfn, set())


class _Store:
    """SQLite persistence of the emulator's databases (one row per record, locks included)."""

    def __init__(self, path: str | Path) -> None:
        self.conn = sqlite3.connect(str(path), check_same_thread=False)
        self.conn.execute("CREATE TABLE IF NOT EXISTS records (db TEXT NOT NULL, mfn INTEGER NOT "
                          "NULL, version INTEGER NOT NULL, status INTEGER NOT NULL, locked_by "
                          "INTEGER NOT NULL DEFAULT 0, body TEXT NOT NULL, PRIMARY KEY (db, mfn))")
        self.conn.commit()

    def load(self, name: str) -> list[_Slot]:
        rows = self.conn.execute("SELECT mfn, version, status, locked_by, body FROM records "
                                 "WHERE db = ? ORDER BY mfn", (name,))
        out = []
        for mfn, version, status, locked_by, body in rows:
            lines = [f"{mfn}#{status}", f"0#{version}", *(body.split("\n") if body else [])]
            out.append(_Slot(wire.parse_record(lines, name), locked_by))
        return out

    def save(self, name: str, slots: Iterable[_Slot]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO records (db, mfn, version, status, locked_by, body) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(name, s.record.mfn, s.record.version, s.record.status, s.locked_by,
              "\n".join(wire.encode_field(f) for f in s.record.fields)) for s in slots])
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def load_records(path: str | Path, encoding: str | None = None,
                 plain_tags: frozenset[int] = CATALOGUE_PLAIN_TAGS) -> Iterator[IrbisRecord]:
    """Records of a MARC file (RUSMARC ISO 2709 in cp1251 or UTF-8, ИРБИС text, MARCXML) read
    with library.marc (`plain_tags`: record.from_marc; READER_PLAIN_TAGS for an RDR file), MFN =
    the record's place in the file from 1. A record that cannot be
    read keeps its MFN as a physically deleted (absent) record, as in a damaged master file."""
    from library.marc.reader import read_file

    for parsed in read_file(path, encoding=encoding):
        if parsed.record is None:
            yield IrbisRecord(parsed.ordinal, 0, PHYSICALLY_DELETED | ABSENT)
        else:
            rec = from_marc(parsed.record, parsed.ordinal, plain_tags)
            rec.version = 1
            yield rec


DEMO_SURNAMES = ("Орлова", "Соколов", "Белова", "Морозов", "Волкова", "Лебедев", "Козлова")
DEMO_NAMES = ("Мария", "Иван", "Анна", "Пётр", "Дарья", "Лев", "Ева")


def demo_readers(count: int) -> list[IrbisRecord]:
    """`count` RDR records for demos: first the project's demo readers (library/demo, so a demo
    kiosk's cards are found), then made-up ones with cards 2900000001, …. Fields (ManagedIrbis
    Readers/ReaderInfo.cs): 10/11/12 surname, name, patronymic; 30 card; 50 category."""
    import json

    import library.demo

    path = Path(library.demo.__file__).with_name("catalogue.json")
    known = json.loads(path.read_text(encoding="utf-8")).get("readers", [])
    out: list[IrbisRecord] = []
    for i in range(count):
        rec = IrbisRecord(mfn=i + 1, version=1)
        if i < len(known):
            r = known[i]
            rec.add_field(10, r["last_name"])
            rec.add_field(11, r["first_name"])
            if r.get("middle_name"):
                rec.add_field(12, r["middle_name"])
            rec.add_field(30, r["card"])
            rec.add_field(50, "учащийся" if r.get("category") == "pupil" else "сотрудник")
        else:
            n = i - len(known)
            rec.add_field(10, DEMO_SURNAMES[n % len(DEMO_SURNAMES)])
            rec.add_field(11, DEMO_NAMES[n % len(DEMO_NAMES)])
            rec.add_field(30, f"29{n + 1:08d}")
            rec.add_field(50, "учащийся")
        out.append(rec)
    return out


# --------------------------------------------------------------------------------- the server


@dataclass(slots=True)
class _Client:
    user: str
    workstation: str
    seen: float = 0.0


class _Refused(IrbisError):
    """Internal: the request gets this negative return code (and, rarely, data lines)."""

    code = "irbis_refused"

    def __init__(self, code: int, data: list[bytes] | None = None) -> None:
        super().__init__(code)
        self.data = data or []


class IrbisEmulator:
    """The emulated server: ``users`` maps a user name (case-insensitive, as ИРБИС) to its
    password and the workstations it may register with."""

    def __init__(self, users: dict[str, tuple[str, str]], *, host: str = "127.0.0.1",
                 port: int = 0, store: str | Path | None = None,
                 request_timeout: float = 30.0, client_ttl: float = 3 * 60 * KEEPALIVE_MINUTES,
                 max_clients: int = 1000) -> None:
        self.users = {name.upper(): rights for name, rights in users.items()}
        self.host = host
        self.port = port
        self.request_timeout = request_timeout
        self.client_ttl = client_ttl  # a client silent this long is forgotten (no N keep-alive)
        self.max_clients = max_clients
        self.databases: dict[str, Database] = {}
        self.clients: dict[int, _Client] = {}
        self.requests: deque[str] = deque(maxlen=1000)  # the last commands served, for tests
        self._lock = threading.RLock()
        self._store = _Store(store) if store else None
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------------------- content

    def add_database(self, name: str, records: Iterable[IrbisRecord] = ()) -> Database:
        """Create database `name`; with a store that already holds it, its stored records win
        (a restarted emulator keeps its writes), else `records` are loaded and stored."""
        name = name.upper()
        with self._lock:
            db = Database(name)
            stored = self._store.load(name) if self._store else []
            if stored:
                for slot in stored:
                    db.put(slot, not slot.record.status & NON_ACTUALIZED)
            else:
                for rec in records:
                    rec.database = name
                    db.put(_Slot(rec))
                if self._store:
                    self._store.save(name, db.slots.values())
            self.databases[name] = db
            return db

    def record(self, database: str, mfn: int) -> IrbisRecord:
        """The current version of a record (a copy), for tests."""
        with self._lock:
            return self.databases[database.upper()].slots[mfn].record.copy()

    # ------------------------------------------------------------------------- lifecycle

    def start(self) -> tuple[str, int]:
        emulator = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                emulator._serve(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True
            block_on_close = False

        try:
            self._server = Server((self.host, self.port), Handler)
        except OSError as exc:
            raise EmulatorError(reason=f"cannot listen on {self.host}:{self.port}: "
                                f"{exc.strerror}") from exc
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True,
                                        name="irbis-emulator")
        self._thread.start()
        return self.host, self.port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        with self._lock:  # a request still being served finishes its write first
            if self._store is not None:
                self._store.close()
                self._store = None

    def __enter__(self) -> IrbisEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Run in the foreground until interrupted (the CLI)."""
        if self._server is None:
            self.start()
        try:
            assert self._thread is not None
            while self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    # ---------------------------------------------------------------------------- serving

    def _serve(self, sock: socket.socket) -> None:
        try:
            data = self._read_request(sock, time.monotonic() + self.request_timeout)
            request = wire.decode_request(data)
        except (OSError, IrbisProtocolError):
            return  # not ИРБИС, too long or too slow: drop the connection
        try:
            answer = self.handle(request)
        except IrbisProtocolError:
            answer = wire.encode_answer(request.command, request.client_id, request.query_id,
                                        -2222, version=SERVER_VERSION)
        try:
            sock.sendall(answer)
        except OSError:
            return

    @staticmethod
    def _read_request(sock: socket.socket, deadline: float) -> bytes:
        """One whole request, within `deadline` in total (a client trickling bytes is dropped)."""

        def recv(size: int) -> bytes:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("request too slow")
            sock.settimeout(left)
            chunk = sock.recv(size)
            if not chunk:
                raise IrbisProtocolError(reason="connection closed inside the request")
            return chunk

        buf = b""
        length = None
        while length is None:
            buf += recv(64)
            length = wire.request_length(buf)
        need = buf.index(b"\n") + 1 + length
        chunks = [buf]
        size = len(buf)
        while size < need:
            chunk = recv(min(65536, need - size))
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)

    def handle(self, req: wire.Request) -> bytes:
        """One request → the answer's bytes (public so tests can feed raw requests)."""
        handlers = {
            wire.REGISTER_CLIENT: self._register, wire.UNREGISTER_CLIENT: self._unregister,
            wire.READ_RECORD: self._read, wire.UPDATE_RECORD: self._write,
            wire.UNLOCK_RECORD: self._unlock, wire.UNLOCK_RECORDS: self._unlock,
            wire.GET_MAX_MFN: self._max_mfn, wire.SEARCH: self._search,
            wire.FORMAT_RECORD: self._format, wire.NOP: self._nop,
        }
        with self._lock:
            self.requests.append(req.command)
            handler = handlers.get(req.command)
            try:
                if handler is None:
                    raise _Refused(-2222)
                if req.command != wire.REGISTER_CLIENT:
                    self._check_client(req)
                code, data = handler(req)
            except _Refused as refused:
                code, data = refused.server_code or -8888, refused.data
        return wire.encode_answer(req.command, req.client_id, req.query_id, code, data,
                                  version=SERVER_VERSION)

    def _check_client(self, req: wire.Request) -> _Client:
        client = self.clients.get(req.client_id)
        if client is None or client.user != req.user.upper():
            raise _Refused(-3334)
        if time.monotonic() - client.seen > self.client_ttl:
            del self.clients[req.client_id]
            raise _Refused(-3334)
        client.seen = time.monotonic()
        return client

    def _database(self, name: str) -> Database:
        db = self.databases.get(name.strip().upper())
        if db is None:
            raise _Refused(-400)
        return db

    def _save(self, db: Database, slot: _Slot) -> None:
        if self._store is not None:
            self._store.save(db.name, [slot])

    # --------------------------------------------------------------------------- commands

    def _register(self, req: wire.Request) -> tuple[int, list[bytes]]:
        user, password = req.ansi(0), req.ansi(1)
        rights = self.users.get(user.upper())
        if rights is None:
            raise _Refused(-3333)
        if password != rights[0]:
            raise _Refused(-4444)
        if req.workstation not in rights[1]:
            raise _Refused(-3338)
        now = time.monotonic()
        for stale in [cid for cid, c in self.clients.items() if now - c.seen > self.client_ttl]:
            del self.clients[stale]
        if req.client_id in self.clients:
            raise _Refused(-3337)
        if len(self.clients) >= self.max_clients:
            raise _Refused(-6666)  # «server overloaded» (PythonIrbis irbis/error.py)
        self.clients[req.client_id] = _Client(user.upper(), req.workstation, now)
        ini = ["[MAIN]", "DBNNAMECAT=dbnam2.mnu", "[Private]", f"User={user}"]
        return 0, [str(KEEPALIVE_MINUTES).encode(), *(wire.ansi(line) for line in ini)]

    def _unregister(self, req: wire.Request) -> tuple[int, list[bytes]]:
        self.clients.pop(req.client_id, None)
        return 0, []

    def _nop(self, req: wire.Request) -> tuple[int, list[bytes]]:
        return 0, []

    def _max_mfn(self, req: wire.Request) -> tuple[int, list[bytes]]:
        return self._database(req.ansi(0)).next_mfn, []

    def _slot(self, db: Database, mfn: int) -> _Slot:
        slot = db.slots.get(mfn)
        if slot is None or mfn <= 0:
            raise _Refused(-140)
        if slot.record.status & (PHYSICALLY_DELETED | ABSENT):
            raise _Refused(-601)
        return slot

    @staticmethod
    def _record_out(slot: _Slot) -> IrbisRecord:
        rec = slot.record.copy()
        rec.status &= ~LOCKED
        if slot.locked_by:
            rec.status |= LOCKED
        return rec

    def _read(self, req: wire.Request) -> tuple[int, list[bytes]]:
        db = self._database(req.ansi(0))
        slot = self._slot(db, req.int(1))
        lock_or_version = req.int(2)
        if lock_or_version:
            if lock_or_version not in (1, slot.record.version):
                raise _Refused(-201)
            if slot.locked_by and slot.locked_by != req.client_id:
                raise _Refused(-602)
            slot.locked_by = req.client_id
            self._save(db, slot)
        lines = [wire.utf(line) for line in wire.record_lines(self._record_out(slot))]
        code = -600 if slot.record.status & LOGICALLY_DELETED else 0
        return code, lines

    def _write(self, req: wire.Request) -> tuple[int, list[bytes]]:
        client = self._check_client(req)
        if client.workstation not in EDITING_WORKSTATIONS:
            raise _Refused(-3336)
        db = self._database(req.ansi(0))
        keep_lock, actualize = req.int(1) != 0, req.int(2) != 0
        try:
            incoming = wire.parse_record(wire.split_record_text(req.utf(3)), db.name)
        except IrbisProtocolError as exc:
            raise _Refused(-2222) from exc
        if incoming.mfn == 0:
            mfn, version = db.next_mfn, 1
        else:
            old = self._slot(db, incoming.mfn)
            if old.locked_by and old.locked_by != req.client_id:
                raise _Refused(-602)
            if incoming.version and incoming.version != old.record.version:
                raise _Refused(-608)
            mfn, version = incoming.mfn, old.record.version + 1
        status = incoming.status & LOGICALLY_DELETED
        if not actualize:
            status |= NON_ACTUALIZED
        saved = IrbisRecord(mfn, version, status, [f.copy() for f in incoming.fields], db.name)
        slot = _Slot(saved, req.client_id if keep_lock else 0)
        db.put(slot, actualize)
        self._save(db, slot)
        lines = wire.record_lines(self._record_out(slot))
        return db.next_mfn, [wire.utf(lines[0]),
                             wire.utf(wire.SHORT_DELIMITER.join(lines[1:]))]

    def _unlock(self, req: wire.Request) -> tuple[int, list[bytes]]:
        db = self._database(req.ansi(0))
        for i in range(1, len(req.params)):
            if not req.params[i].strip():
                continue
            slot = db.slots.get(req.int(i))
            if slot is not None and slot.locked_by:
                slot.locked_by = 0
                self._save(db, slot)
        return 0, []

    def _search(self, req: wire.Request) -> tuple[int, list[bytes]]:
        db = self._database(req.ansi(0))
        expression = req.utf(1)
        number, first = req.int(2), req.int(3)
        fmt = req.params[4] if len(req.params) > 4 else b""
        min_mfn, max_mfn = req.int(5), req.int(6)
        try:
            found = sorted(evaluate(expression, db.dictionary))
        except SearchSyntaxError as exc:
            raise _Refused(-8888) from exc
        if min_mfn:
            found = [m for m in found if m >= min_mfn]
        if max_mfn:
            found = [m for m in found if m <= max_mfn]
        lines = [str(len(found)).encode()]
        if first > 0:
            limit = number if 0 < number <= wire.MAX_POSTINGS else wire.MAX_POSTINGS
            for mfn in found[first - 1:first - 1 + limit]:
                if fmt.strip():
                    text = self._formatted(db, fmt, db.slots[mfn].record)
                    lines.append(wire.utf(f"{mfn}#{text}"))
                else:
                    lines.append(str(mfn).encode())
        return 0, lines

    def _format(self, req: wire.Request) -> tuple[int, list[bytes]]:
        db = self._database(req.ansi(0))
        fmt = req.params[1] if len(req.params) > 1 else b""
        count = req.int(2)
        if count == -2:  # a record sent with the request (PythonIrbis format_record(Record))
            try:
                virtual = wire.parse_record(wire.split_record_text(req.utf(3)), db.name)
            except IrbisProtocolError as exc:
                raise _Refused(-2222) from exc
            return 0, [wire.utf(self._formatted(db, fmt, virtual, one=True))]
        mfns = [req.int(3 + i) for i in range(min(max(count, 0), len(req.params) - 3))]
        if len(mfns) == 1:
            rec = self._slot(db, mfns[0]).record
            return 0, [wire.utf(self._formatted(db, fmt, rec, one=True))]
        out = []
        for mfn in mfns:
            slot = db.slots.get(mfn)
            text = self._formatted(db, fmt, slot.record) if slot is not None else ""
            out.append(wire.utf(f"{mfn}#{text}"))
        return 0, out

    def _formatted(self, db: Database, fmt: bytes, record: IrbisRecord, one: bool = False) -> str:
        spec = fmt.decode(wire.ANSI if fmt.startswith(b"@") else wire.UTF, errors="replace")
        spec = spec.strip()
        if spec.startswith("!"):
            spec = spec[1:]
        name = spec.lower()
        if name in ("@brief", "@"):
            return brief(record)
        if name == "@all":
            lines = export_text(record)
            return "\r\n".join(lines) if one else wire.IRBIS_DELIMITER.join(lines)
        if spec == wire.ALL_FORMAT:
            return wire.OTHER_DELIMITER + wire.OTHER_DELIMITER.join(wire.record_lines(record))
        if spec.startswith("@"):
            raise _Refused(-5555)
        raise _Refused(-8888)

