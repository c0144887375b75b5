"""PDF helpers shared by receipts, reader cards and reports (reportlab)."""

from __future__ import annotations

from pathlib import Path

_FONT = "IbcSans"
_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
]


def font_path() -> Path:
    """A TTF with Cyrillic: Debian's DejaVu, else the copy matplotlib ships."""
    for cand in _CANDIDATES:
        if Path(cand).is_file():
            return Path(cand)
    try:
        import matplotlib

        bundled = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
        if bundled.is_file():
            return bundled
    except ImportError:
        pass
    raise FileNotFoundError("no Cyrillic TTF font: install fonts-dejavu-core")


def cyrillic_font() -> str:
    """Register (once) and return the name of a reportlab font that renders Cyrillic."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if _FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(_FONT, str(font_path())))
    return _FONT
