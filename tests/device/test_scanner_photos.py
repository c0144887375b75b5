"""The real-photo test: the still-image pipeline against pyzbar alone and zxing-cpp alone.

Every image of ../shared/testdata/barcodes (zxing's black-box photos) is decoded three ways. Per
format the pipeline must detect at least as many as the better single decoder, and no decoder
path may report a wrong value (a value of the expected format that is not the expected text).

ean13-2/13, 19, 23 and 28 photograph a Japanese book whose cover carries two real EAN-13s, the
ISBN 9784872348880 and the price code 1920081045006; upstream's .txt names one of them per image.
Reading the other one is a correct read of a code in the picture, not a wrong value.
ean13-5 is deliberately blurred: upstream expects no decode, misses are expected there.
"""

from __future__ import annotations

import csv
from collections import Counter

import pytest

cv2 = pytest.importorskip("cv2")
zxingcpp = pytest.importorskip("zxingcpp")
pyzbar = pytest.importorskip("pyzbar.pyzbar", reason="pyzbar needs the Debian package libzbar0")

from device.scanner.decode import decode_frame  # noqa: E402

pytestmark = pytest.mark.shared

FORMATS = {"Code 128": "CODE128", "Code 39": "CODE39", "EAN-13": "EAN13",
           "EAN-13 (+5-digit add-on)": "EAN13", "QR Code": "QR"}
ZXING = {"EAN-13": "EAN13", "UPC-A": "EAN13", "Code 128": "CODE128", "Code 39": "CODE39",
         "QR Code": "QR"}
ZBAR = {"EAN13": "EAN13", "UPCA": "EAN13", "CODE128": "CODE128", "CODE39": "CODE39",
        "QRCODE": "QR"}
JAPANESE_BOOK = {"9784872348880", "1920081045006"}
ALSO_IN_PICTURE = {f"ean13-2/{n}.png": JAPANESE_BOOK for n in ("13", "19", "23", "28")}


def norm(fmt: str, value: str) -> str:
    """Newlines as in upstream's .txt; UPC-A as its EAN-13 form."""
    value = value.replace("\r\n", "\n")
    if fmt == "EAN13" and len(value) == 12 and value.isdigit():
        value = "0" + value
    return value


def read_pyzbar(image):
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return [(ZBAR.get(d.type, d.type), d.data.decode("utf-8", "replace"))
            for d in pyzbar.decode(gray)]


def read_zxing(image):
    return [(ZXING.get(str(r.format), str(r.format)), r.text) for r in zxingcpp.read_barcodes(image)]


def read_pipeline(image):
    return [("EAN13" if b.format.value == "UPCA" else b.format.value, b.value)
            for b in decode_frame(image)]


@pytest.fixture(scope="module")
def photo_results(shared_testdata):
    folder = shared_testdata / "barcodes"
    with open(folder / "INDEX.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 70, "INDEX.csv lists the 79 test photos"
    detected = {name: Counter() for name in ("pyzbar", "zxing", "pipeline")}
    wrong = {name: [] for name in detected}
    totals = Counter()
    for row in rows:
        fmt = FORMATS[row["format"]]
        expected = (folder / row["expected_value_file"]).read_text(encoding="utf-8")
        expected = expected.replace("\r\n", "\n")
        image = cv2.imread(str(folder / row["path"]), cv2.IMREAD_COLOR)
        assert image is not None, row["path"]
        totals[fmt] += 1
        allowed = {expected} | ALSO_IN_PICTURE.get(row["path"], set())
        for name, reader in (("pyzbar", read_pyzbar), ("zxing", read_zxing),
                             ("pipeline", read_pipeline)):
            values = {norm(f, v) for f, v in reader(image) if f == fmt}
            detected[name][fmt] += expected in values
            wrong[name].extend((row["path"], v) for v in values - allowed)
    return totals, detected, wrong


def table(totals, detected, wrong) -> str:
    lines = [f"{'format':8} {'images':>6} {'pyzbar':>7} {'zxing':>6} {'pipeline':>9}"]
    for fmt in sorted(totals):
        lines.append(f"{fmt:8} {totals[fmt]:6} {detected['pyzbar'][fmt]:7} "
                     f"{detected['zxing'][fmt]:6} {detected['pipeline'][fmt]:9}")
    lines.append("wrong: " + ", ".join(f"{k}={len(v)}" for k, v in wrong.items()))
    return "\n".join(lines)


def test_pipeline_detects_at_least_the_better_decoder_per_format(photo_results):
    totals, detected, wrong = photo_results
    print("\n" + table(totals, detected, wrong))
    for fmt in totals:
        best = max(detected["pyzbar"][fmt], detected["zxing"][fmt])
        assert detected["pipeline"][fmt] >= best, table(totals, detected, wrong)


def test_pipeline_reports_no_wrong_values(photo_results):
    _, _, wrong = photo_results
    assert wrong["pipeline"] == []


def test_blurred_set_is_not_misread(shared_testdata):
    for path in sorted((shared_testdata / "barcodes" / "ean13-5").glob("*.png")):
        expected = path.with_suffix(".txt").read_text(encoding="utf-8")
        codes = decode_frame(cv2.imread(str(path)))
        assert all(c.value == expected for c in codes), (path.name, codes)


def test_isbn_with_price_addon(shared_testdata):
    path = shared_testdata / "barcodes" / "upcean-extension-1" / "1.png"
    (code,) = decode_frame(cv2.imread(str(path)), ["ean13"])
    assert code.value == "9780735200449" and code.is_isbn
    assert code.addon == "51299"  # SUGGESTED_PRICE=$12.99 in the metadata
