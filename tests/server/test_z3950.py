"""The Z39.50 front (library/marc/zebra.py, `ibc z3950`): the public catalogue built into a Zebra
register and served by Debian's zebrasrv, searched by YAZ's own yaz-client (an independent
Z39.50 client) on SQLite and PostgreSQL; the records it shows read back with pymarc."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pymarc
import pytest

from tests.server.conftest import populate

TOOLS = ("zebraidx", "zebrasrv", "yaz-client")
READERS = ("C5A", "C1B", "CPIN", "CBLK", "Петрова", "Сидоров", "Иванова", "Орлова", "Орлов",
           "Аня", "Ваня", "Оля", "Петя")


@pytest.fixture(autouse=True)
def _zebra_installed():
    """Skip with a reason off CI when Debian's Zebra/YAZ are absent; under CI that fails."""
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing: install.sh dev installs idzebra-2.0 yaz")
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install idzebra-2.0 yaz)")


def _fill(db) -> None:
    """The server fixture's library (three Толстой records, readers, media) plus a RUSMARC record
    with an ISBN-10 and two schools' copies, a stored MARC21 record whose local fields and
    acquisition/action notes carry readers' names, a deleted record and a teachers-only media
    record."""
    from library.marc.iso2709 import encode_record
    from library.marc.model import ControlField, DataField, MarcRecord
    from library.search import reindex_all
    from library.storage.models import Copy, MediaItem, Record, School

    populate(db)
    rus = MarcRecord("00000nam0a2200000 i 450 ", [
        ControlField("001", "ru-chess"),
        DataField("010", " ", " ", [("a", "5-17-015240-X")]),
        DataField("200", "1", " ", [("a", "Шахматы для всех"), ("f", "Анатолий Карпов")]),
        DataField("210", " ", " ", [("a", "Москва"), ("c", "АСТ"), ("d", "1995")]),
        DataField("606", " ", " ", [("a", "Шахматы")]),
        DataField("700", " ", "1", [("a", "Карпов"), ("g", "Анатолий Евгеньевич")]),
        DataField("910", " ", " ", [("a", "1"), ("b", "77"), ("!", "Петрова Аня C5A")]),
    ])
    m21 = MarcRecord("00000nam a2200000 i 4500", [
        ControlField("001", "en-chess"),
        DataField("020", " ", " ", [("a", "9780140449136")]),
        DataField("100", "1", " ", [("a", "Fischer, Bobby")]),
        DataField("245", "1", "0", [("a", "Chess for kids and parents")]),
        DataField("260", " ", " ", [("a", "New York"), ("b", "Bantam"), ("c", "2005")]),
        DataField("500", " ", " ", [("a", "A note only the MARC keeps")]),
        DataField("541", "1", " ", [("a", "Дар: Орлова Оля, 9В")]),
        DataField("583", " ", " ", [("a", "проверено"), ("k", "Петя Орлов")]),
        DataField("590", " ", " ", [("a", "Локальное примечание: CPIN")]),
        DataField("650", " ", "0", [("a", "Chess")]),
        DataField("952", " ", " ", [("a", "ШК2"), ("p", "9004"), ("q", "2026-12-01"),
                                    ("z", "на руках: Сидоров Ваня C1B")]),
        DataField("990", " ", " ", [("a", "Иванова Мария каталогизировала")]),
    ])
    with db.transaction() as s:
        s.add_all([School(sigla="ШК1", name="Школа №1"), School(sigla="ШК2", name="Школа №2")])
        chess = Record(key="ru-chess", source_format="rusmarc", title="Шахматы для всех",
                       responsibility="Анатолий Карпов", authors=["Карпов, Анатолий Евгеньевич"],
                       publisher="АСТ", place="Москва", year=1995, isbn="5-17-015240-X",
                       isbns=["5-17-015240-X"], subjects=["Шахматы"],
                       marc=encode_record(rus, "utf-8"), marc_encoding="utf-8", version=1)
        chess.copies = [Copy(sigla="ШК1", barcode="9001", status="available", version=1),
                        Copy(sigla="ШК1", barcode="9002", status="on_loan", version=1),
                        Copy(sigla="ШК2", barcode="9003", status="available", version=1)]
        s.add(chess)
        s.add(Record(key="en-chess", source_format="marc21", title="Chess for kids and parents",
                     authors=["Fischer, Bobby"], publisher="Bantam", place="New York", year=2005,
                     isbn="9780140449136", isbns=["9780140449136"], subjects=["Chess"],
                     marc=encode_record(m21, "utf-8"), marc_encoding="utf-8", version=1,
                     copies=[Copy(sigla="ШК2", barcode="9004", status="on_loan", version=1)]))
        s.add(Record(key="gone", title="Удалённая шахматная книга", authors=["Карпов"], year=1995,
                     deleted=True, version=1))
        teachers = Record(key="media-teach", title="Контрольная по шахматам: ответы",
                          item_type="media", version=1)
        s.add(teachers)
        s.flush()
        s.add(MediaItem(path="/m/teach.mp4", title=teachers.title, kind="video",
                        access="teachers", record_id=teachers.id))
    with db.transaction() as s:
        reindex_all(s)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Zebra:
    """A built directory and zebrasrv serving it on a free loopback port."""

    def __init__(self, root: Path, db):
        self.root, self.db, self.port = root, db, _free_port()
        self.proc: subprocess.Popen | None = None

    def build(self, db):
        from library.marc.zebra import build

        return build(db, self.root, port=self.port)

    def start(self) -> None:
        from library.marc.zebra import zebrasrv_command

        self.log = open(self.root / "zebrasrv.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(zebrasrv_command(self.root), stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            assert self.proc.poll() is None, (self.root / "zebrasrv.log").read_text()
            time.sleep(0.05)
        raise AssertionError("zebrasrv did not listen within 10 s")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.log.close()
            self.proc = None

    def client(self, *commands: str) -> str:
        """yaz-client's output for a script: open the database, the commands, quit."""
        script = "\n".join([f"open tcp:127.0.0.1:{self.port}/ibc", *commands, "quit", ""])
        proc = subprocess.run(["yaz-client"], input=script.encode(), capture_output=True,
                              timeout=60)
        return proc.stdout.decode("utf-8", "replace")

    def hits(self, query: str) -> int:
        out = self.client(f"find {query}")
        m = re.search(r"Number of hits: (\d+)", out)
        assert m, out
        return int(m.group(1))

    def marc(self, query: str, count: int, syntax: str = "usmarc") -> list[pymarc.Record]:
        """The first `count` records found, fetched as USMARC (or `syntax`: rusmarc, unimarc;
        ISO 2709) into a yaz-client dump file and read by pymarc."""
        dump = self.root / f"dump-{time.monotonic_ns()}.mrc"
        self.client(f"format {syntax}", f"set_marcdump {dump}", f"find {query}",
                    f"show 1+{count}")
        with open(dump, "rb") as fh:
            return list(pymarc.MARCReader(fh, to_unicode=True, force_utf8=True))

    def xml(self, query: str, elements: str = "marcxml") -> list[pymarc.Record]:
        """The first record found, shown as XML (MARCXML; element set `elements`) by
        yaz-client, read by pymarc."""
        out = self.client("format xml", f"elements {elements}", f"find {query}", "show 1")
        start, end = out.find("<record"), out.find("</record>")
        assert start >= 0 and end > start, out
        return pymarc.parse_xml_to_array(io.BytesIO(out[start:end + 9].encode()))


@pytest.fixture
def zebra(db, tmp_path):
    """(Zebra, db): the filled library built into tmp_path/z and served."""
    _fill(db)
    z = Zebra(tmp_path / "z", db)
    report = z.build(db)
    assert report.records == 5 and report.indexed == 5 and report.skipped == 0
    z.start()
    yield z, db
    z.stop()


def test_search_by_bib1_attributes(zebra):
    """Title, author, ISBN (as written, without hyphens, its ISBN-13), subject, date, local
    number, any, @and / @or / @not, Cyrillic in UTF-8 with case and ё folded."""
    z, _ = zebra
    assert z.hits('@attr 1=4 "Война"') == 1
    assert z.hits('@attr 1=4 "война и мир"') == 1
    assert z.hits('@attr 1=4 @attr 4=1 "война и мир"') == 1  # a phrase
    assert z.hits('@attr 1=4 @attr 4=1 "мир война"') == 0
    assert z.hits('@attr 1=4 @attr 6=3 "Война и мир"') == 1  # the complete 245 $a
    assert z.hits('@attr 1=4 @attr 6=3 "Война"') == 0
    assert z.hits("@attr 1=4 @attr 5=1 шахмат") == 1  # right truncation
    assert z.hits("@attr 1=1003 Толстой") == 3
    assert z.hits("@attr 1=1003 ТОЛСТОЙ") == 3
    assert z.hits("@attr 1=1003 Карпов") == 1
    assert z.hits("@attr 1=7 5-17-015240-X") == 1
    assert z.hits("@attr 1=7 517015240x") == 1
    assert z.hits("@attr 1=7 9785170152407") == 1  # the ISBN-10's ISBN-13
    assert z.hits("@attr 1=7 0-14-044913-2") == 1  # the ISBN-13's ISBN-10
    assert z.hits("@attr 1=7 9780000000002") == 0
    assert z.hits("@attr 1=21 шахматы") == 1
    assert z.hits("@attr 1=21 chess") == 1
    assert z.hits("@attr 1=31 1995") == 1
    assert z.hits("@attr 1=31 2005") == 1
    assert z.hits("@attr 1=31 @attr 2=5 @attr 4=109 1990") == 2  # a year range: numeric
    assert z.hits("@attr 1=31 @attr 2=2 @attr 4=109 2000") == 1
    assert z.hits("@attr 1=31 @attr 2=4 @attr 4=109 2006") == 0
    assert z.hits("@attr 1=12 anna") == 1
    assert z.hits("@attr 1=1016 bantam") == 1
    assert z.hits("@and @attr 1=4 война @attr 1=1003 толстой") == 1
    assert z.hits("@and @attr 1=4 война @attr 1=1003 карпов") == 0
    assert z.hits("@or @attr 1=4 война @attr 1=4 анна") == 2
    assert z.hits("@not @attr 1=1003 толстой @attr 1=4 анна") == 2


def test_never_deleted_or_teachers_only(zebra):
    """Deleted records and teachers-only media are not in the register; a pupil's share only."""
    z, _ = zebra
    assert z.hits("@attr 1=4 удалённая") == 0
    assert z.hits("@attr 1=4 контрольная") == 0
    assert z.hits("@attr 1=4 шахматы") == 1


def test_show_usmarc_and_xml(zebra):
    """`show` as USMARC (ISO 2709, UTF-8) and as MARCXML: the MARC21 record with its fields and
    one 852 per school ($a sigla, $b name, $z shelf/total), RUSMARC built as MARC21."""
    z, _ = zebra
    [war] = z.marc('@attr 1=4 "Война и мир"', 1)
    assert war.leader[9] == "a"
    assert war["245"]["a"] == "Война и мир"
    assert war["100"]["a"] == "Толстой, Лев Николаевич"
    assert war["001"].data == "war"
    assert [(f["a"], f["z"]) for f in war.get_fields("852")] == [("ИБЦ", "Свободно 2 из 2")]
    [chess] = z.marc("@attr 1=7 517015240X", 1)
    assert chess["245"]["a"] == "Шахматы для всех"
    assert chess["020"]["a"] == "5-17-015240-X"
    assert chess["260"]["c"] == "1995"
    assert sorted((f["a"], f["b"], f["z"]) for f in chess.get_fields("852")) == [
        ("ШК1", "Школа №1", "Свободно 1 из 2"), ("ШК2", "Школа №2", "Свободно 1 из 1")]
    assert not chess.get_fields("910", "200")
    [en] = z.xml("@attr 1=4 chess")
    assert en["245"]["a"] == "Chess for kids and parents"
    assert en["500"]["a"] == "A note only the MARC keeps"  # the stored MARC21, as imported
    assert [(f["a"], f["z"]) for f in en.get_fields("852")] == [("ШК2", "Свободно 0 из 1")]
    assert not en.get_fields("952", "990", "541", "583", "590")
    assert len(z.marc("@attr 1=1003 толстой", 3)) == 3


def test_no_reader_data_in_the_register(zebra):
    """No reader's card or name (the seeded readers', nor those the imported local fields
    carried) is in the export or anywhere in the register's files."""
    z, _ = zebra
    from library.marc.zebra import current_register, export_public

    reg = current_register(z.root)
    assert reg is not None
    export = io.BytesIO()
    assert export_public(z.db, export).records == 5
    blobs = [export.getvalue()] + [p.read_bytes() for p in reg.rglob("*") if p.is_file()]
    assert any("Толстой".encode() in b for b in blobs)  # the check can see text
    for word in READERS:
        assert not any(word.encode() in b for b in blobs), word
        assert z.hits(f'@attr 1=1016 "{word}"') == 0, word


def test_rebuild_serves_a_new_record_without_a_restart(zebra):
    """A rebuild after a new record finds it through the same running zebrasrv (the register
    swapped under it); the previous build is kept, older ones go."""
    z, db = zebra
    from library.marc.zebra import current_register
    from library.search import index_records
    from library.storage.models import Record

    first = current_register(z.root)
    with db.transaction() as s:
        rec = Record(key="new", title="Приключения Тома Сойера", authors=["Твен, Марк"], version=1)
        s.add(rec)
        s.flush()
        index_records(s, [rec.id])
    assert z.hits("@attr 1=4 сойера") == 0
    report = z.build(db)
    assert report.records == 6
    assert current_register(z.root) != first
    assert z.hits("@attr 1=4 сойера") == 1
    assert z.hits("@attr 1=1003 твен") == 1
    z.build(db)
    assert first is not None and not first.exists()
    assert len([p for p in (z.root / "builds").iterdir()]) == 2


def test_failed_build_keeps_the_old_register(zebra, tmp_path):
    """A failing zebraidx (and a build killed halfway, leaving its work directory) leaves the
    current register serving; the next good build clears the leftovers."""
    z, db = zebra
    from library.marc.zebra import ZebraError, build, current_register

    before = current_register(z.root)
    broken = tmp_path / "zebraidx"
    broken.write_text("#!/bin/sh\necho '[fatal] disk full' >&2\nexit 1\n")
    broken.chmod(0o755)
    with pytest.raises(ZebraError, match="disk full"):
        build(db, z.root, port=z.port, zebraidx=str(broken))
    (z.root / "builds" / ".20000101T000000000000Z").mkdir()  # as a kill -9 mid-build leaves it
    assert current_register(z.root) == before
    assert z.hits('@attr 1=4 "Война"') == 1
    with pytest.raises(ZebraError, match="not found"):
        build(db, z.root, port=z.port, zebraidx=str(tmp_path / "nowhere"))
    short = tmp_path / "zebraidx-short"  # indexes fewer records than were exported
    short.write_text("#!/bin/sh\necho 'Records: 4 i/u/d 4/0/0' >&2\n")
    short.chmod(0o755)
    with pytest.raises(ZebraError, match="indexed 4 of 5"):
        build(db, z.root, port=z.port, zebraidx=str(short))
    assert current_register(z.root) == before
    running = tmp_path / "zebraidx-running"  # zebraidx prints running totals: the last counts
    running.write_text("#!/bin/sh\necho 'Records: 3 i/u/d 3/0/0' >&2\n"
                       "echo 'Records: 5 i/u/d 5/0/0' >&2\n")
    running.chmod(0o755)
    assert build(db, z.root, port=z.port, zebraidx=str(running)).indexed == 5
    z.build(db)
    assert not [p for p in (z.root / "builds").iterdir() if p.name.startswith(".")]
    assert z.hits('@attr 1=4 "Война"') == 1


def test_cli_build_json_and_off_by_default(db, tmp_path, capsys):
    """`ibc z3950 build DIR --json` reports the counts; without DIR it does nothing while
    [z3950] enabled is false."""
    import json

    from ibc.cli import main

    _fill(db)
    url = db.url.render_as_string(hide_password=False)
    assert main(["--db", url, "z3950", "build", str(tmp_path / "z"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["records"] == out["indexed"] == 5 and out["skipped"] == 0
    assert (tmp_path / "z" / "current" / "register").is_dir()
    assert main(["--db", url, "z3950", "build"]) == 0
    assert "off" in capsys.readouterr().out


def test_config_files(tmp_path):
    """yazserver.xml listens where the settings say, database ibc, USMARC in UTF-8; zebra.cfg
    is read-only for anonymous clients."""
    from library.marc.zebra import write_config

    root = write_config(tmp_path / "z", listen="0.0.0.0", port=2210)
    text = (root / "yazserver.xml").read_text()
    assert "<listen id=\"z3950\">tcp:0.0.0.0:2210</listen>" in text
    assert 'outputcharset="utf-8"' in text
    cfg = (root / "zebra.cfg").read_text()
    assert "database: ibc" in cfg and "perm.anonymous: r" in cfg
    assert f"register: {root}/current/register" in cfg
    before = {p.name: p.stat().st_mtime_ns for p in root.iterdir() if p.is_file()}
    write_config(root, listen="0.0.0.0", port=2210)
    assert before == {p.name: p.stat().st_mtime_ns for p in root.iterdir() if p.is_file()}


def test_settings():
    """[z3950] is off by default on 127.0.0.1:2100; IBC_Z3950__* set it; an address that could
    break the generated XML is refused."""
    from config.settings import SettingsError, load_settings

    conf = load_settings(environ={}).z3950
    assert (conf.enabled, conf.listen, conf.port, conf.dir) == (False, "127.0.0.1", 2100, "")
    conf = load_settings(environ={"IBC_Z3950__ENABLED": "true", "IBC_Z3950__LISTEN": "0.0.0.0",
                                  "IBC_Z3950__PORT": "210"}).z3950
    assert (conf.enabled, conf.listen, conf.port) == (True, "0.0.0.0", 210)
    with pytest.raises(SettingsError, match="z3950.listen"):
        load_settings(environ={"IBC_Z3950__LISTEN": "1.2.3.4</listen>"})


def test_units_and_install_script():
    """ibc-z3950.service runs `ibc z3950 serve` as ibc, restarts, reads the registers read-only;
    the nightly timer runs the build; install.sh installs Zebra/YAZ for dev and, with --z3950,
    for the server, and enables the units only then."""
    from tests.install.test_install_script import _packages

    root = Path(__file__).resolve().parents[2]
    service = (root / "systemd/ibc-z3950.service").read_text()
    for line in ("ExecStart=/opt/ibc/bin/ibc z3950 serve", "User=ibc", "Restart=on-failure",
                 "ProtectSystem=strict", "ReadOnlyPaths=-/var/lib/ibc/z3950/builds",
                 "ReadWritePaths=/var/lib/ibc/z3950\n"):
        assert line in service, line
    build = (root / "systemd/ibc-z3950-build.service").read_text()
    assert "ExecStart=/opt/ibc/bin/ibc z3950 build" in build and "Type=oneshot" in build
    timer = (root / "systemd/ibc-z3950-build.timer").read_text()
    assert "OnCalendar=*-*-* 03:30:00" in timer and "Persistent=true" in timer
    assert {"idzebra-2.0", "yaz"} <= set(_packages("dev_pkgs"))
    assert {"idzebra-2.0-utils", "libidzebra-2.0-modules", "yaz"} <= set(_packages("z3950_pkgs"))
    assert not {"idzebra-2.0-utils", "yaz"} & set(_packages("server_pkgs"))
    script = (root / "install.sh").read_text()
    assert 'if [ "$z3950" = yes ]; then pkgs+=("${z3950_pkgs[@]}"); fi' in script
    assert "install_units ibc-z3950.service ibc-z3950-build.timer" in script
    assert "--z3950) z3950=yes ;;" in script


def test_cli_serve_execs_zebrasrv(zebra, tmp_path):
    """`ibc z3950 serve DIR` (the service's ExecStart) writes yazserver.xml from [z3950] and
    becomes zebrasrv on that port; before any build it refuses; without DIR it is off."""
    z, _ = zebra
    z.stop()  # zebrasrv locks its directory: one server per register
    other = Zebra(z.root, z.db)
    env = dict(os.environ, IBC_Z3950__PORT=str(other.port), IBC_Z3950__LISTEN="127.0.0.1")
    serve = [sys.executable, "-m", "ibc", "z3950", "serve"]
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([*serve, str(z.root)], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                with socket.socket() as sock:
                    if sock.connect_ex(("127.0.0.1", other.port)) == 0:
                        break
                assert proc.poll() is None, log.read_text()
                time.sleep(0.1)
            assert other.hits('@attr 1=4 "Война"') == 1
        finally:
            proc.terminate()
            proc.wait(10)
    empty = subprocess.run([*serve, str(tmp_path / "empty")], env=env, capture_output=True,
                           text=True, timeout=60)
    assert empty.returncode == 1 and "ibc z3950 build" in empty.stderr
    off = subprocess.run(serve, env=dict(env, IBC_Z3950__DIR=str(z.root)), capture_output=True,
                         text=True, timeout=60)
    assert off.returncode == 0 and "off" in off.stdout


def test_show_rusmarc(zebra):
    """`show` as RUSMARC (and UNIMARC, the same record) in ISO 2709 and as XML (element set
    rusmarc): a RUSMARC record as stored, without its 910 holdings; a MARC21 record built as
    RUSMARC from its columns."""
    z, _ = zebra
    [chess] = z.marc("@attr 1=7 517015240X", 1, "rusmarc")
    assert chess.leader[9] == "a"
    assert chess["200"]["a"] == "Шахматы для всех"
    assert chess["010"]["a"] == "5-17-015240-X"
    assert chess["700"]["a"] == "Карпов"
    assert not chess.get_fields("910", "245", "852")
    [same] = z.marc("@attr 1=7 517015240X", 1, "unimarc")
    assert same.as_marc() == chess.as_marc()
    [en] = z.xml("@attr 1=4 chess", "rusmarc")
    assert en["200"]["a"] == "Chess for kids and parents"
    assert en["010"]["a"] == "9780140449136"
    assert not en.get_fields("245", "952", "990", "541", "583", "590")
    assert len(z.marc("@attr 1=1003 толстой", 3, "rusmarc")) == 3


def test_one_build_at_a_time(db, tmp_path):
    """A build while another holds the directory's build lock is refused (ZebraError) and
    touches nothing; once the lock is free the build runs."""
    import fcntl

    from library.marc.zebra import ZebraError, build, current_register, write_config

    populate(db)
    root = write_config(tmp_path / "z")
    with open(root / "build.lock", "a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(ZebraError, match="another build"):
            build(db, root)
        assert current_register(root) is None and not list((root / "builds").iterdir())
    assert build(db, root).records == 3 and current_register(root) is not None


def test_control_characters_do_not_break_the_build(db, tmp_path):
    """A title with characters XML cannot carry (a stray \\x01, a vertical tab) is indexed
    without them instead of making zebraidx refuse the whole file."""
    from library.search import reindex_all
    from library.storage.models import Record

    populate(db)
    with db.transaction() as s:
        s.add(Record(key="odd", title="Странная\x01книга\x0bо море", authors=["Пушкин"],
                     version=1))
    with db.transaction() as s:
        reindex_all(s)
    z = Zebra(tmp_path / "z", db)
    assert z.build(db).indexed == 4
    z.start()
    try:
        assert z.hits("@attr 1=1003 пушкин") == 1
        [odd] = z.marc("@attr 1=1003 пушкин", 1)
        assert odd["245"]["a"] == "Страннаякнигао море"
    finally:
        z.stop()


def test_a_record_that_cannot_be_written_is_skipped(db, tmp_path, monkeypatch):
    """A record whose MARC cannot be serialised is skipped with a warning naming it; the
    others are indexed and the build succeeds."""
    import library.marc.zebra as zebra

    populate(db)
    original = zebra.public_record

    def broken(rec, schools):
        if any(getattr(f, "value", None) == "kid" for f in rec.fields if f.tag == "001"):
            raise ValueError("bad indicator")
        return original(rec, schools)

    monkeypatch.setattr(zebra, "public_record", broken)
    report = zebra.build(db, tmp_path / "z")
    assert (report.records, report.skipped, report.indexed) == (2, 1, 2)
    assert any("bad indicator" in w for w in report.warnings)
