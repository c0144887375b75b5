"""Terminal mode without a network: RemoteCirculation over a scripted API client, the flows on
top of it, the terminal.json file."""

from __future__ import annotations

import asyncio
import stat

from kiosk.fakes import FakePrinter
from kiosk.presenters.checkin import ReturnPresenter
from kiosk.presenters.checkout import CheckoutPresenter
from kiosk.terminal import ApiRefused, ServerUnreachable
from kiosk.terminal.circulation import TerminalCirculation
from kiosk.terminal.circulation_port import RemoteCirculation
from kiosk.terminal.credentials import load_terminal, save_terminal
from kiosk.terminal.offline import OfflineQueue


class ScriptedClient:
    """Answers like the server: card C1 plain, CPIN with PIN 4321; books B1, B2."""

    def __init__(self):
        self.session = None
        self.up = True
        self.calls = []

    def _net(self):
        if not self.up:
            raise ServerUnreachable("down")

    def open_session(self, card, pin=None):
        self._net()
        self.calls.append(("session", card, pin))
        if card not in ("C1", "CPIN"):
            raise ApiRefused(422, {"code": "reader_not_found", "params": {"card": card}})
        if card == "CPIN" and pin is None:
            raise ApiRefused(409, {"code": "pin_required"})
        if card == "CPIN" and pin != "4321":
            raise ApiRefused(409, {"code": "wrong_pin"})
        self.session = "s-" + card
        name = {"C1": "Аня", "CPIN": "Оля"}[card]
        return {"session": self.session, "idle_s": 60,
                "reader": {"first_name": name, "initial": "П.", "class_name": "7А",
                           "category": "pupil"}}

    def end_session(self):
        self.calls.append(("end",))
        self.session = None

    def holds(self):
        """GET /holds after the card (the kiosk's «Тебя ждёт книга»): nothing waits here."""
        self._net()
        return []

    def checkout(self, barcode, txn):
        self._net()
        self.calls.append(("checkout", barcode))
        if barcode == "B2":
            raise ApiRefused(409, {"code": "not_for_loan", "params": {"title": "Энциклопедия"}})
        return {"action": "checkout", "txn_id": txn, "loan_id": 7, "barcode": barcode,
                "title": "Война и мир", "authors": "Толстой Л. Н.", "due_date": "2025-03-19",
                "shelf": None, "renewals": 0, "replayed": False}

    def checkin(self, barcode, txn):
        self._net()
        return {"action": "checkin", "txn_id": txn, "loan_id": 7, "barcode": barcode,
                "title": "Война и мир", "authors": "", "due_date": None, "shelf": "84(2Рос)",
                "renewals": 0, "replayed": False}

    def loans(self):
        self._net()
        return [{"loan_id": 7, "barcode": "B1", "title": "Война и мир", "authors": "",
                 "issued": "2025-03-05", "due_date": "2025-03-19", "renewals": 0,
                 "overdue": False}]


def _remote(tmp_path, policy="seen_cards"):
    client = ScriptedClient()
    queue = OfflineQueue(tmp_path / "queue.sqlite3")
    return client, queue, RemoteCirculation(TerminalCirculation("t1", client, queue, policy))


def test_checkout_through_the_api(tmp_path):
    client, queue, remote = _remote(tmp_path)
    p = CheckoutPresenter(remote, FakePrinter())
    assert not p.scan("NOPE").ok and p.state == "card"
    assert p.scan("C1").ok and p.greeting == "Привет, Аня!"
    assert p.scan("B1").ok and "Вернуть до 19 марта" in p.items[0].text
    refused = p.scan("B2")
    assert not refused.ok and "читальном зале" in refused.text
    p.finish()
    assert p.state == "done" and p.receipt.lines[0].title == "Война и мир"
    remote.end_session()
    assert client.calls[-1] == ("end",)
    queue.close()


def test_pin_asked_by_the_server(tmp_path):
    client, queue, remote = _remote(tmp_path)
    p = CheckoutPresenter(remote, FakePrinter())
    p.scan("CPIN")
    assert p.state == "pin"
    for k in "1111":
        p.press_pin(k)
    assert not p.press_pin("ok").ok
    for k in "4321":
        p.press_pin(k)
    assert p.press_pin("ok").ok and p.greeting == "Привет, Оля!" and p.state == "books"
    queue.close()


