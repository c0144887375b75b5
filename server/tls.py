"""The school server's TLS certificate: the school's own (`[server] tls_cert`, `tls_key`) or a
self-signed one made once, at install (`ibc tls create`) or at the first `ibc serve`, in
``<data_dir>/tls/server.crt`` and ``server.key`` (ECDSA P-256, SAN with the host's names and
IPv4 addresses, valid 20 years; the key file mode 0600, owned by whoever runs it — the service
user `ibc`). Terminals pin this exact certificate at enrolment (library/tls.py,
kiosk/terminal/tls.py); replacing it means enrolling the terminals again.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from library.errors import IbcError
from library.tls import fingerprint

if TYPE_CHECKING:
    from config.settings import Settings

CERT_FILE, KEY_FILE = "server.crt", "server.key"
VALID_DAYS = 20 * 365


class TlsError(IbcError):
    """The certificate or key is missing, unreadable or does not fit together."""

    code = "tls_certificate"


@dataclass(frozen=True)
class ServerCertificate:
    """Where the server's certificate and key are, and the certificate's fingerprint."""

    cert: Path
    key: Path
    fingerprint: str
    own: bool  # the school's own (settings) rather than the self-signed one

    @property
    def pem(self) -> str:
        """The certificate as PEM text."""
        return self.cert.read_text(encoding="ascii")


def tls_dir(data_dir: str | Path) -> Path:
    """``<data_dir>/tls``."""
    return Path(data_dir) / "tls"


def host_names() -> tuple[list[str], list[str]]:
    """(DNS names, IPv4 addresses) this host answers to, for the certificate's SAN."""
    names = []
    for name in (socket.gethostname(), socket.getfqdn(), "localhost"):
        if name and name not in names:
            names.append(name)
        short = name.split(".")[0]
        if f"{short}.local" not in names and short != "localhost":
            names.append(f"{short}.local")
    addresses = ["127.0.0.1"]
    try:
        from zeroconf import get_all_addresses

        addresses += [a for a in get_all_addresses() if a not in addresses]
    except Exception:  # noqa: BLE001 - the SAN is informative: terminals pin the certificate
        pass
    return names, addresses


def create_self_signed(cert_path: Path, key_path: Path, *, names: list[str] | None = None,
                       addresses: list[str] | None = None, common_name: str = "ibc-server",
                       days: int = VALID_DAYS) -> str:
    """Write a new self-signed certificate and key (0600); returns the fingerprint."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    if names is None or addresses is None:
        found_names, found_addresses = host_names()
        names = found_names if names is None else names
        addresses = found_addresses if addresses is None else addresses
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ibc-kiosk")])
    now = dt.datetime.now(dt.timezone.utc)
    san: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    san += [x509.IPAddress(ipaddress.ip_address(a)) for a in addresses]
    cert = (x509.CertificateBuilder()
            .subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
    _write(key_path, key_pem, 0o600)
    _write(cert_path, cert_pem, 0o644)
    return fingerprint(cert_pem)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write atomically with `mode` from the first byte (the key is never readable to others)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def locate(settings: Settings, data_dir: str | Path) -> tuple[Path, Path, bool]:
    """(certificate, key, own): the school's files from the settings, else the self-signed pair."""
    cfg = settings.server
    if cfg.tls_cert or cfg.tls_key:
        if not (cfg.tls_cert and cfg.tls_key):
            raise TlsError("[server] tls_cert and tls_key go together: set both or neither")
        return Path(cfg.tls_cert), Path(cfg.tls_key), True
    folder = tls_dir(data_dir)
    return folder / CERT_FILE, folder / KEY_FILE, False


def load(settings: Settings, data_dir: str | Path) -> ServerCertificate | None:
    """The server's certificate when it exists (None for a self-signed one not made yet)."""
    cert, key, own = locate(settings, data_dir)
    if not own and not cert.exists():
        return None
    try:
        pem = cert.read_text(encoding="ascii")
        fp = fingerprint(pem)
    except (OSError, ValueError) as exc:
        raise TlsError(f"cannot read the server certificate {cert}: {exc}") from exc
    if not key.exists():
        raise TlsError(f"the server certificate's key {key} is missing")
    return ServerCertificate(cert, key, fp, own)


def ensure(settings: Settings, data_dir: str | Path, *, replace: bool = False) -> ServerCertificate:
    """The server's certificate, making the self-signed one when there is none (or `replace`)."""
    cert, key, own = locate(settings, data_dir)
    if own and replace:
        raise TlsError("[server] tls_cert is the school's own certificate: replace the files it "
                       "names, not a self-signed one")
    if not own and (replace or not cert.exists()):
        create_self_signed(cert, key, common_name=f"ibc-{settings.school.id}")
    found = load(settings, data_dir)
    if found is None:
        raise TlsError(f"no server certificate at {cert}")
    return found


def check_key(cert: ServerCertificate) -> None:
    """Refuse a key file others may read (a self-signed key is made 0600)."""
    try:
        mode = cert.key.stat().st_mode & 0o077
    except OSError as exc:
        raise TlsError(f"cannot read the key {cert.key}: {exc}") from exc
    if mode & 0o007:
        raise TlsError(f"the key {cert.key} is readable by every user (mode "
                       f"{cert.key.stat().st_mode & 0o777:o}): chmod 600 it")
