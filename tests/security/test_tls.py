"""TLS between the terminals and the school server, as the attacks it stops.

* **Eavesdropping**: a pupil's laptop on the school LAN reads the traffic. A TCP proxy in the
  middle records every byte between a terminal and a real `ibc serve`: with TLS the terminal's
  token, the reader's card, PIN and session never appear in it (with the development setting
  `tls = "off"` they do: the control that the proxy sees the traffic).
* **Man in the middle**: a machine answers in the server's place with its own self-signed
  certificate. The enrolled terminal refuses it (`server_certificate_changed`, said in plain
  words in service mode) and the fake server receives nothing — no token, no card, no PIN;
  `ibc terminals join` with a code made for the real server refuses it too and stores nothing.
* **Downgrade**: the terminal is pointed at plain HTTP (a forged zeroconf answer, an edited URL):
  refused before anything is sent (`server_not_tls`); a plain-HTTP server on the https port gets
  a TLS ClientHello and nothing else.
* The enrolment code: the certificate check is keyed by the one-time secret, so a certificate
  made to match it cannot be computed without the secret.
* PostgreSQL: ``?sslmode=verify-full`` in ``[database] url`` reaches psycopg unchanged.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from library.storage.database import open_database
from tests.server.conftest import ServerProcess, populate, write_config

PIN_CARD, PIN = "CPIN", "4321"


# --- helpers: a recording TCP proxy and fake servers ------------------------------------------
class RecordingProxy:
    """Forwards 127.0.0.1:port to a target and keeps every byte that crossed it, both ways."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.wire = bytearray()
        self._lock = threading.Lock()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                with self._lock:
                    self.wire += chunk
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def close(self) -> None:
        self._stop = True
        self._sock.close()


class FakeServer:
    """Listens on 127.0.0.1 and records what it receives: the decrypted bytes when it speaks
    TLS with its own certificate (a man in the middle), the raw bytes when it does not."""

    def __init__(self, cert: Path | None = None, key: Path | None = None):
        self.received = bytearray()
        self.connections = 0
        self._ctx = None
        if cert is not None:
            self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._ctx.load_cert_chain(cert, key)
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            if self._ctx is not None:
                conn = self._ctx.wrap_socket(conn, server_side=True)
            while chunk := conn.recv(65536):
                self.received += chunk
                if b"\r\n\r\n" in self.received:  # answer like a server would, if asked
                    body = b'{"status": "ok", "token": "stolen"}'
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
                elif self._ctx is None and self.received[:1] == b"\x16":
                    # A TLS ClientHello to a plain HTTP server: it answers 400, as uvicorn does.
                    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    break
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._sock.close()


def _start(tmp: Path, school: str, tls: str) -> tuple[ServerProcess, object]:
    url = f"sqlite:///{tmp / f'{school}.sqlite3'}"
    db = open_database(url)
    populate(db)
    cfg = tmp / f"{school}.toml"
    write_config(cfg, url, school, advertise=False, tls=tls)
    proc = ServerProcess(cfg, tmp)
    proc.start()
    return proc, db


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory):
    """(ServerProcess, db) of one `ibc serve` with its self-signed certificate."""
    tmp = tmp_path_factory.mktemp("tls")
    proc, db = _start(tmp, "tls", "on")
    yield proc, db
    proc.stop()
    db.dispose()


@pytest.fixture(scope="module")
def mitm_cert(tmp_path_factory) -> tuple[Path, Path]:
    """Another self-signed certificate, for the same names (what an attacker would make)."""
    from server.tls import create_self_signed

    folder = tmp_path_factory.mktemp("mitm")
    create_self_signed(folder / "evil.crt", folder / "evil.key", names=["localhost"],
                       addresses=["127.0.0.1"], common_name="ibc-tls")
    return folder / "evil.crt", folder / "evil.key"


def _enrolled(proc: ServerProcess, db, name: str, url: str | None = None):
    from kiosk.terminal import ApiClient
    from library.tls import parse_enrolment_code

    code = parse_enrolment_code(proc.enrolment_code(db))
    client = ApiClient(url or proc.url, timeout=5, server_cert=proc.cert_pem)
    client.enrol(code.secret, name)
    return client


