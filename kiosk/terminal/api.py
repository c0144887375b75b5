"""A small synchronous API client for terminals (httpx); transport errors are mapped here.

    ClientError
    ├── ServerUnreachable   connection refused/reset, timeout, 5xx: worth queueing and retrying
    │   ├── ServerCertificateChanged  the server showed another certificate than the pinned one
    │   └── ServerNotTls              a terminal enrolled over TLS was pointed at plain HTTP
    └── ApiRefused          the server answered 4xx: ``status``, ``code``, ``message`` (ru)

The base URL comes from a callable so a terminal follows the server when zeroconf reports a new
address. With ``write_url`` (``[server] primary_url`` of a terminal reading from a read-only
server on a PostgreSQL standby, docs/SERVER.md) every request that writes or carries a reader
session goes to that primary instead: the replica answers the anonymous reads only (searches,
records, the change feed, covers), so a session never meets the replica's lag.

With ``server_cert`` (the PEM stored at enrolment) the client trusts that certificate
only (kiosk/terminal/tls.py) and refuses plain ``http://`` URLs before anything is sent: no
token, session or PIN reaches a server that cannot prove it holds the enrolled key.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from typing import Any

import httpx

from library.errors import IbcError

QueryValue = str | int | float | bool | None  # one query-string parameter
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # what a read-only server answers


class ClientError(IbcError):
    """Anything that went wrong talking to the server."""

    code = "client"


class ServerUnreachable(ClientError):
    """No usable answer from the server (network down, server stopped, 5xx)."""


class ServerCertificateChanged(ServerUnreachable):
    """The server's certificate is not the one this terminal was enrolled with (a replaced
    certificate, or a man in the middle): nothing was sent. Re-enrolment accepts a new one."""

    code = "server_certificate_changed"


class ServerNotTls(ServerUnreachable):
    """A terminal enrolled over TLS was given a plain-HTTP server (or the server does not speak
    TLS): nothing was sent."""

    code = "server_not_tls"


def _tls_failure(exc: BaseException) -> ssl.SSLError | None:
    """The SSL error behind a transport error, if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


class ApiRefused(ClientError):
    """The server refused the request (4xx)."""

    def __init__(self, status: int, data: dict):
        self.status, self.data = status, data
        self.code = str(data.get("code", "http_%d" % status))
        self.message = str(data.get("message", ""))
        super().__init__(f"{status} {self.code}: {data.get('message_en') or self.message}")