def test_offline_queue_and_policy(tmp_path):
    client, queue, remote = _remote(tmp_path)
    p = CheckoutPresenter(remote, FakePrinter())
    p.scan("C1")  # seen online: remembered
    p.finish()
    remote.end_session()
    client.up = False
    p.reset()
    assert p.scan("C1").ok and p.greeting == "Привет!"  # offline: no name, but a known card
    out = p.scan("B1")
    assert out.ok and "когда будет связь" in out.text
    assert [op["op"] for op in queue.pending()] == ["checkout"]
    remote.end_session()
    p.reset()
    assert "Нет связи" in p.scan("C9").text  # never seen here: refused offline
    back = ReturnPresenter(remote)
    assert back.scan("B1").ok and "тележку" in back.flash.text
    assert len(queue.pending()) == 2
    queue.close()
    _, queue2, strict = _remote(tmp_path / "b", policy="return_only")
    strict.terminal.client.up = False
    q = CheckoutPresenter(strict, FakePrinter())
    assert "Нет связи" in q.scan("C1").text
    queue2.close()


def test_terminal_file_is_private(tmp_path):
    assert load_terminal(tmp_path) is None
    path = save_terminal(tmp_path, "kiosk-1", "tok", "http://srv:8470")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_terminal(tmp_path)["token"] == "tok"


def test_kiosk_refuses_a_server_url_without_enrolment(tmp_path, capsys):
    from ibc.cli import main

    cfg = tmp_path / "ibc.toml"
    cfg.write_text(f'data_dir = "{tmp_path}"\n\n[server]\nurl = "http://127.0.0.1:9"\n',
                   encoding="utf-8")
    assert main(["--config", str(cfg), "kiosk", "--pin-file", str(tmp_path / "pin")]) == 2
    assert "ibc terminals join" in capsys.readouterr().err


def test_remote_media_maps_the_station_and_refusals(bridged):
    from kiosk.media import MediaUnavailable, RemoteMedia
    from kiosk.presenters.media import MediaPresenter

    class Client:
        def media(self, **params):
            return [{"id": 1, "title": "Фотосинтез", "kind": "video", "duration_s": 754,
                     "subject": "Биология", "class_from": None, "class_to": None, "tags": [],
                     "thumbnail": False}]

        def media_play(self, item_id, projector=False):
            return {"enabled": True, "state": "playing", "media_id": item_id,
                    "title": "Фотосинтез", "index": 0, "count": 1, "position_s": 3.0,
                    "duration_s": 754.0, "volume": 60, "started_by_me": True, "last_error": None,
                    "projector": {"configured": True, "state": "warming", "power": "warming"}}

        def media_control(self, action):
            raise ApiRefused(409, {"code": "station_off", "message": "Медиастанция выключена"})

        def media_station(self):
            raise ServerUnreachable("down")

    p = MediaPresenter(RemoteMedia(Client()))
    p.open("Мария П.")
    assert [i.title for i in p.items] == ["Фотосинтез"] and "сервер" in p.where_note
    assert p.play(projector=True) and p.now.projector == "warming"
    assert "проектор: прогревается" in p.now_detail
    assert not p.stop() and p.message == "Медиастанция выключена"
    p.refresh_status()
    assert "Нет связи с сервером" in p.message
    assert not bridged(p.projector_job("on"), p.projector_done) and "«На проектор»" in p.message
    try:
        asyncio.run(RemoteMedia(Client()).projector("off"))
        raise AssertionError("no projector endpoints on the server")
    except MediaUnavailable:
        pass


def test_cover_fetcher_is_bounded_atomic_and_does_not_ask_twice(tmp_path):
    from kiosk.terminal.catalogue import CoverFetcher

    jpeg = b"\xff\xd8\xff" + bytes(32)

    class Client:
        def __init__(self):
            self.asked = []

        def cover(self, key):
            self.asked.append(key)
            return {"9785389692251": jpeg, "evil": b"<html>not an image</html>"}.get(key)

    client = Client()
    f = CoverFetcher(tmp_path / "covers", client)
    f.want(["9785389692251", "9780000000002", "evil"])
    assert f.fetch_some() == 1
    assert (tmp_path / "covers" / "9785389692251.jpg").read_bytes() == jpeg
    assert not list((tmp_path / "covers").glob(".*"))  # no half-written files left
    assert not (tmp_path / "covers" / "evil.jpg").exists()  # not an image: not kept
    f.want(["9780000000002", "evil"])
    assert f.fetch_some() == 0 and client.asked.count("9780000000002") == 1  # not asked again
    f.want([f"k{i}" for i in range(1000)])
    assert len(f._wanted) == CoverFetcher.MAX_WANTED
    f.fetch_some()
    assert len(client.asked) == 3 + CoverFetcher.PER_ROUND