# --- eavesdropping ------------------------------------------------------------------------------
def _session_through(proxy: RecordingProxy, scheme: str, proc: ServerProcess, db, name: str,
                     pinned: bool) -> tuple[str, str]:
    """Enrol, open a PIN session, check a book out and in through the proxy; (token, session)."""
    from kiosk.terminal import ApiClient
    from library.tls import parse_enrolment_code

    url = f"{scheme}://127.0.0.1:{proxy.port}"
    code = parse_enrolment_code(proc.enrolment_code(db))
    with ApiClient(url, timeout=5, server_cert=proc.cert_pem if pinned else None) as client:
        token = client.enrol(code.secret, name)
        session = client.open_session(PIN_CARD, PIN)["session"]
        assert client.checkout("3001", f"{name}-t1")["due_date"]
        client.checkin("3001", f"{name}-t2")
        client.end_session()
    return token, session


def test_eavesdropper_on_the_lan_sees_no_token_card_pin_or_session(tls_server, tmp_path):
    proc, db = tls_server
    port = int(proc.url.rsplit(":", 1)[1])
    proxy = RecordingProxy(("127.0.0.1", port))
    try:
        token, session = _session_through(proxy, "https", proc, db, "spy-1", pinned=True)
    finally:
        proxy.close()
    wire = bytes(proxy.wire)
    assert len(wire) > 2000 and wire[0] == 0x16  # the traffic was there: a TLS handshake first
    for secret in (token, session, f'"pin":"{PIN}"', f'"card":"{PIN_CARD}"', "Bearer",
                   "X-Reader-Session", "/api/v1/session", "Петрова"):
        assert secret.encode() not in wire, secret


def test_control_without_tls_the_same_proxy_reads_everything(tmp_path):
    """The development setting `tls = "off"`: what the test above would have seen."""
    proc, db = _start(tmp_path, "plain", "off")
    try:
        assert proc.url.startswith("http://")
        proxy = RecordingProxy(("127.0.0.1", int(proc.url.rsplit(":", 1)[1])))
        try:
            token, session = _session_through(proxy, "http", proc, db, "spy-0", pinned=False)
        finally:
            proxy.close()
        wire = bytes(proxy.wire)
        assert token.encode() in wire and session.encode() in wire and PIN.encode() in wire
    finally:
        proc.stop()
        db.dispose()
    log = next(tmp_path.glob("serve-*.log")).read_text(encoding="utf-8")
    assert "TLS выключен" in log  # plain HTTP says so at start


# --- man in the middle ----------------------------------------------------------------------------
def test_terminal_refuses_a_server_with_another_certificate_and_sends_nothing(tls_server,
                                                                               mitm_cert):
    from kiosk.presenters.connection import plain_error
    from kiosk.terminal.api import ServerCertificateChanged

    proc, db = tls_server
    client = _enrolled(proc, db, "kiosk-mitm")
    fake = FakeServer(*mitm_cert)
    try:
        assert client.health()["status"] == "ok"  # the real server: fine
        client._base = lambda: f"https://127.0.0.1:{fake.port}"  # the attacker answers now
        with pytest.raises(ServerCertificateChanged) as caught:
            client.open_session(PIN_CARD, PIN)
        with pytest.raises(ServerCertificateChanged):
            client.checkin("3002", "mitm-t1")
    finally:
        client.close()
        fake.close()
    assert caught.value.code == "server_certificate_changed"
    assert "nothing sent" in str(caught.value)
    assert fake.connections >= 1 and bytes(fake.received) == b""  # handshake only: no request
    # Service mode says it in words a librarian can act on.
    from kiosk.i18n import language, set_language

    before = language()
    set_language("ru")
    try:
        words = plain_error(str(caught.value), caught.value.code)
    finally:
        set_language(before)
    assert "сертификат сервера не тот" in words and "ibc terminals join" in words


def test_the_monitor_reports_the_changed_certificate(tls_server, mitm_cert, tmp_path):
    from kiosk.terminal.monitor import ConnectionMonitor
    from kiosk.terminal.offline import OfflineQueue

    proc, db = tls_server
    with _enrolled(proc, db, "kiosk-mon") as enrolled:
        token = enrolled.token
    fake = FakeServer(*mitm_cert)
    queue = OfflineQueue(tmp_path / "queue.sqlite3")

    class _NoBridge:  # check_once runs on the caller's thread here
        pass

    try:
        monitor = ConnectionMonitor("kiosk-mon", lambda: f"https://127.0.0.1:{fake.port}",
                                    str(token), queue, bridge=_NoBridge(),  # type: ignore[arg-type]
                                    server_cert=proc.cert_pem)
        state = monitor.check_once()
        monitor.client.close()
    finally:
        fake.close()
        queue.close()
    assert state.online is False and state.error_code == "server_certificate_changed"
    assert bytes(fake.received) == b""


