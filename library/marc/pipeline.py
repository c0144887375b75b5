"""Reading and mapping a MARC file, optionally in a second process.

On a two-core school server the import is Python-bound: parsing and mapping a record costs
about as much as writing it. `mapped_records(..., parallel=True)` therefore reads and maps in a
child process (multiprocessing "spawn": safe in threaded callers) and hands over chunks of
ready records in their flat tuple form (rows.py) through a pipe, while the caller writes to the database. Records come out in
file order either way, so reports are identical. The pipe is bounded, so memory stays flat; if
the parent dies (even kill -9) the child's next send fails and it exits.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from library.errors import ImportFormatError
from library.marc.mapping import MAPPED_TAGS, to_record_data
from library.marc.model import RecordError
from library.marc.reader import read_file
from library.marc.rows import flatten

CHUNK = 256
PARALLEL_MIN_BYTES = 8 << 20  # below this a second process costs more than it saves

# (ordinal, offset, encoding, FlatRecord | None, reason | None)
Mapped = tuple


def map_records(path: str, sigla: str) -> Iterator[Mapped]:
    """Read and map every record of `path` in this process."""
    for parsed in read_file(path, MAPPED_TAGS):
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


def _worker(path: str, sigla: str, conn) -> None:  # noqa: ANN001
    try:
        chunk = []
        for item in map_records(path, sigla):
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
    """Use a reader process for big files on machines with more than one core."""
    try:
        return (os.cpu_count() or 1) > 1 and os.path.getsize(path) >= PARALLEL_MIN_BYTES
    except OSError:
        return False


def mapped_records(path: str, sigla: str, parallel: bool = False) -> Iterator[Mapped]:
    """Mapped records of `path` in file order, read in a child process when `parallel`."""
    if not parallel:
        yield from map_records(path, sigla)
        return
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(path, sigla, send), daemon=True,
                       name="ibc-marc-reader")
    proc.start()
    send.close()
    try:
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
    finally:
        recv.close()
        proc.join(timeout=5)
        if proc.is_alive():
            proc.terminate()
            proc.join()