class ApiClient:
    """Calls the school server's /api/v1 as one terminal."""

    def __init__(self, base_url: str | Callable[[], str | None], token: str | None = None, *,
                 timeout: float = 5.0, transport: httpx.BaseTransport | None = None,
                 server_cert: str | None = None, write_url: str | None = None):
        self._base = base_url if callable(base_url) else (lambda: base_url)
        self.write_url = write_url or None  # the primary, when base_url is a read-only replica
        self.token = token
        self.school: str | None = None  # the school the server enrolled it for (enrol)
        self.session: str | None = None
        self.server_cert = server_cert or None
        self.fingerprint = ""
        verify: ssl.SSLContext | bool = True
        if self.server_cert:
            from kiosk.terminal.tls import pinned_context
            from library.tls import fingerprint

            verify = pinned_context(self.server_cert)
            self.fingerprint = fingerprint(self.server_cert)
        self._http = httpx.Client(timeout=timeout, transport=transport, verify=verify)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
              session: bool = False, ok: tuple[int, ...] = ()) -> httpx.Response:
        """One request to /api/v1; transport errors and 5xx are ServerUnreachable, other 4xx
        (but those in ``ok``) ApiRefused with the server's error body."""
        primary = self.write_url is not None and (
            method.upper() not in READ_METHODS or (session and bool(self.session)))
        url = self._url(path, primary=primary)
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if session and self.session:
            headers["X-Reader-Session"] = self.session
        try:
            resp = self._http.request(method, url, json=json, params=params, headers=headers)
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc
        if resp.status_code >= 500:
            raise ServerUnreachable(f"server error {resp.status_code}")
        if resp.status_code >= 400 and resp.status_code not in ok:
            try:
                data = resp.json()
            except ValueError:
                data = {"code": f"http_{resp.status_code}", "message": resp.text[:200]}
            raise ApiRefused(resp.status_code, data if isinstance(data, dict) else {})
        return resp

    def _url(self, path: str, *, primary: bool = False) -> str:
        """The full URL of an API path (on `write_url` when `primary`); a pinned client refuses
        anything but https."""
        base = self.write_url if primary else self._base()
        if not base:
            raise ServerUnreachable("no server known (zeroconf has not found one yet)")
        if self.server_cert and not base.lower().startswith("https://"):
            raise ServerNotTls(f"server_not_tls: {base} is not https, but this terminal was "
                               f"enrolled over TLS (certificate {self.fingerprint[:23]}…): "
                               "nothing sent")
        return f"{base.rstrip('/')}/api/v1{path}"

    def _unreachable(self, exc: httpx.TransportError) -> ServerUnreachable:
        """A transport error as the client's error: a certificate that is not the pinned one
        and a server without TLS are named."""
        failure = _tls_failure(exc)
        if isinstance(failure, ssl.SSLCertVerificationError) and self.server_cert:
            return ServerCertificateChanged(
                "server_certificate_changed: the server's certificate is not the one this "
                f"terminal was enrolled with ({self.fingerprint[:23]}…; {failure.verify_message});"
                " nothing sent — if it was replaced on purpose, enrol again (ibc terminals join)")
        if failure is not None and self.server_cert:
            return ServerNotTls(f"server_not_tls: no TLS handshake with the server ({failure});"
                                " nothing sent")
        return ServerUnreachable(f"{type(exc).__name__}: {exc}")

    def request(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
                session: bool = False) -> Any:
        """One API call; returns the decoded JSON (None for 204)."""
        resp = self._send(method, path, json=json, params=params, session=session)
        return None if resp.status_code == 204 else resp.json()

    # --- endpoints ---------------------------------------------------------------------------
    def health(self) -> dict:
        """GET /health."""
        return self.request("GET", "/health")

    def enrol(self, code: str, name: str) -> str:
        """Enrol this terminal; keeps and returns its token (and in `school` the school it lends
        for, when the server says: docs/SCHOOLS.md)."""
        body = self.request("POST", "/terminals/enrol", json={"code": code, "name": name})
        self.token, self.school = body["token"], body.get("school")
        return self.token

    def search(self, q: str, **params: QueryValue) -> dict:
        """GET /search."""
        return self.request("GET", "/search", params={"q": q, **params})

    def record(self, record_id: int) -> dict:
        """GET /records/{id}."""
        return self.request("GET", f"/records/{int(record_id)}")

    def open_session(self, card: str, pin: str | None = None) -> dict:
        """POST /session; keeps the session token for later calls."""
        body = {"card": card} if pin is None else {"card": card, "pin": pin}
        out = self.request("POST", "/session", json=body)
        self.session = out["session"]
        return out

    def end_session(self) -> None:
        """DELETE /session."""
        if self.session:
            try:
                self.request("DELETE", "/session", session=True)
            finally:
                self.session = None

    def loans(self) -> list[dict]:
        """GET /loans of the session reader."""
        return self.request("GET", "/loans", session=True)

    def checkout(self, barcode: str, txn_id: str) -> dict:
        """POST /checkout for the session reader."""
        return self.request("POST", "/checkout", json={"barcode": barcode, "txn_id": txn_id}, session=True)

    def renew(self, barcode: str, txn_id: str) -> dict:
        """POST /renew for the session reader."""
        return self.request("POST", "/renew", json={"barcode": barcode, "txn_id": txn_id}, session=True)

    def change_pin(self, current: str | None, new: str) -> dict:
        """POST /session/pin: the session reader's new PIN (``current`` when they have one)."""
        body = {"new": new} if current is None else {"current": current, "new": new}
        return self.request("POST", "/session/pin", json=body, session=True)

    def checkin(self, barcode: str, txn_id: str) -> dict:
        """POST /return."""
        return self.request("POST", "/return", json={"barcode": barcode, "txn_id": txn_id})

    def collect_textbook(self, barcode: str, class_name: str | None = None) -> dict:
        """POST /textbooks/collect for the session reader (a teacher or staff)."""
        body = {"barcode": barcode} if not class_name else {"barcode": barcode,
                                                            "class_name": class_name}
        return self.request("POST", "/textbooks/collect", json=body, session=True)

    def place_hold(self, record_id: int, txn_id: str) -> dict:
        """POST /holds: the session reader queues for a record."""
        return self.request("POST", "/holds", json={"record_id": int(record_id), "txn_id": txn_id},
                            session=True)

    def holds(self) -> list[dict]:
        """GET /holds of the session reader."""
        return self.request("GET", "/holds", session=True)

    def cancel_hold(self, hold_id: int, txn_id: str) -> dict:
        """POST /holds/{id}/cancel: the session reader cancels one of their own holds."""
        return self.request("POST", f"/holds/{int(hold_id)}/cancel", json={"txn_id": txn_id},
                            session=True)

    def forward(self, op: str, card: str | None, barcode: str, txn_id: str,
                queued_at: str | None = None) -> dict:
        """POST /offline: apply a queued operation."""
        body = {"op": op, "card": card, "barcode": barcode, "txn_id": txn_id, "queued_at": queued_at}
        return self.request("POST", "/offline", json=body)

    def media(self, **params: QueryValue) -> list[dict]:
        """GET /media (teachers-only items only with a teacher's session)."""
        return self.request("GET", "/media", params=params, session=True)

    # --- media remote control (teacher or staff session) ------------------------------------
    def media_station(self) -> dict:
        """GET /media/station: player and projector state."""
        return self.request("GET", "/media/station", session=True)

    def media_play(self, item_id: int | None = None, *, lesson: str | None = None,
                   items: list[int] | None = None, projector: bool = False,
                   resume: bool = True) -> dict:
        """POST /media/play: one item, the teacher's lesson or a list."""
        body: dict[str, Any] = {"projector": projector}
        if item_id is not None:
            body["item_id"] = int(item_id)
        if lesson is not None:
            body["lesson"] = lesson
        if items is not None:
            body["items"] = [int(i) for i in items]
        if lesson is None:
            body["resume"] = resume
        return self.request("POST", "/media/play", json=body, session=True)

    def media_control(self, action: str) -> dict:
        """POST /media/{pause|resume|stop|show|next|previous}."""
        if action not in ("pause", "resume", "stop", "show", "next", "previous"):
            raise ValueError(f"unknown media action {action!r}")
        return self.request("POST", f"/media/{action}", session=True)

    def media_pause(self) -> dict:
        """POST /media/pause."""
        return self.media_control("pause")

    def media_resume(self) -> dict:
        """POST /media/resume."""
        return self.media_control("resume")

    def media_stop(self) -> dict:
        """POST /media/stop."""
        return self.media_control("stop")

    def media_next(self) -> dict:
        """POST /media/next (``moved`` false at the end)."""
        return self.media_control("next")

    def media_previous(self) -> dict:
        """POST /media/previous."""
        return self.media_control("previous")

    def media_seek(self, position_s: float) -> dict:
        """POST /media/seek."""
        return self.request("POST", "/media/seek", json={"position_s": position_s}, session=True)

    def media_volume(self, volume: int) -> dict:
        """POST /media/volume (0..100)."""
        return self.request("POST", "/media/volume", json={"volume": int(volume)}, session=True)

    def media_lessons(self) -> dict[str, list[int]]:
        """GET /media/lessons of the session teacher."""
        return self.request("GET", "/media/lessons", session=True)["lessons"]

    def media_save_lesson(self, name: str, items: list[int]) -> dict[str, list[int]]:
        """POST /media/lessons; returns all of the teacher's lessons."""
        body = {"name": name, "items": [int(i) for i in items]}
        return self.request("POST", "/media/lessons", json=body, session=True)["lessons"]

    def media_download(self, media_id: int, dest: str | os.PathLike[str]) -> int:
        """GET /media/{id}/file into the path ``dest``; returns the byte count."""
        url = self._url(f"/media/{int(media_id)}/file")
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if self.session:
            headers["X-Reader-Session"] = self.session
        try:
            with self._http.stream("GET", url, headers=headers) as resp:
                if resp.status_code >= 500:
                    raise ServerUnreachable(f"server error {resp.status_code}")
                if resp.status_code >= 400:
                    resp.read()
                    try:
                        data = resp.json()
                    except ValueError:
                        data = {}
                    raise ApiRefused(resp.status_code, data if isinstance(data, dict) else {})
                size = 0
                with open(dest, "wb") as fh:
                    for chunk in resp.iter_bytes():
                        fh.write(chunk)
                        size += len(chunk)
                return size
        except httpx.TransportError as exc:
            raise self._unreachable(exc) from exc

    def changes(self, since: int, after: str = "", limit: int = 1000) -> dict:
        """GET /changes."""
        return self.request("GET", "/changes", params={"since": since, "after": after, "limit": limit})

    def places(self, version: int | None = None) -> dict:
        """GET /places: every place with its rules, or ``changed: false`` when `version` is
        the server's current places version."""
        params = {} if version is None else {"version": int(version)}
        return self.request("GET", "/places", params=params)

    def schools(self) -> dict:
        """GET /schools: the server's schools (sigla, name) and this terminal's own."""
        return self.request("GET", "/schools")

    def cover(self, key: str, *, max_bytes: int = 8 * 1024 * 1024) -> bytes | None:
        """GET /covers/{key}: the cover image (JPEG or PNG bytes) by ISBN or copy barcode, None
        when the server has none; a key that cannot name a cover is None without a request."""
        from library.covers import valid_key

        if not valid_key(key):
            return None
        resp = self._send("GET", f"/covers/{key}", ok=(404,))
        if resp.status_code == 404:
            return None
        return resp.content if len(resp.content) <= max_bytes else None
