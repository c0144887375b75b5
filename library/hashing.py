"""Salted scrypt hashes of secrets (reader PINs, desk passwords), stdlib only.

A hash describes itself: ``scrypt$ln=15,r=8,p=1$<salt base64>$<digest base64>`` (``ln`` is
log2 of N), so the cost can be raised later without breaking stored hashes. The older PIN form
``scrypt$`` + base64(salt16 + digest32) (N=2**14, r=8, p=1) keeps verifying. A damaged or
unknown hash matches nothing; comparisons are constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re

_SELF = re.compile(r"^scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")
_LEGACY = (14, 8, 1)


def _scrypt(secret: str, salt: bytes, log_n: int, r: int, p: int, length: int) -> bytes:
    # scrypt needs 128 * r * N bytes; allow twice that (the stdlib default cap is 32 MiB).
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=2**log_n, r=r, p=p, dklen=length,
                          maxmem=256 * r * 2**log_n + 1024 * 1024)


def hash_secret(secret: str, *, log_n: int = 15, r: int = 8, p: int = 1) -> str:
    """A new self-describing salted scrypt hash of `secret`."""
    salt = os.urandom(16)
    digest = _scrypt(secret, salt, log_n, r, p, 32)
    b64 = base64.b64encode
    return f"scrypt$ln={log_n},r={r},p={p}${b64(salt).decode()}${b64(digest).decode()}"


def verify_secret(secret: str, stored: str) -> bool:
    """True when `secret` matches `stored` (either form); False for anything damaged."""
    try:
        m = _SELF.match(stored)
        if m is not None:
            log_n, r, p = int(m[1]), int(m[2]), int(m[3])
            salt, digest = base64.b64decode(m[4], validate=True), base64.b64decode(m[5], validate=True)
            if not (10 <= log_n <= 20 and 1 <= r <= 16 and 1 <= p <= 4):
                return False
        elif stored.startswith("scrypt$"):
            raw = base64.b64decode(stored[7:], validate=True)
            (log_n, r, p), salt, digest = _LEGACY, raw[:16], raw[16:]
        else:
            return False
    except (binascii.Error, ValueError):
        return False
    if len(salt) != 16 or not digest or len(digest) > 64:
        return False
    return hmac.compare_digest(_scrypt(secret, salt, log_n, r, p, len(digest)), digest)
