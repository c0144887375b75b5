"""Reader cards PDF: page count, Cyrillic text layer, decodable Code 128 and QR, CLI selection."""

import os
import shutil
import subprocess

import pytest

from ibc.cli import main
from library.circulation.cards import render_cards
from library.storage import Reader

NAMES = [("Петрова", "Анна"), ("Константинопольская", "Александра"), ("Ли", "Ян"), ("Ёлкин", "Фёдор")]


def readers(n: int) -> list[dict]:
    return [{"card_number": f"{3000 + i}", "last_name": NAMES[i % 4][0], "first_name": NAMES[i % 4][1],
             "class_name": "5А"} for i in range(n)]


def need(tool: str) -> None:
    """Skip without a poppler tool, except under CI where it must be there."""
    if shutil.which(tool) is None and os.environ.get("CI") != "true":
        pytest.skip(f"{tool} (poppler-utils) is not installed; CI installs it")


def pdf_text(path) -> str:
    need("pdftotext")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


@pytest.mark.parametrize(("n", "pages"), [(1, 1), (10, 1), (11, 2), (23, 3)])
def test_page_count(tmp_path, n, pages):
    out = tmp_path / "cards.pdf"
    assert render_cards(readers(n), out, school_name="Школа № 1") == pages
    assert out.read_bytes().startswith(b"%PDF")
    assert pdf_text(out).count("\f") == pages


def test_text_layer_has_cyrillic(tmp_path):
    out = tmp_path / "cards.pdf"
    render_cards(readers(4) + [{"card_number": "T1", "last_name": "Иванова", "first_name": "Мария",
                                "category": "teacher"}], out, school_name="МБОУ «СОШ № 12»")
    text = pdf_text(out)
    for last, first in NAMES:
        assert last in text and first in text
    assert "МБОУ «СОШ № 12»" in text and "Класс: 5А" in text and "Учитель" in text


def test_barcodes_decode(tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp is in the dev extra")
    from PIL import Image

    need("pdftoppm")
    out = tmp_path / "cards.pdf"
    people = readers(10)
    people[3]["card_number"] = "R-0042"
    people[7]["card_number"] = "П-7"  # Cyrillic: QR only, no Code 128 that would scan as "-7"
    render_cards(people, out, school_name="Школа № 1")
    subprocess.run(["pdftoppm", "-r", "200", "-png", "-f", "1", "-l", "1", str(out), str(tmp_path / "p")],
                   check=True)
    png = next(tmp_path.glob("p*.png"))
    with Image.open(png) as im:
        found = [(r.format.name, r.text) for r in zxingcpp.read_barcodes(im)]
    cards = sorted(p["card_number"] for p in people)
    assert sorted(t for f, t in found if "128" in f) == [c for c in cards if c != "П-7"]
    assert sorted(t for f, t in found if f == "QRCode") == cards


def test_empty_selection_is_an_error(tmp_path):
    with pytest.raises(ValueError):
        render_cards([], tmp_path / "x.pdf", school_name="Школа")


def test_cli_prints_only_the_selection(db_url, db, tmp_path, monkeypatch, capsys):
    (tmp_path / "none.toml").write_text('[school]\nname = "Гимназия № 5"\n', encoding="utf-8")
    monkeypatch.setenv("IBC_CONFIG", str(tmp_path / "none.toml"))
    with db.transaction() as s:
        s.add_all([Reader(card_number="A1", last_name="Петрова", first_name="Анна", class_name="5А"),
                   Reader(card_number="A2", last_name="Сидоров", first_name="Иван", class_name="5А"),
                   Reader(card_number="B1", last_name="Орлова", first_name="Вера", class_name="6Б"),
                   Reader(card_number="T1", last_name="Иванова", first_name="Мария", category="teacher")])
    out = tmp_path / "c.pdf"
    assert main(["--db", db_url, "cards", "--class", "5 а", "--card", "T1", "-o", str(out)]) == 0
    assert "Билетов: 3" in capsys.readouterr().out
    text = pdf_text(out)
    assert all(x in text for x in ("Петрова", "Сидоров", "Иванова", "Гимназия № 5"))
    assert "Орлова" not in text
    assert main(["--db", db_url, "cards", "--class", "9Я", "-o", str(out)]) == 1
    assert "класс «9Я» не найден" in capsys.readouterr().err
    assert main(["--db", db_url, "cards", "--card", "NOPE", "-o", str(out)]) == 1
    assert "NOPE" in capsys.readouterr().err
    assert main(["--db", db_url, "cards", "-o", str(out)]) == 1