def test_join_refuses_a_man_in_the_middle_and_stores_nothing(tls_server, mitm_cert, tmp_path):
    proc, db = tls_server
    fake = FakeServer(*mitm_cert)
    term = tmp_path / "terminal"
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'data_dir = "{term}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "IBC_CONFIG"}
    try:
        code = proc.enrolment_code(db)  # made for the real server's certificate
        out = subprocess.run([sys.executable, "-m", "ibc", "--config", str(cfg), "terminals",
                              "join", code, "--url", f"https://127.0.0.1:{fake.port}"],
                             capture_output=True, text=True, timeout=60, env=env, check=False)
    finally:
        fake.close()
    assert out.returncode == 3, out.stderr
    assert "НЕ совпадает с кодом" in out.stderr and "Ничего не отправлено" in out.stderr
    assert bytes(fake.received) == b"" and not (term / "terminal.json").exists()


def test_join_over_tls_shows_and_pins_the_certificate(tls_server, tmp_path):
    from library.tls import fingerprint, short_fingerprint

    proc, db = tls_server
    term = tmp_path / "terminal"
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'data_dir = "{term}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "IBC_CONFIG"}
    plain_url = proc.url.replace("https://", "http://")  # as a technician might type it
    out = subprocess.run([sys.executable, "-m", "ibc", "--config", str(cfg), "terminals", "join",
                          proc.enrolment_code(db).lower(), "--url", plain_url, "--name", "k-ok"],
                         capture_output=True, text=True, timeout=60, env=env, check=False)
    assert out.returncode == 0, out.stderr
    fp = fingerprint(proc.cert_pem)
    assert short_fingerprint(fp) in out.stdout and fp in out.stdout
    saved = json.loads((term / "terminal.json").read_text(encoding="utf-8"))
    assert saved["fingerprint"] == fp and fingerprint(saved["server_cert"]) == fp
    assert saved["url"] == proc.url  # stored as https
    assert stat.S_IMODE((term / "terminal.json").stat().st_mode) == 0o600


# --- downgrade ---------------------------------------------------------------------------------------
def test_a_terminal_enrolled_over_tls_refuses_plain_http_before_sending(tls_server):
    from kiosk.terminal.api import ServerNotTls

    proc, db = tls_server
    client = _enrolled(proc, db, "kiosk-down")
    fake = FakeServer()  # plain HTTP, recording
    try:
        client._base = lambda: f"http://127.0.0.1:{fake.port}"
        with pytest.raises(ServerNotTls) as caught:
            client.open_session(PIN_CARD, PIN)
        assert caught.value.code == "server_not_tls"
        assert fake.connections == 0  # not even a connection
        # https to a server that speaks plain HTTP: a ClientHello is all it gets.
        client._base = lambda: f"https://127.0.0.1:{fake.port}"
        with pytest.raises(ServerNotTls):
            client.open_session(PIN_CARD, PIN)
    finally:
        client.close()
        fake.close()
    got = bytes(fake.received)
    assert got[:1] == b"\x16" and client.token.encode() not in got and PIN.encode() not in got


def test_join_needs_the_development_setting_for_a_code_without_the_check(tls_server, tmp_path):
    proc, db = tls_server
    from server.security import create_enrol_code

    term = tmp_path / "terminal"
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'data_dir = "{term}"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "IBC_CONFIG"}
    out = subprocess.run([sys.executable, "-m", "ibc", "--config", str(cfg), "terminals", "join",
                          create_enrol_code(db, 5), "--url", proc.url],
                         capture_output=True, text=True, timeout=60, env=env, check=False)
    assert out.returncode == 1 and "tls = \"off\"" in out.stderr
    assert not (term / "terminal.json").exists()


def test_the_locator_follows_only_the_server_with_the_pinned_certificate():
    from device.discovery import SeenServer, ServerLocator

    real = SeenServer("IBC a._ibc._tcp.local.", "a", "Школа", "1", "10.0.0.5", 8470, "/api/v1",
                      "AA:" * 31 + "AA")
    forged = SeenServer("IBC a (2)._ibc._tcp.local.", "a", "Школа", "1", "10.0.0.66", 8470,
                        "/api/v1", "")
    locator = ServerLocator(None, school_id="a", fingerprint=real.fingerprint)  # type: ignore[arg-type]
    locator.seen = {forged.name: forged}
    assert locator.current() is None  # a plain-HTTP impostor with the school's id: ignored
    locator.seen[real.name] = real
    assert locator.current() == real and real.url == "https://10.0.0.5:8470"


