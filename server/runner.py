"""`ibc serve` in one asyncio loop: uvicorn for the API plus the zeroconf advertisement.

With ``[server] workers`` (or ``--workers``) above 1 this process binds the socket, starts that
many worker processes (spawned, each with its own app and database pool, all accepting on the
one socket) and only supervises them: it prints the URL, advertises over zeroconf, speaks to
systemd, replaces a worker that dies and stops the workers on SIGTERM. Every state the workers
share lives in the database (docs/ARCHITECTURE.md, «State across worker processes»);
`workers_refusal` says when several workers cannot be run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from config.settings import Settings
    from library.storage.database import Database
    from server.tls import ServerCertificate

log = logging.getLogger("ibc.server")
RESTARTS = 5              # worker deaths replaced within RESTART_WINDOW_S before the service stops
RESTART_WINDOW_S = 60.0


def _addresses(host: str, interfaces: list[str]) -> list[str]:
    if host not in ("0.0.0.0", "", "::"):
        return [host]
    if interfaces:
        return list(interfaces)
    from zeroconf import get_all_addresses

    return [a for a in get_all_addresses() if not a.startswith("127.")] or ["127.0.0.1"]


def _systemd_ready(host: str, port: int) -> asyncio.Task | None:
    """Tell systemd (Type=notify) the API is up and keep its watchdog fed; no-op elsewhere."""
    from server import sdnotify

    sdnotify.ready(f"listening on {host}:{port}")
    interval = sdnotify.watchdog_interval()
    if not interval:
        return None

    async def _feed() -> None:
        while True:
            sdnotify.watchdog()
            await asyncio.sleep(interval / 2)

    return asyncio.create_task(_feed())


async def _start_station(app: FastAPI) -> None:
    """Open the media station now when this server drives one (else on first use, or never)."""
    remote = app.state.media_remote
    if not remote.enabled:
        return
    try:
        await asyncio.to_thread(remote.get)
        print(f"ibc serve: media station {remote.mode}", flush=True)
    except Exception as exc:  # noqa: BLE001  (the API still serves; the remote answers 409)
        log.error("media station not started: %s", exc)


def workers_refusal(settings: Settings, db: Database, workers: int) -> str | None:
    """Why `workers` processes cannot serve this install (None when they can): the media
    station is one VLC in one process; SQLite must be a file in WAL mode (several processes
    read while one writes; a database in memory would be one per process)."""
    if workers <= 1:
        return None
    if settings.media.station != "off":
        return ("медиастанцию ведёт один процесс: при [media] station = "
                f"\"{settings.media.station}\" нужен [server] workers = 1 "
                "(the media station needs one worker process)")
    if db.is_sqlite:
        from sqlalchemy import text

        if db.engine.url.database in (None, "", ":memory:"):
            return ("база SQLite в памяти не делится между процессами: нужен файл или PostgreSQL "
                    "(an in-memory SQLite database cannot be shared by worker processes)")
        with db.engine.connect() as conn:
            mode = str(conn.execute(text("PRAGMA journal_mode")).scalar() or "").lower()
        if mode != "wal":
            return (f"несколько процессов на SQLite работают только в режиме WAL, а у базы {mode!r} "
                    f"(several worker processes on SQLite need WAL mode, the database is in {mode!r})")
    return None


async def serve(settings: Settings, db: Database, *, host: str, port: int, advertise: bool,
                tls: ServerCertificate | None = None, workers: int = 1) -> int:
    """Run until SIGINT/SIGTERM; prints the listening URL on stdout once ready. HTTPS with
    `tls`; without it plain HTTP, which is for development only and says so. With `workers`
    above 1 the API runs in that many processes (`_serve_workers`). The exit code: 0, or 1 when
    a worker process died."""
    if workers > 1:
        return await _serve_workers(settings, db, host=host, port=port, advertise=advertise,
                                    tls=tls, workers=workers)
    import uvicorn

    from server.app import create_app

    class _Server(uvicorn.Server):
        # uvicorn re-raises a captured SIGTERM after shutdown, which would kill the process
        # before the zeroconf goodbye is sent; this loop handles the signals itself.
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    app = create_app(settings, db)
    if tls is None:
        _warn_plain_http(host)
    config = uvicorn.Config(app, **_uvicorn_options(host, port, tls, "off",
                                                       settings.server.trusted_proxies))
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.handle_exit, sig, None)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task  # re-raises the start-up error (port in use...)
            return 1
        await asyncio.sleep(0.02)
    real_port = server.servers[0].sockets[0].getsockname()[1]
    announced = await _announce(settings, host, real_port, advertise, tls)
    if app.state.ibc.read_only:
        print("ibc serve: read-only (searches and the change feed; writes go to the primary)",
              flush=True)
    await _start_station(app)
    watchdog = _systemd_ready(host, real_port)
    try:
        await task
    finally:
        from server import sdnotify

        sdnotify.stopping()
        await asyncio.to_thread(app.state.media_remote.close)
        if watchdog is not None:
            watchdog.cancel()
        await _unannounce(announced)
        sys.stdout.flush()
    return 0


async def _announce(settings: Settings, host: str, port: int, advertise: bool,
                    tls: ServerCertificate | None) -> tuple[Any, Any] | None:
    """Print the URL (and the certificate) and advertise `_ibc._tcp`; what to unregister."""
    from server.app import API_VERSION

    scheme = "https" if tls is not None else "http"
    if tls is not None:  # on stderr: stdout has one line per state (listening, advertised)
        from library.tls import short_fingerprint

        print(f"ibc serve: certificate {tls.cert} SHA-256 {tls.fingerprint} "
              f"({short_fingerprint(tls.fingerprint)})", file=sys.stderr, flush=True)
    print(f"ibc serve: listening on {scheme}://{host}:{port}", flush=True)
    if not advertise:
        return None
    from server.discovery import advertise as announce
    from server.discovery import make_zeroconf, service_info

    aiozc = make_zeroconf(settings.server.interfaces)
    info = service_info(school_id=settings.school.id, school_name=settings.school.name,
                        api=API_VERSION, addresses=_addresses(host, settings.server.interfaces),
                        port=port, fingerprint=tls.fingerprint if tls else "")
    await announce(aiozc, info)
    print(f"ibc serve: advertised {info.name}", flush=True)
    return aiozc, info


async def _unannounce(announced: tuple[Any, Any] | None) -> None:
    if announced is not None:
        aiozc, info = announced
        await aiozc.async_unregister_service(info)
        await aiozc.async_close()


def _uvicorn_options(host: str, port: int, tls: ServerCertificate | None, lifespan: str,
                     proxies: list[str]) -> dict:
    # X-Forwarded-For only from `[server] trusted_proxies` (uvicorn's own default would believe
    # any process on this host): the desk's and the OPAC's guess limits count the client address
    return {"host": host, "port": port, "log_level": "warning", "access_log": False,
            "proxy_headers": bool(proxies), "forwarded_allow_ips": list(proxies) or "",
            "lifespan": lifespan, "timeout_graceful_shutdown": 5,
            "ssl_certfile": str(tls.cert) if tls else None,
            "ssl_keyfile": str(tls.key) if tls else None}


async def _serve_workers(settings: Settings, db: Database, *, host: str, port: int, advertise: bool,
                         tls: ServerCertificate | None, workers: int) -> int:
    """Bind the socket here, run `workers` spawned worker processes on it, supervise them."""
    import multiprocessing

    import uvicorn

    options = _uvicorn_options(host, port, tls, "on", settings.server.trusted_proxies)
    sock = uvicorn.Config("server.runner:worker_main", **options).bind_socket()
    sock.listen(2048)  # connections wait in the backlog until a worker accepts (not refused)
    db.dispose()  # the workers open their own pools; this process keeps no connection
    if tls is None:
        _warn_plain_http(host)
    spawn = multiprocessing.get_context("spawn")
    payload = settings.model_dump_json()

    def _start(n: int) -> tuple[Any, Any]:
        up = spawn.Event()
        proc = spawn.Process(target=worker_main, args=(payload, sock, options, up),
                             name=f"ibc-serve-worker-{n + 1}", daemon=False)
        proc.start()
        return proc, up

    started = [_start(n) for n in range(workers)]
    procs, ready = [p for p, _ in started], [up for _, up in started]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    announced, watchdog, code = None, None, 0
    deaths: list[float] = []
    try:
        # "listening" (and systemd's READY) once every worker serves: the first requests spread
        while not all(up.is_set() for up in ready):
            if stop.is_set() or not all(p.is_alive() for p in procs):
                if not stop.is_set():
                    print("ibc serve: a worker process did not start (see the log above)",
                          file=sys.stderr, flush=True)
                return 0 if stop.is_set() else 1
            await asyncio.sleep(0.05)
        real_port = sock.getsockname()[1]
        announced = await _announce(settings, host, real_port, advertise, tls)
        print(f"ibc serve: {workers} worker processes {[p.pid for p in procs]}", flush=True)
        watchdog = _systemd_ready(host, real_port)
        while not stop.is_set():
            for n, proc in enumerate(procs):
                if proc.is_alive():
                    continue
                # A worker died (killed, out of memory): the others go on serving and a new one
                # takes its place; RESTARTS deaths within RESTART_WINDOW_S stop the service
                # (exit code 1: systemd's Restart=on-failure takes over).
                now = loop.time()
                deaths = [d for d in deaths if now - d < RESTART_WINDOW_S] + [now]
                log.error("worker process %s ended (exit code %s)", proc.pid, proc.exitcode)
                if len(deaths) > RESTARTS:
                    print(f"ibc serve: worker processes keep dying ({len(deaths)} in "
                          f"{RESTART_WINDOW_S:.0f} s): stopping", file=sys.stderr, flush=True)
                    code = 1
                    stop.set()
                    break
                procs[n], ready[n] = _start(n)
                print(f"ibc serve: worker process {proc.pid} ended (exit code {proc.exitcode}); "
                      f"started {procs[n].pid}", file=sys.stderr, flush=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
    finally:
        from server import sdnotify

        sdnotify.stopping()
        for proc in procs:
            if proc.is_alive():
                proc.terminate()  # SIGTERM: uvicorn's graceful shutdown in the worker
        for proc in procs:
            await asyncio.to_thread(proc.join, 15)
            if proc.is_alive():
                proc.kill()
                await asyncio.to_thread(proc.join, 5)
        sock.close()
        if watchdog is not None:
            watchdog.cancel()
        await _unannounce(announced)
        sys.stdout.flush()
    return code


def worker_main(settings_json: str, sock: socket.socket, options: dict, ready: Any = None) -> None:
    """One worker process of `ibc serve --workers N`: the parent's settings, its own database
    pool and app (with its lifespan), uvicorn accepting on the parent's socket until SIGTERM;
    `ready` (a multiprocessing Event) is set once it serves."""
    import uvicorn

    from config.settings import Settings
    from library.storage.database import open_database
    from server.app import create_app

    settings = Settings.model_validate_json(settings_json)
    # the parent migrated (a writable server) or checked the schema (a read-only one)
    db = open_database(settings.database.url, data_dir=settings.data_dir or None,
                       echo=settings.database.echo, migrate=False)
    try:
        app = create_app(settings, db)
        config = uvicorn.Config(app, **options)
        config.configure_logging()

        class _Worker(uvicorn.Server):
            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                await super().startup(sockets)
                if ready is not None and not self.should_exit:
                    ready.set()

        _Worker(config).run(sockets=[sock])
    finally:
        db.dispose()


def _warn_plain_http(host: str) -> None:
    log.warning("[server] tls = \"off\": plain HTTP on %s — terminal tokens, reader sessions "
                "and PINs cross the network in clear; for development only", host)
    print(f"ibc serve: ВНИМАНИЕ: TLS выключен ([server] tls = \"off\"): ключи терминалов и "
          f"PIN-коды идут по сети открытым текстом (plain HTTP on {host}, development only)",
          file=sys.stderr, flush=True)
