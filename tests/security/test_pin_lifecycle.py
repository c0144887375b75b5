"""Attack: PINs that exist only in tests. Nothing in the product set a PIN, so readers had none
(a card alone was enough), or had one a librarian typed into SQL. Now `ibc readers set-pin` /
`clear-pin` (the PIN from a prompt or stdin, never argv) and `POST /session/pin` (a reader
changes their own PIN at a kiosk) — both through one rule in library/circulation/pins.py that
refuses what an attacker tries first. The endpoint is probed without credentials, with the
wrong role, from another terminal and with hostile input: a clear refusal, nothing changed."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from sqlalchemy import select

from library.circulation import errors as E
from library.circulation.pins import PinRules, check_new_pin, is_trivial, verify_pin

V = "/api/v1"


@pytest.mark.parametrize("pin", ["0000", "1111", "1234", "4321", "1212", "9999", "5678", "8765",
                                 "0123", "9876", "8901", "12341234", "123123", "77777777"])
def test_trivial_pins_are_refused(pin):
    assert is_trivial(pin)
    with pytest.raises(E.PinTrivial):
        check_new_pin(pin)


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "١٢٣٤٥", "12 34", "", "-583"])
def test_malformed_pins_are_refused(pin):
    with pytest.raises(E.PinFormat):
        check_new_pin(pin)


def test_length_follows_the_settings():
    assert check_new_pin("583019", PinRules(6, 6)) == "583019"
    with pytest.raises(E.PinFormat):
        check_new_pin("5830", PinRules(6, 8))
    for good in ("5830", "1357", "20481", "90210734"):
        assert check_new_pin(good) == good


def _pin_hash(db, card):
    from library.storage.models import Reader

    with db.session() as s:
        return s.scalar(select(Reader.pin_hash).where(Reader.card_number == card))


# --- the CLI -------------------------------------------------------------------------------------
@pytest.fixture
def cli(tmp_path, monkeypatch):
    """run(*argv, stdin=...) -> (exit code, stdout, stderr) of `ibc` on the small library."""
    from library.storage.database import open_database
    from tests.server.conftest import populate

    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    db = open_database(url)
    populate(db)
    monkeypatch.setenv("IBC_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("", encoding="utf-8")

    def run(*argv, stdin=""):
        from ibc.cli import main

        out, err = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        monkeypatch.setattr(sys, "stdout", out)
        monkeypatch.setattr(sys, "stderr", err)
        code = main(["--db", url, *argv])
        return code, out.getvalue(), err.getvalue()

    yield run, db
    db.dispose()


def test_librarian_sets_and_clears_a_pin(cli):
    run, db = cli
    code, out, _ = run("readers", "set-pin", "C5A", stdin="5830\n")
    assert code == 0 and "установлен" in out and "5830" not in out
    assert verify_pin("5830", _pin_hash(db, "C5A"))
    code, out, _ = run("readers", "clear-pin", "C5A")
    assert code == 0 and "снят" in out and _pin_hash(db, "C5A") is None


@pytest.mark.parametrize(("stdin", "words"), [
    ("1234\n", "легко угадать"), ("0000\n", "легко угадать"), ("12\n", "от 4 до 8 цифр"),
    ("abcd\n", "от 4 до 8 цифр"), ("", "не введён"),
])
def test_the_cli_refuses_bad_pins_in_russian(cli, stdin, words):
    run, db = cli
    for _ in range(2):  # repeated: the same refusal, nothing stored
        code, _, err = run("readers", "set-pin", "C5A", stdin=stdin)
        assert code == 1 and words in err
    assert _pin_hash(db, "C5A") is None


def test_the_cli_refuses_unknown_cards(cli):
    run, _ = cli
    code, _, err = run("readers", "set-pin", "NOPE", stdin="5830\n")
    assert code == 1 and "NOPE" in err
    assert run("readers", "unlock", "NOPE")[0] == 1


def test_no_pin_on_the_command_line():
    """`set-pin` takes no PIN argument (argv is visible in ps and shell history)."""
    r = subprocess.run([sys.executable, "-m", "ibc", "readers", "set-pin", "C5A", "5830"],
                       capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    assert r.returncode == 2 and "unrecognized arguments" in r.stderr


# --- POST /session/pin ---------------------------------------------------------------------------
def _session(client, auth, card, pin=None):
    body = {"card": card} if pin is None else {"card": card, "pin": pin}
    r = client.post(f"{V}/session", json=body, headers=auth)
    assert r.status_code == 200, r.text
    return {**auth, "X-Reader-Session": r.json()["session"]}


def test_a_reader_changes_their_pin(api, enrol):
    client, db = api
    auth = enrol("k1")
    h = _session(client, auth, "CPIN", "4321")
    r = client.post(f"{V}/session/pin", json={"current": "4321", "new": "5830"}, headers=h)
    assert r.status_code == 200 and r.json() == {"pin_set": True}
    assert client.post(f"{V}/session", json={"card": "CPIN", "pin": "4321"}, headers=auth).json()["code"] == "wrong_pin"
    _session(client, auth, "CPIN", "5830")


def test_a_reader_sets_a_first_pin_when_the_policy_allows(api, enrol, settings):
    client, db = api
    auth = enrol("k1")
    h = _session(client, auth, "C5A")
    assert client.post(f"{V}/session/pin", json={"new": "5830"}, headers=h).status_code == 200
    assert client.post(f"{V}/session", json={"card": "C5A"}, headers=auth).json()["code"] == "pin_required"
    settings.circulation.pin_self_set = False
    h = _session(client, auth, "C1B")
    r = client.post(f"{V}/session/pin", json={"new": "5830"}, headers=h)
    assert r.status_code == 409 and r.json()["code"] == "pin_self_set_off"
    assert _pin_hash(db, "C1B") is None


def test_without_credentials_or_with_the_wrong_ones(api, enrol):
    from server.security import create_librarian_token

    client, db = api
    k1, k2 = enrol("k1"), enrol("k2")
    h = _session(client, k1, "CPIN", "4321")
    body = {"current": "4321", "new": "5830"}
    librarian = {"Authorization": f"Bearer {create_librarian_token(db, 'ivanova')}"}
    for headers, code in [
        ({}, "no_token"),
        ({"X-Reader-Session": h["X-Reader-Session"]}, "no_token"),
        (k1, "no_session"),  # a terminal without a reader session
        ({**librarian, "X-Reader-Session": h["X-Reader-Session"]}, "bad_token"),  # wrong role
        ({**k2, "X-Reader-Session": h["X-Reader-Session"]}, "bad_session"),  # another terminal
        ({**k1, "X-Reader-Session": "forged"}, "bad_session"),
    ]:
        r = client.post(f"{V}/session/pin", json=body, headers=headers)
        assert r.status_code == 401 and r.json()["code"] == code, (headers, r.text)
    assert verify_pin("4321", _pin_hash(db, "CPIN"))


@pytest.mark.parametrize("body", [
    {"current": "4321", "new": "5830", "reader": "C5A"},  # unknown field
    {"current": "4321", "new": "5" * 10_000},
    {"current": "4321" * 100, "new": "5830"},
    {"current": "4321"},
    {"current": 4321, "new": ["5830"]},
    {"current": "4321", "new": "١٢٣٤٥"},  # Arabic-Indic digits
    {"current": "4321", "new": "58\x0030"},
    {"current": "4321", "new": "' OR 1=1 --"},
    {"current": "4321", "new": "1234"},  # trivial
])
def test_hostile_input(api, enrol, body):
    client, db = api
    h = _session(client, enrol("k1"), "CPIN", "4321")
    for _ in range(2):
        r = client.post(f"{V}/session/pin", json=body, headers=h)
        assert r.status_code == 422, r.text
        assert r.json()["code"] in ("invalid_request", "pin_format", "pin_trivial")
    assert verify_pin("4321", _pin_hash(db, "CPIN"))
    raw = client.post(f"{V}/session/pin", content=b"\xff\xfe{", headers={**h, "Content-Type": "application/json"})
    assert raw.status_code in (400, 422) and raw.json()["code"] == "invalid_request"
    assert verify_pin("4321", _pin_hash(db, "CPIN"))


def test_wrong_current_pins_lock_the_card(api, enrol):
    """The change endpoint is no side door for guessing: wrong current PINs count as guesses."""
    client, db = api
    auth = enrol("k1")
    h = _session(client, auth, "CPIN", "4321")
    missing = client.post(f"{V}/session/pin", json={"new": "5830"}, headers=h)
    assert missing.status_code == 409 and missing.json()["code"] == "pin_required"
    codes = [client.post(f"{V}/session/pin", json={"current": f"90{i:02d}", "new": "5830"},
                         headers=h).json()["code"] for i in range(7)]
    assert codes == ["wrong_pin"] * 5 + ["card_locked"] * 2
    r = client.post(f"{V}/session/pin", json={"current": "4321", "new": "5830"}, headers=h)
    assert r.status_code == 429 and r.json()["code"] == "card_locked"
    assert verify_pin("4321", _pin_hash(db, "CPIN"))
