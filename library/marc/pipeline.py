"""Reading and mapping a MARC file, optionally in reader processes.

On a two-core school server the import is Python-bound: reading and mapping a record costs
more than writing it. `mapped_records(..., parallel=True)` therefore reads and maps in child
processes (multiprocessing "spawn": safe in threaded callers) that hand over chunks of ready
records in their flat tuple form (rows.py) through pipes, while the caller writes to the
database. An ISO 2709 file is shared by two readers: reader k of n frames the whole file (cheap)
but decodes and maps only the records whose ordinal - 1 is k modulo n, and the caller takes
their records in turn, so records come out in file order either way and reports are identical.
Other containers use one reader. The pipes are bounded, so memory stays flat; if the parent
dies (even kill -9) a child's next send fails and it exits.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from library.errors import ImportFormatError
from library.marc.formats import ISO2709
from library.marc.iso2709 import encode_record
from library.marc.mapping import MAPPED_TAGS, to_record_data
from library.marc.model import MarcRecord, Parsed, RecordError
from library.marc.reader import detect_container, read_file
from library.marc.rows import FlatRecord, flatten

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

CHUNK = 256
PIPE_BYTES = 1 << 20
PARALLEL_MIN_BYTES = 8 << 20  # below this a second process costs more than it saves
ISO2709_READERS = 2  # the writer needs about half a reader's CPU time: two readers keep it fed

# (ordinal, offset, encoding, FlatRecord | None, reason | None)
Mapped = tuple
# What a reader process sends: chunks of records, then ("end", None) or ("error", message).
Message = list[Mapped] | tuple[str, str | None]


def map_records(path: str, sigla: str, stride: tuple[int, int] | None = None,
                encoding: str | None = None) -> Iterator[Mapped]:
    """Read and map the records of `path` (every n-th with `stride`; in `encoding` instead of
    the detected one) in this process."""
    for parsed in read_file(path, MAPPED_TAGS, stride, encoding):
        if parsed.error:
            yield (parsed.ordinal, parsed.offset, None, None, parsed.error)  # not decoded
            continue
        try:
            data = flatten(to_record_data(parsed, sigla))
        except RecordError as exc:
            yield (parsed.ordinal, parsed.offset, parsed.encoding, None, exc.reason)
            continue
        except Exception as exc:  # noqa: BLE001 - a mapping bug must not stop the file
            yield (parsed.ordinal, parsed.offset, parsed.encoding, None, f"cannot map: {exc!r}")
            continue
        yield (parsed.ordinal, parsed.offset, parsed.encoding, data, None)


def map_marc(record: MarcRecord, sigla: str, ordinal: int = 0,
             format_hint: str | None = "rusmarc") -> FlatRecord:
    """Map one MarcRecord that did not come from a file (e.g. read from an ИРБИС64 server)
    exactly as `map_records` maps a file's record: the same mapping, key rule and copies; the
    record is kept as UTF-8 ISO 2709 like an ИРБИС text export's. RecordError when it cannot
    be mapped (no title) or encoded."""
    try:
        raw = encode_record(record, "utf-8")
    except (ValueError, UnicodeError) as exc:
        raise RecordError(f"cannot encode: {exc}") from None
    parsed = Parsed(ordinal, None, record, "utf-8", raw, "utf-8", format_hint=format_hint)
    return flatten(to_record_data(parsed, sigla))


def _worker(path: str, sigla: str, conn: Connection[Message, object],
            stride: tuple[int, int] | None = None, encoding: str | None = None) -> None:
    try:
        chunk = []
        for item in map_records(path, sigla, stride, encoding):
            chunk.append(item)
            if len(chunk) >= CHUNK:
                conn.send(chunk)
                chunk = []
        conn.send(chunk)
        conn.send(("end", None))
    except (BrokenPipeError, EOFError, KeyboardInterrupt):
        pass  # the importer went away
    except ImportFormatError as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:  # noqa: BLE001
        conn.send(("error", f"reader failed: {exc!r}"))
    finally:
        conn.close()


def should_parallelise(path: str) -> bool:
    """Use reader processes for big files on machines with more than one core."""
    try:
        return (os.cpu_count() or 1) > 1 and os.path.getsize(path) >= PARALLEL_MIN_BYTES
    except OSError:
        return False


def _widen(conn: Connection[object, Message]) -> None:
    """Let a reader run ahead while the parent writes a batch: a default 64 KiB pipe holds a
    fifth of one chunk, so the reader stalled during every database write; 1 MiB (Linux's
    default limit for unprivileged processes) holds about three chunks."""
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # not Linux, or a lower limit: the default pipe works, only slower


def _received(path: str, recv: Connection[object, Message]) -> Iterator[Mapped]:
    """The records one reader sends, until its end mark; its error as ImportFormatError."""
    while True:
        try:
            msg = recv.recv()
        except EOFError:
            raise ImportFormatError(f"{path}: the reader process stopped unexpectedly") from None
        if isinstance(msg, tuple):
            if msg[0] == "end":
                return
            raise ImportFormatError(msg[1])
        yield from msg


def _in_turn(path: str, streams: list[Iterator[Mapped]]) -> Iterator[Mapped]:
    """Records of n strided readers back in file order: one from each in turn."""
    while True:
        for i, stream in enumerate(streams):
            item = next(stream, None)
            if item is None:  # the file is done: every later reader must be done as well
                if any(next(s, None) is not None for s in streams[i + 1:] + streams[:i]):
                    raise ImportFormatError(f"{path}: the reader processes disagree")
                return
            yield item


def mapped_records(path: str, sigla: str, parallel: bool = False,
                   encoding: str | None = None) -> Iterator[Mapped]:
    """Mapped records of `path` in file order, read in child processes when `parallel`
    (in `encoding` instead of the detected one when given)."""
    if not parallel:
        yield from map_records(path, sigla, encoding=encoding)
        return
    import multiprocessing as mp

    n = ISO2709_READERS if detect_container(path) == ISO2709 else 1
    ctx = mp.get_context("spawn")
    procs, conns = [], []
    try:
        for k in range(n):
            recv, send = ctx.Pipe(duplex=False)
            _widen(recv)
            conns.append(recv)
            proc = ctx.Process(target=_worker, args=(path, sigla, send, (k, n) if n > 1 else None, encoding),
                               daemon=True, name=f"ibc-marc-reader-{k + 1}")
            proc.start()
            procs.append(proc)
            send.close()
        streams = [_received(path, recv) for recv in conns]
        yield from streams[0] if n == 1 else _in_turn(path, streams)
    finally:
        for recv in conns:
            recv.close()
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
                proc.join()
