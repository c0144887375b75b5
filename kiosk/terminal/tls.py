"""The terminal's side of TLS: trust only the school server's certificate stored at enrolment.

``ibc terminals join`` fetches the server's certificate (`fetch_certificate`), checks it against
the enrolment code (library/tls.py) and stores its PEM in terminal.json; from then on the API
client connects through `pinned_context(pem)`: the stored certificate is the only trust anchor
(partial chains allowed, so a school's CA-issued certificate is pinned as itself), host names are
not checked (the URL may be an IP address or a zeroconf name) and neither are dates (a terminal
without a clock battery may boot in the past; the pin is the trust, re-enrolment replaces it).
"""

from __future__ import annotations

import socket
import ssl
from urllib.parse import urlsplit

from library.errors import IbcError

# OpenSSL's X509_V_FLAG_NO_CHECK_TIME (not exported by the ssl module).
_NO_CHECK_TIME = 0x200000


class CertificateFetchError(IbcError):
    """The server's certificate could not be read (no TLS there, or unreachable)."""

    code = "server_certificate_unreadable"


def pinned_context(pem: str) -> ssl.SSLContext:
    """An SSL context that accepts the server whose certificate is `pem` and nothing else."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=pem)
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | _NO_CHECK_TIME
    return ctx


def host_port(url: str, default_port: int = 8470) -> tuple[str, int]:
    """(host, port) of a server URL."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    return parts.hostname or "", parts.port or default_port


def fetch_certificate(url: str, timeout: float = 10.0) -> str:
    """The PEM certificate the server at `url` shows (not verified: the caller checks it against
    the enrolment code). Nothing is sent but the TLS handshake."""
    host, port = host_port(url)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock, \
                ctx.wrap_socket(sock, server_hostname=host or None) as tls:
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise CertificateFetchError(f"no TLS certificate from {host}:{port}: {exc}") from exc
    if not der:
        raise CertificateFetchError(f"{host}:{port} showed no certificate")
    return ssl.DER_cert_to_PEM_cert(der)