# --- the certificate and the code ------------------------------------------------------------------
def test_the_self_signed_certificate(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

    from server.tls import create_self_signed

    fp = create_self_signed(tmp_path / "tls" / "server.crt", tmp_path / "tls" / "server.key",
                            names=["ibc-server", "ibc-server.local"],
                            addresses=["127.0.0.1", "192.168.1.10"])
    cert = x509.load_pem_x509_certificate((tmp_path / "tls" / "server.crt").read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["ibc-server", "ibc-server.local"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1",
                                                                         "192.168.1.10"]
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days > 365 * 19
    assert stat.S_IMODE((tmp_path / "tls" / "server.key").stat().st_mode) == 0o600
    assert fp.count(":") == 31 and len(fp) == 95


def test_the_code_checks_the_certificate_with_the_secret(mitm_cert, tls_server):
    from library.tls import (
        EnrolCodeError,
        certificate_check,
        enrolment_code,
        fingerprint,
        parse_enrolment_code,
    )

    proc, _db = tls_server
    real, evil = fingerprint(proc.cert_pem), fingerprint(mitm_cert[0].read_text())
    code = enrolment_code("1a2b-3c4d-5e6f", real)
    assert len(code) == len("1A2B-3C4D-5E6F-ABCD-EFGH") and code.startswith("1A2B-3C4D-5E6F-")
    parsed = parse_enrolment_code(code.lower().replace("-", " "))
    assert parsed.secret == "1A2B-3C4D-5E6F" and parsed.accepts(real) and not parsed.accepts(evil)
    # The same certificate, another secret: another check (it cannot be precomputed).
    assert certificate_check("1A2B-3C4D-5E6F", real) != certificate_check("1A2B-3C4D-5E70", real)
    assert parse_enrolment_code("1A2B-3C4D-5E6F").check is None
    for bad in ("1A2B-3C4D", "1A2B-3C4D-5E6F-ABCD", "1A2B-3C4D-5E6F-ABC1-EFGH", "ZZZZ-3C4D-5E6F"):
        with pytest.raises(EnrolCodeError):
            parse_enrolment_code(bad)


def test_enroll_prints_the_code_with_the_check_and_the_fingerprint(tls_server):
    from library.tls import fingerprint, parse_enrolment_code, short_fingerprint

    proc, _db = tls_server
    env = {k: v for k, v in os.environ.items() if k != "IBC_CONFIG"}
    out = subprocess.run([sys.executable, "-m", "ibc", "--config", str(proc.config), "terminals",
                          "enroll"], capture_output=True, text=True, timeout=60, env=env,
                         check=True)
    fp = fingerprint(proc.cert_pem)
    code = parse_enrolment_code(out.stdout.splitlines()[0])
    assert code.accepts(fp) and short_fingerprint(fp) in out.stdout and fp in out.stdout


# --- PostgreSQL ------------------------------------------------------------------------------------
def test_postgres_sslmode_in_the_url_reaches_psycopg_unchanged():
    """`[database] url = "postgresql://…?sslmode=verify-full&sslrootcert=…"` is how a remote
    database is reached over TLS: the parameters go to psycopg as they are."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from config.settings import load_settings
    from library.storage.database import Database

    url = ("postgresql://ibc:secret@db.school.lan:5432/ibc?sslmode=verify-full"
           "&sslrootcert=/etc/ibc/pg-ca.crt")
    settings = load_settings(environ={"IBC_DATABASE_URL": url})
    db = Database(settings.database.url)  # builds the engine; connects on first use only
    try:
        _args, kwargs = db.engine.dialect.create_connect_args(db.engine.url)
    finally:
        db.dispose()
    assert kwargs["sslmode"] == "verify-full" and kwargs["sslrootcert"] == "/etc/ibc/pg-ca.crt"
    info = conninfo_to_dict(make_conninfo(**{k: v for k, v in kwargs.items() if k != "context"}))
    assert info["sslmode"] == "verify-full" and info["host"] == "db.school.lan"
