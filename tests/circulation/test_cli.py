"""A librarian's day from the CLI on the demo library."""

import json

import pytest

from ibc.cli import main


@pytest.fixture
def demo_db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    monkeypatch.setenv("IBC_DATABASE_URL", url)
    monkeypatch.setenv("IBC_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")
    assert main(["demo"]) == 0
    return url


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_demo_is_idempotent(demo_db, capsys):
    capsys.readouterr()
    code, out, _ = run(capsys, "demo", "--json")
    assert code == 0 and json.loads(out) == {"records": 0, "copies": 0, "readers": 0, "media": 0,
                                      "loans": 0, "places": 0}


def test_a_day_of_circulation(demo_db, capsys):
    from library.demo.loader import catalogue, copy_barcode

    data = catalogue()
    teacher = next(r["card"] for r in data["readers"] if r["category"] == "teacher")
    barcode = copy_barcode(1)
    code, out, _ = run(capsys, "checkout", "--reader", teacher, "--item", barcode, "--txn", "t1", "--json")
    first = json.loads(out)
    assert code == 0 and first["ok"] and first["title"] == data["titles"][0]["title"]
    code, out, _ = run(capsys, "checkout", "--reader", teacher, "--item", barcode, "--txn", "t1", "--json")
    assert json.loads(out)["loan_id"] == first["loan_id"] and json.loads(out)["replayed"]
    code, out, _ = run(capsys, "loans", "--reader", teacher, "--json")
    assert [x["barcode"] for x in json.loads(out)] == [barcode]
    code, out, _ = run(capsys, "renew", "--reader", teacher, "--item", barcode)
    assert code == 0 and out.startswith("Продлено:")
    code, out, _ = run(capsys, "checkin", "--item", barcode)
    assert code == 0 and out.startswith("Принято:")
    code, out, _ = run(capsys, "overdue", "--json")
    assert json.loads(out) == []


def test_refusals_are_one_clear_line(demo_db, capsys):
    code, out, err = run(capsys, "checkout", "--reader", "0000", "--item", "1")
    assert code == 1 and err.strip() == "ibc: Читательский билет 0000 не найден"
    assert "Traceback" not in err


def test_english_messages(demo_db, capsys, monkeypatch):
    monkeypatch.setenv("IBC_LANGUAGE", "en")
    code, _, err = run(capsys, "checkin", "--item", "nope")
    assert code == 1 and err.strip() == "ibc: Barcode nope is not in the catalogue"


def test_every_message_translated():
    import shutil
    import subprocess
    from pathlib import Path

    from library.circulation import errors as E
    from library.i18n import LOCALE_DIR, translator

    tr = translator("ru")
    for cls in [E.CirculationError, *E.ERRORS.values()]:
        assert tr(cls.template) != cls.template, cls.template
    if shutil.which("msgfmt"):
        po = LOCALE_DIR / "ru" / "LC_MESSAGES" / "ibc.po"
        fresh = subprocess.run(["msgfmt", "-o", "-", str(po)], capture_output=True, check=True).stdout
        assert fresh == Path(po.with_suffix(".mo")).read_bytes(), "run scripts/compile-translations"


def test_demo_records_carry_a_change_version(demo_db):
    from sqlalchemy import func, select

    from library.storage import Copy, Record
    from library.storage.database import Database

    db = Database(demo_db)
    with db.session() as s:
        assert s.scalar(select(func.min(Record.version))) >= 1
        assert s.scalar(select(func.min(Copy.version))) >= 1
    db.dispose()
