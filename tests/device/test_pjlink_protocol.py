"""PJLink wire format and value parsing: byte transcripts, every command and error, bad input."""

from __future__ import annotations

import pytest

from device.projector import protocol as p
from device.projector import values as v
from device.projector.errors import (
    InvalidProjectorArgument,
    OutOfRange,
    ProjectorAuthError,
    ProjectorCommandError,
    ProjectorError,
    ProjectorFailure,
    ProjectorProtocolError,
    ProjectorUnavailable,
    UndefinedCommand,
)

CLASS1_QUERIES = ["POWR", "INPT", "AVMT", "ERST", "LAMP", "INST", "NAME", "INF1", "INF2", "INFO",
                  "CLSS"]
CLASS2_QUERIES = ["INPT", "INST", "SNUM", "SVER", "IRES", "RRES", "FILT", "RLMP", "RFIL", "FREZ"]


@pytest.mark.parametrize(("command", "param", "pjclass", "wire"), [
    ("POWR", "1", 1, b"%1POWR 1\r"),
    ("POWR", "0", 1, b"%1POWR 0\r"),
    ("INPT", "31", 1, b"%1INPT 31\r"),
    ("INPT", "3A", 2, b"%2INPT 3A\r"),
    ("AVMT", "31", 1, b"%1AVMT 31\r"),
    ("AVMT", "10", 1, b"%1AVMT 10\r"),
    ("SVOL", "1", 2, b"%2SVOL 1\r"),
    ("MVOL", "0", 2, b"%2MVOL 0\r"),
    ("FREZ", "1", 2, b"%2FREZ 1\r"),
])
def test_encode_set_commands(command, param, pjclass, wire):
    assert p.encode_command(command, param, pjclass) == wire
    assert p.parse_command(wire) == p.Command(pjclass, command, param)


@pytest.mark.parametrize("command", CLASS1_QUERIES)
def test_encode_class1_queries(command):
    assert p.encode_query(command) == f"%1{command} ?\r".encode()


@pytest.mark.parametrize("command", CLASS2_QUERIES)
def test_encode_class2_queries(command):
    assert p.encode_query(command, 2) == f"%2{command} ?\r".encode()


def test_encode_input_name_query_has_argument():
    assert p.encode_query("INNM", 2, "32") == b"%2INNM ?32\r"


@pytest.mark.parametrize(("args", "fragment"), [
    (("POWR", "1", 3), "class"),
    (("powr", "1", 1), "4 upper-case"),
    (("POW", "1", 1), "4 upper-case"),
    (("POWR", "1\r%1POWR 0", 1), "CR/LF"),
    (("NAME", "x" * 129, 1), "128"),
])
def test_encode_rejects_bad_input(args, fragment):
    with pytest.raises(InvalidProjectorArgument, match=fragment) as info:
        p.encode_command(*args)
    assert isinstance(info.value, ValueError)


def test_max_packet_is_136_bytes():
    assert len(p.encode_command("NAME", "x" * 128)) == p.MAX_PACKET == 136


@pytest.mark.parametrize(("wire", "reply"), [
    (b"%1POWR=OK\r", p.Reply(1, "POWR", "OK")),
    (b"%1POWR=1\r", p.Reply(1, "POWR", "1")),
    (b"%1powr=3\r", p.Reply(1, "POWR", "3")),
    (b"%2INPT=3A\r", p.Reply(2, "INPT", "3A")),
    (b"%1LAMP=1200 1 30 0\r", p.Reply(1, "LAMP", "1200 1 30 0")),
    (b"%1NAME=\r", p.Reply(1, "NAME", "")),
    ("%1NAME=Проектор 1\r".encode(), p.Reply(1, "NAME", "Проектор 1")),
])
def test_parse_replies(wire, reply):
    assert p.parse_reply(wire) == reply
    assert p.check_reply(reply) == reply.value


def test_ok_reply():
    assert p.parse_reply(b"%1AVMT=OK\r").ok
    assert not p.parse_reply(b"%1AVMT=31\r").ok


@pytest.mark.parametrize(("code", "error"), [
    ("ERR1", UndefinedCommand), ("ERR2", OutOfRange),
    ("ERR3", ProjectorUnavailable), ("ERR4", ProjectorFailure),
])
def test_error_replies_raise_named_errors(code, error):
    reply = p.parse_reply(f"%1INPT={code}\r".encode())
    assert reply.error_code == code
    with pytest.raises(error) as info:
        p.check_reply(reply, "INPT", 1)
    assert isinstance(info.value, ProjectorCommandError)
    assert info.value.command == "INPT"
    assert code in str(info.value)


def test_erra_is_an_auth_error():
    with pytest.raises(ProjectorAuthError):
        p.parse_reply(b"PJLINK ERRA\r")


