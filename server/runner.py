"""`ibc serve` in one asyncio loop: uvicorn for the API plus the zeroconf advertisement."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from config.settings import Settings
    from library.storage.database import Database
    from server.tls import ServerCertificate

log = logging.getLogger("ibc.server")


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


async def serve(settings: Settings, db: Database, *, host: str, port: int, advertise: bool,
                tls: ServerCertificate | None = None) -> None:
    """Run until SIGINT/SIGTERM; prints the listening URL on stdout once ready. HTTPS with
    `tls`; without it plain HTTP, which is for development only and says so."""
    import uvicorn

    from server.app import API_VERSION, create_app

    class _Server(uvicorn.Server):
        # uvicorn re-raises a captured SIGTERM after shutdown, which would kill the process
        # before the zeroconf goodbye is sent; this loop handles the signals itself.
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    app = create_app(settings, db)
    if tls is None:
        log.warning("[server] tls = \"off\": plain HTTP on %s — terminal tokens, reader sessions "
                    "and PINs cross the network in clear; for development only", host)
        print(f"ibc serve: ВНИМАНИЕ: TLS выключен ([server] tls = \"off\"): ключи терминалов и "
              f"PIN-коды идут по сети открытым текстом (plain HTTP on {host}, development only)",
              file=sys.stderr, flush=True)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=5,
                            ssl_certfile=str(tls.cert) if tls else None,
                            ssl_keyfile=str(tls.key) if tls else None)
    server = _Server(config)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, server.handle_exit, sig, None)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task  # re-raises the start-up error (port in use...)
            return
        await asyncio.sleep(0.02)
    real_port = server.servers[0].sockets[0].getsockname()[1]
    scheme = "https" if tls is not None else "http"
    if tls is not None:  # on stderr: stdout has one line per state (listening, advertised)
        from library.tls import short_fingerprint

        print(f"ibc serve: certificate {tls.cert} SHA-256 {tls.fingerprint} "
              f"({short_fingerprint(tls.fingerprint)})", file=sys.stderr, flush=True)
    print(f"ibc serve: listening on {scheme}://{host}:{real_port}", flush=True)
    aiozc = info = None
    if advertise:
        from server.discovery import advertise as announce
        from server.discovery import make_zeroconf, service_info

        aiozc = make_zeroconf(settings.server.interfaces)
        info = service_info(school_id=settings.school.id, school_name=settings.school.name,
                            api=API_VERSION, addresses=_addresses(host, settings.server.interfaces),
                            port=real_port, fingerprint=tls.fingerprint if tls else "")
        await announce(aiozc, info)
        print(f"ibc serve: advertised {info.name}", flush=True)
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
        if aiozc is not None and info is not None:  # both set when advertising
            await aiozc.async_unregister_service(info)
            await aiozc.async_close()
        sys.stdout.flush()
