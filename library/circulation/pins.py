"""Reader PINs stored as salted scrypt hashes (stdlib hashlib)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

_N, _R, _P = 2**14, 8, 1


def hash_pin(pin: str) -> str:
    """A salted scrypt hash of `pin` for storage."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return "scrypt$" + base64.b64encode(salt + digest).decode()


def verify_pin(pin: str, stored: str) -> bool:
    """True when `pin` matches a hash made by hash_pin."""
    if not stored.startswith("scrypt$"):
        return False
    raw = base64.b64decode(stored[7:])
    salt, digest = raw[:16], raw[16:]
    probe = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return hmac.compare_digest(probe, digest)