@pytest.mark.parametrize("wire", [b"garbage\r", b"%3POWR=1\r", b"%1POWR 1\r", b"%1PO=1\r", b""])
def test_malformed_replies(wire):
    with pytest.raises(ProjectorProtocolError):
        p.parse_reply(wire)


def test_too_long_reply():
    with pytest.raises(ProjectorProtocolError, match="136"):
        p.parse_reply(b"%1NAME=" + b"x" * 129 + b"\r")


def test_mismatched_reply():
    with pytest.raises(ProjectorProtocolError, match="POWR"):
        p.check_reply(p.parse_reply(b"%1INPT=31\r"), "POWR", 1)
    with pytest.raises(ProjectorProtocolError, match="class"):
        p.check_reply(p.parse_reply(b"%2INPT=31\r"), "INPT", 1)


def test_greetings():
    assert p.parse_greeting(b"PJLINK 0\r") == p.Greeting(False)
    assert p.parse_greeting(b"PJLINK 1 498e4a67\r") == p.Greeting(True, "498e4a67")
    assert p.encode_greeting(None) == b"PJLINK 0\r"
    assert p.encode_greeting("498e4a67") == b"PJLINK 1 498e4a67\r"
    with pytest.raises(ProjectorAuthError):
        p.parse_greeting(b"PJLINK ERRA\r")
    for bad in (b"HTTP/1.1 400\r", b"PJLINK\r", b"PJLINK 1\r", b"PJLINK 2 abc\r"):
        with pytest.raises(ProjectorProtocolError):
            p.parse_greeting(bad)


def test_auth_digest_matches_spec_example():
    # The PJLink specification's own example: random 498e4a67, password JBMIAProjectorLink.
    assert p.auth_digest("498e4a67", "JBMIAProjectorLink") == "5d8409bc1c3fa39749434aa3a5c38682"


def test_split_digest():
    line = b"5d8409bc1c3fa39749434aa3a5c38682%1POWR ?\r"
    assert p.split_digest(line) == ("5d8409bc1c3fa39749434aa3a5c38682", b"%1POWR ?\r")
    assert p.split_digest(b"%1POWR ?\r") == (None, b"%1POWR ?\r")


def test_parse_command_rejects_non_commands():
    for bad in (b"POWR 1\r", b"%1POWR\x00", b"%1PO 1\r", b"%1NAME " + b"x" * 129 + b"\r"):
        with pytest.raises(ProjectorProtocolError):
            p.parse_command(bad)
    assert p.parse_command(b"%1POWR\r") == p.Command(1, "POWR", "")


# --- values -------------------------------------------------------------------------------

def test_power_states():
    assert [v.parse_power(x) for x in "0123"] == [
        v.PowerState.STANDBY, v.PowerState.ON, v.PowerState.COOLING, v.PowerState.WARMING]
    assert v.PowerState.WARMING.label == "warming"
    with pytest.raises(ProjectorProtocolError):
        v.parse_power("4")


@pytest.mark.parametrize(("text", "code"), [
    ("31", "31"), ("digital1", "31"), ("DIGITAL1", "31"), ("RGB1", "11"), ("VIDEO2", "22"),
    ("STORAGE1", "41"), ("NETWORK1", "51"), ("INTERNAL1", "61"), ("DIGITALA", "3A"),
    ("3a", "3A"), ("HDMI1", "32"), ("hdmi2", "33"), (" HDMI1 ", "32"),
])
def test_resolve_input(text, code):
    assert v.resolve_input(text) == code


def test_input_aliases_are_overridable():
    assert v.resolve_input("HDMI1", {"hdmi1": "31", "Doc camera": "VIDEO1"}) == "31"
    assert v.resolve_input("DOC CAMERA", {"Doc camera": "VIDEO1"}) == "21"
    with pytest.raises(InvalidProjectorArgument, match="HDMI1"):
        v.resolve_input("HDMI1", {})


@pytest.mark.parametrize("bad", ["HDMI9", "7", "71", "30", "DIGITAL0", "", "DIGITAL10"])
def test_resolve_input_rejects(bad):
    with pytest.raises(InvalidProjectorArgument, match="unknown input"):
        v.resolve_input(bad)


def test_input_codes_and_names():
    assert v.input_name("32") == "DIGITAL2"
    assert v.input_class("31") == 1 and v.input_class("3A") == 2 and v.input_class("61") == 2
    assert v.is_input_code("59", 1) and not v.is_input_code("61", 1)
    assert v.parse_input_list("11 21 31 32 3A") == ["11", "21", "31", "32", "3A"]
    assert v.parse_input_list("") == []
    with pytest.raises(ProjectorProtocolError):
        v.parse_input("3")
    with pytest.raises(InvalidProjectorArgument):
        v.input_name("99")


