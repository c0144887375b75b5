"""`ibc holds …` and the hold notice of `ibc checkin` on the demo library (exit codes, --json)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from ibc.cli import main
from tests.circulation.test_cli import demo_db, run  # noqa: F401  (the fixture)


def _setup(demo_url: str):
    """The demo's «Басни» (one copy), a teacher to borrow it, two pupils to queue."""
    from sqlalchemy import select

    from library.demo.loader import catalogue
    from library.storage import Copy, Record
    from library.storage.database import open_database

    db = open_database(demo_url)
    with db.session() as s:
        rec_id, barcode = s.execute(select(Record.id, Copy.barcode).join(Copy)
                                    .where(Record.title == "Басни")).one()
    db.dispose()
    readers = catalogue()["readers"]
    teacher = next(r["card"] for r in readers if r["category"] == "teacher")
    pupils = [r for r in readers if r["category"] == "pupil"][:2]
    return rec_id, barcode, teacher, pupils


def test_holds_from_the_command_line(demo_db, capsys):  # noqa: F811
    rec_id, barcode, teacher, (p1, p2) = _setup(demo_db)
    assert run(capsys, "checkout", "--reader", teacher, "--item", barcode)[0] == 0
    code, out, _ = run(capsys, "holds", "place", p1["card"], str(rec_id), "--txn", "h1", "--json")
    first = json.loads(out)
    assert code == 0 and first["ok"] and first["state"] == "queued" and first["position"] == 1
    code, out, _ = run(capsys, "holds", "place", p1["card"], str(rec_id), "--txn", "h1", "--json")
    assert code == 0 and json.loads(out)["hold_id"] == first["hold_id"] and json.loads(out)["replayed"]
    code, out, err = run(capsys, "holds", "place", p1["card"], str(rec_id))
    assert code == 1 and err.strip() == "ibc holds: Ты уже в очереди за этой книгой"
    code, out, _ = run(capsys, "holds", "place", p1["card"], "999999", "--json")
    assert code == 1 and json.loads(out)["code"] == "record_not_found"
    with pytest.raises(SystemExit) as bad:
        main(["holds", "place", p1["card"], "not-a-number"])
    assert bad.value.code == 2
    code, out, _ = run(capsys, "holds", "place", p2["card"], str(rec_id))
    assert code == 0 and out.startswith("Заказ принят: № ") and "в очереди 2-й" in out

    code, out, _ = run(capsys, "holds", "list", "--json")
    listed = json.loads(out)
    assert [(h["card"], h["position"]) for h in listed] == [(p1["card"], 1), (p2["card"], 2)]
    code, out, _ = run(capsys, "holds", "list", "--card", p2["card"])
    assert code == 0 and "«Басни» — в очереди 2-й" in out
    code, out, err = run(capsys, "holds", "list", "--card", "0000")
    assert code == 1 and "0000" in err

    code, out, _ = run(capsys, "checkin", "--item", barcode)
    name = f"{p1['first_name']} {p1['last_name'][0]}., {p1['class_name']}"
    until = json.loads(run(capsys, "holds", "shelf", "--json")[1])["waiting"][0]["pickup_until"]
    assert code == 0 and out.splitlines()[1] == \
        f"Отложите для: {name} — до {dt.date.fromisoformat(until):%d.%m}"
    code, out, _ = run(capsys, "holds", "shelf")
    assert code == 0 and name in out and "На полке заказов: 1; снять сегодня: 0" in out

    code, out, _ = run(capsys, "holds", "cancel", str(first["hold_id"]))
    assert code == 0 and out.startswith("Заказ отменён:")
    code, out, err = run(capsys, "holds", "cancel", str(first["hold_id"]), "--json")
    assert code == 1 and json.loads(out)["code"] == "hold_closed"
    code, out, _ = run(capsys, "holds", "list", "--card", p2["card"], "--json")
    assert [h["state"] for h in json.loads(out)] == ["waiting"]  # the copy passed to the second

    code, out, _ = run(capsys, "holds", "expire", "--json")
    report = json.loads(out)
    assert code == 0 and report["expired_waiting"] == [] and report["passed_on"] == []
    code, out, _ = run(capsys, "holds", "expire")
    assert code == 0 and out.startswith("Истекло невостребованных: 0")
    code, out, _ = run(capsys, "anonymise")
    assert code == 0 and "anonymised 0 closed holds" in out
