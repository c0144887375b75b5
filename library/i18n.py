"""Translations of the domain core's user-facing messages (gettext, English msgids).

Catalogues: library/locale/<lang>/LC_MESSAGES/ibc.po, compiled to .mo with `msgfmt`
(scripts/compile-translations); tests check every message has a Russian translation and the
.mo is current.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
DOMAIN = "ibc"


@lru_cache(maxsize=8)
def translator(language: str) -> Callable[[str], str]:
    """gettext for `language` ("ru", "en"); English is the msgid itself."""
    if language == "en":
        return lambda msg: msg
    tr = gettext.translation(DOMAIN, LOCALE_DIR, languages=[language], fallback=True)
    return tr.gettext