def test_mute():
    assert v.encode_mute("video", True) == "11"
    assert v.encode_mute("audio", False) == "20"
    assert v.encode_mute("BOTH", True) == "31"
    with pytest.raises(InvalidProjectorArgument):
        v.encode_mute("picture", True)
    for wire, state in [("11", (True, False)), ("21", (False, True)), ("31", (True, True)),
                        ("30", (False, False))]:
        parsed = v.parse_mute(wire)
        assert (parsed.video, parsed.audio) == state
        assert v.encode_mute_state(parsed) == wire
    with pytest.raises(ProjectorProtocolError):
        v.parse_mute("41")


def test_error_status():
    assert v.parse_errors("000000") == dict.fromkeys(v.ERROR_FIELDS, "ok")
    parsed = v.parse_errors("012000")
    assert parsed["lamp"] == "warning" and parsed["temperature"] == "error"
    assert v.encode_errors({"filter": "warning"}) == "000010"
    for bad in ("00000", "000003", "0000000", "ok"):
        with pytest.raises(ProjectorProtocolError):
            v.parse_errors(bad)
    with pytest.raises(InvalidProjectorArgument):
        v.encode_errors({"smoke": "error"})


def test_lamps():
    assert v.parse_lamps("1200 1 30 0") == [v.Lamp(1200, True), v.Lamp(30, False)]
    assert v.encode_lamps([v.Lamp(5, True)]) == "5 1"
    for bad in ("", "12", "12 x", "x 1", "1 2", " ".join(["1 1"] * 9)):
        with pytest.raises(ProjectorProtocolError):
            v.parse_lamps(bad)


def test_misc_values():
    assert v.parse_class("1") == 1 and v.parse_class("2") == 2
    assert v.parse_resolution("1920x1080") == (1920, 1080)
    assert v.parse_resolution("-") is None and v.parse_resolution("*") is None
    assert v.parse_int("300", "FILT") == 300
    assert v.parse_flag("1", "FREZ") is True
    for call in (lambda: v.parse_class("3"), lambda: v.parse_resolution("big"),
                 lambda: v.parse_int("-1", "FILT"), lambda: v.parse_flag("2", "FREZ")):
        with pytest.raises(ProjectorProtocolError):
            call()


def test_status_to_dict():
    status = v.ProjectorStatus(v.PowerState.ON, "32", v.MuteState(True, False),
                               dict.fromkeys(v.ERROR_FIELDS, "ok"), [v.Lamp(10, True)])
    data = status.to_dict()
    assert data["power"] == "on" and data["input_name"] == "DIGITAL2"
    assert data["mute"] == {"video": True, "audio": False}
    assert status.lamp_hours == 10


# --- UDP ----------------------------------------------------------------------------------

def test_search_and_ackn():
    assert p.encode_search() == b"%2SRCH\r"
    assert p.is_search(b"%2SRCH\r") and p.is_search(b"%2srch")
    assert not p.is_search(b"%1SRCH\r")
    assert p.encode_ackn("AA-BB-CC-00-11-22") == b"%2ACKN=aa:bb:cc:00:11:22\r"
    assert p.parse_ackn(b"%2ACKN=AA:BB:CC:00:11:22\r") == "aa:bb:cc:00:11:22"
    assert p.parse_ackn(b"%2ACKN=aabbcc001122\r") == "aa:bb:cc:00:11:22"
    for bad in (b"%2ACKN=aa:bb\r", b"%1ACKN=aa:bb:cc:00:11:22\r", b"%2SRCH\r"):
        with pytest.raises(ProjectorProtocolError):
            p.parse_ackn(bad)


@pytest.mark.parametrize(("wire", "note"), [
    (b"%2LKUP=aa:bb:cc:00:11:22\r", p.Notification("LKUP", "aa:bb:cc:00:11:22")),
    (b"%2POWR=1\r", p.Notification("POWR", "1")),
    (b"%2INPT=32\r", p.Notification("INPT", "32")),
    (b"%2ERST=000010\r", p.Notification("ERST", "000010")),
])
def test_notifications(wire, note):
    assert p.parse_notification(wire) == note
    assert p.encode_notification(note.command, note.value) == wire


def test_not_notifications():
    for bad in (b"%1POWR=1\r", b"%2NAME=x\r", b"hello"):
        with pytest.raises(ProjectorProtocolError):
            p.parse_notification(bad)
    with pytest.raises(InvalidProjectorArgument):
        p.encode_notification("NAME", "x")


def test_error_tree():
    for cls in (ProjectorAuthError, ProjectorCommandError, ProjectorProtocolError,
                InvalidProjectorArgument, UndefinedCommand, ProjectorUnavailable):
        assert issubclass(cls, ProjectorError)
