"""The school server's certificate as terminals pin it: the fingerprint format and the enrolment
code's check, defined once for the server (server/tls.py makes the certificate, `ibc terminals
enroll` prints the code) and the terminals (`ibc terminals join`, kiosk/terminal/api.py).

* **Fingerprint**: SHA-256 of the certificate's DER bytes, upper-case hex in colon pairs
  (``AB:CD:…``, 32 pairs) — what ``openssl x509 -noout -fingerprint -sha256`` prints, so a
  technician can check it with other tools.
* **Short fingerprint**: the first 8 base32 characters of the same digest, as ``ABCD-EFGH``: what
  a person compares between the server's screen and the terminal's.
* **Enrolment code**: the server's one-time secret (``1A2B-3C4D-5E6F``, only its hash is stored)
  followed by a check of the certificate (``-K7QF-2MXA``): the first 8 base32 characters of
  HMAC-SHA256(key = the secret, message = the certificate's digest). The terminal checks the
  certificate it was shown against the check *before* it sends anything, and sends the secret
  only. A man in the middle cannot make a certificate that passes without knowing the secret,
  which he never sees (unlike a bare fingerprint prefix, which anyone who reads the server's
  real certificate could try to match offline).

Stdlib only (hashlib, hmac, base64, ssl's PEM helpers): no HTTP and no crypto library here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import ssl
from dataclasses import dataclass

from library.errors import IbcError

SECRET_GROUPS = 3  # 4 hex digits each: the server's one-time secret
CHECK_CHARS = 8  # base32 characters of the certificate check (40 bits)
_GROUP = re.compile(r"[0-9A-Z]+")


class EnrolCodeError(IbcError):
    """An enrolment code that cannot be read (wrong length or characters)."""

    code = "bad_enrol_code_format"


def der_of(cert: str | bytes) -> bytes:
    """The DER bytes of a certificate given as PEM text or DER bytes."""
    if isinstance(cert, str):
        return ssl.PEM_cert_to_DER_cert(cert.strip() + "\n")
    if cert.lstrip().startswith(b"-----BEGIN"):
        return ssl.PEM_cert_to_DER_cert(cert.decode("ascii").strip() + "\n")
    return cert


def fingerprint(cert: str | bytes) -> str:
    """The SHA-256 fingerprint, ``AB:CD:…`` (as openssl prints it)."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der_of(cert)).digest())


def _digest(fp: str) -> bytes:
    return bytes.fromhex(fp.replace(":", ""))


def short_fingerprint(fp: str) -> str:
    """The human form of a fingerprint: the first 8 base32 characters, ``ABCD-EFGH``."""
    text = base64.b32encode(_digest(fp)).decode("ascii")[:8]
    return f"{text[:4]}-{text[4:]}"


def certificate_check(secret: str, fp: str) -> str:
    """The check an enrolment code carries for the certificate with fingerprint `fp`."""
    mac = hmac.new(normalise_secret(secret).encode("ascii"), _digest(fp), hashlib.sha256).digest()
    text = base64.b32encode(mac).decode("ascii")[:CHECK_CHARS]
    return f"{text[:4]}-{text[4:]}"


def normalise_secret(secret: str) -> str:
    """``1a2b 3c4d-5e6f`` → ``1A2B-3C4D-5E6F``."""
    groups = _GROUP.findall(secret.upper())
    return "-".join(groups)


def enrolment_code(secret: str, fp: str | None) -> str:
    """The code a technician types: the secret, then the certificate check (when TLS is on)."""
    secret = normalise_secret(secret)
    return secret if fp is None else f"{secret}-{certificate_check(secret, fp)}"


@dataclass(frozen=True)
class EnrolmentCode:
    """A typed enrolment code: the secret the server knows, the certificate check (or None)."""

    secret: str
    check: str | None

    def accepts(self, fp: str) -> bool:
        """True when the certificate with fingerprint `fp` is the one the code was made for."""
        if self.check is None:
            return False
        return hmac.compare_digest(certificate_check(self.secret, fp), self.check)


def parse_enrolment_code(text: str) -> EnrolmentCode:
    """Read a typed code: 3 groups (no TLS) or 5 groups (secret + certificate check); case,
    spaces and dashes are forgiven."""
    groups = _GROUP.findall(text.upper())
    joined = "".join(groups)
    secret_len = 4 * SECRET_GROUPS
    if len(joined) not in (secret_len, secret_len + CHECK_CHARS) or not re.fullmatch(
            r"[0-9A-F]{%d}" % secret_len, joined[:secret_len]):
        raise EnrolCodeError(f"an enrolment code is {SECRET_GROUPS} groups of 4 characters, "
                             f"or 5 with the certificate check: {text!r}")
    secret = "-".join(joined[i:i + 4] for i in range(0, secret_len, 4))
    rest = joined[secret_len:]
    if rest and not re.fullmatch(r"[A-Z2-7]+", rest):
        raise EnrolCodeError(f"the certificate check has letters A-Z and digits 2-7 only: {text!r}")
    return EnrolmentCode(secret, f"{rest[:4]}-{rest[4:]}" if rest else None)
