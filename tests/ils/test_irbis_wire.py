"""The codec (ils/irbis/wire.py) against the framing of the protocol's public clients.

The expected bytes are written out by hand from PythonIrbis's source (amironov73/PythonIrbis,
quoted next to each), then compared with what cbsvibpyirbis's own ClientQuery builds for the
same request: two independent encoders must give the same bytes.
"""

from __future__ import annotations

import pytest

from ils.irbis import IrbisProtocolError, IrbisRecord, wire


def test_register_request_bytes_follow_pythonirbis_framing():
    # irbis/query.py ClientQuery.__init__:
    #     self.ansi(command); self.ansi(connection.workstation); self.ansi(command)
    #     self.add(connection.client_id); self.add(connection.query_id)
    #     self.ansi(connection.password); self.ansi(connection.username)
    #     self.new_line(); self.new_line(); self.new_line()
    # irbis/connection.py connect():  query.ansi(self.username).ansi(self.password)
    # irbis/query.py encode():  prefix = (str(len(self._memory)) + '\n').encode(ANSI)
    body = b"A\nC\nA\n123456\n1\n\xcf\xe0\xf0\xee\xeb\xfc\n\xc8\xe2\xe0\xed\n\n\n\n\xc8\xe2\xe0\xed\n\xcf\xe0\xf0\xee\xeb\xfc\n"
    expected = str(len(body)).encode() + b"\n" + body
    got = wire.encode_request("A", "C", 123456, 1, "Пароль", "Иван",
                              [wire.ansi("Иван"), wire.ansi("Пароль")])
    assert got == expected
    assert "Пароль".encode("cp1251") == b"\xcf\xe0\xf0\xee\xeb\xfc"  # ANSI = 'cp1251' (_common.py)


def test_search_request_has_utf8_expression_and_ansi_database():
    # irbis/search.py SearchParameters.encode: query.ansi(database); query.utf(self.expression)
    #     query.add(self.number); query.add(self.first); query.ansi(self.format)
    #     query.add(self.min_mfn); query.add(self.max_mfn); query.ansi(self.sequential)
    got = wire.encode_request("K", "B", 7, 3, "p", "u", [
        wire.ansi("IBIS"), wire.utf('"T=ВОЙНА$"'), b"10", b"1", b"", b"0", b"0", b""])
    body = got.split(b"\n", 1)[1]
    lines = body.split(b"\n")
    assert lines[:10] == [b"K", b"B", b"K", b"7", b"3", b"p", b"u", b"", b"", b""]
    assert lines[10] == b"IBIS" and lines[11] == '"T=ВОЙНА$"'.encode()
    assert lines[12:18] == [b"10", b"1", b"", b"0", b"0", b""]


def test_same_bytes_as_cbsvibpyirbis_clientquery():
    irbis = pytest.importorskip("cbsvibpyirbis")
    from cbsvibpyirbis.query import ClientQuery

    conn = irbis.Connection("h", 1, "Иван", "Пароль", "IBIS", workstation="B")
    conn.client_id, conn.query_id = 654321, 5
    rec = IrbisRecord(12, 3, 0)
    rec.add_field(40, subfields=[("b", "1001"), ("f", "******")])
    theirs = ClientQuery(conn, "D").ansi("RDR").add(1).add(1).utf(
        "12#0\x1f\x1e0#3\x1f\x1e40#^b1001^f******").encode()
    ours = wire.encode_request("D", "B", 654321, 5, "Пароль", "Иван",
                               [wire.ansi("RDR"), b"1", b"1", wire.encode_record(rec)])
    assert ours == theirs
    theirs_fmt = ClientQuery(conn, "G").ansi("IBIS").format("@brief").add(1).add(7).encode()
    theirs_inline = ClientQuery(conn, "G").ansi("IBIS").format("v200^a").add(1).add(7).encode()
    assert wire.encode_request("G", "B", 654321, 6, "Пароль", "Иван",
                               [b"IBIS", wire.prepare_format("@brief"), b"1", b"7"]) == theirs_fmt
    assert wire.encode_request("G", "B", 654321, 7, "Пароль", "Иван",
                               [b"IBIS", wire.prepare_format("v200^a"), b"1", b"7"]) == theirs_inline


def test_request_round_trip_and_line_breaks_refused():
    data = wire.encode_request("C", "C", 1, 2, "pw", "user", [b"IBIS", b"5", b"1"])
    req = wire.decode_request(data)
    assert (req.command, req.workstation, req.client_id, req.query_id, req.user, req.password) == \
        ("C", "C", 1, 2, "user", "pw")
    assert (req.ansi(0), req.int(1), req.int(2), req.int(9, 42)) == ("IBIS", 5, 1, 42)
    with pytest.raises(IrbisProtocolError):
        wire.encode_request("A", "C", 1, 1, "pw\n", "u")
    with pytest.raises(IrbisProtocolError):
        wire.encode_request("A", "C", 1, 1, "pw", "u", [b"a\r\nb"])
    with pytest.raises(IrbisProtocolError, match="cp1251"):
        wire.ansi("漢字")


@pytest.mark.parametrize("head", [b"99999999999\n", b"abc\n", b"1234567890123", b"2000000\n"])
def test_bad_or_huge_request_length_is_refused(head):
    with pytest.raises(IrbisProtocolError):
        wire.request_length(head)
    assert wire.request_length(b"12") is None  # not complete yet


def test_answer_header_and_return_code():
    # irbis/response.py initial_parse: command, client_id, query_id, length (may be a number),
    # version, then `for _ in range(5): self.read()`; lines end in CR LF (read() finds 0x0D 0x0A).
    raw = (b"O\r\n123456\r\n2\r\n5\r\n64.2014\r\n\r\n\r\n\r\n\r\n\r\n"
           b"82\r\n")
    answer = wire.decode_answer(raw, "O")
    assert (answer.command, answer.client_id, answer.query_id, answer.version) == ("O", 123456, 2, "64.2014")
    assert answer.return_code() == 82
    assert wire.decode_answer(wire.encode_answer("O", 123456, 2, 82, version="64.2014")).lines[:1] == [b"82"]


@pytest.mark.parametrize("raw", [
    b"",
    b"garbage without lines",
    b"K\r\nnot-a-number\r\n1\r\n0\r\nv\r\n\r\n\r\n\r\n\r\n\r\n0\r\n",
    b"\xff\xfe\r\n1\r\n1\r\n0\r\nv\r\n\r\n\r\n\r\n\r\n\r\n0\r\n",
])
def test_broken_answers_are_protocol_errors(raw):
    with pytest.raises(IrbisProtocolError):
        wire.decode_answer(raw, "K")


def test_answer_to_another_command_is_refused():
    with pytest.raises(IrbisProtocolError, match="answer to"):
        wire.decode_answer(wire.encode_answer("N", 1, 1, 0), "K")


def test_non_utf8_record_text_is_a_protocol_error():
    answer = wire.decode_answer(wire.encode_answer("C", 1, 1, 0, [b"1#0", b"0#1", b"200#^a\xff\xfe"]))
    assert answer.return_code() == 0
    with pytest.raises(IrbisProtocolError, match="utf-8"):
        answer.rest_lines()


def test_record_lines_round_trip():
    # irbis/records/abstract.py encode: [str(mfn) + '#' + str(status), '0#' + str(version)] + fields
    # irbis/records/field.py __str__: str(tag) + '#' + value + ''.join('^' + code + value)
    rec = IrbisRecord(7, 4, 1)
    rec.add_field(200, subfields=[("a", "Война и мир"), ("f", "Л. Н. Толстой")])
    rec.add_field(30, "2000000101")
    lines = wire.record_lines(rec)
    assert lines == ["7#1", "0#4", "200#^aВойна и мир^fЛ. Н. Толстой", "30#2000000101"]
    again = wire.parse_record(lines, "IBIS")
    assert again == IrbisRecord(7, 4, 1, rec.fields, "IBIS")
    assert again.deleted
    assert wire.encode_record(rec) == "7#1\x1f\x1e0#4\x1f\x1e200#^aВойна и мир^fЛ. Н. Толстой\x1f\x1e30#2000000101".encode()


def test_field_parse_like_pythonirbis():
    # irbis/records/field.py headless_parse: parts = line.split('^'); value = parts[0];
    # each further part: code = first character, value = the rest
    f = wire.parse_field("910#^A0^B1759089^DФ104^HE00401004E2F3C04")
    assert f.tag == 910 and f.value == ""
    assert f.get("a") == "0" and f.get("h") == "E00401004E2F3C04"  # codes are case-insensitive
    assert wire.encode_field(f) == "910#^A0^B1759089^DФ104^HE00401004E2F3C04"  # kept as written
    with pytest.raises(IrbisProtocolError):
        wire.parse_field("no tag here")


def test_control_characters_in_a_field_cannot_be_sent():
    rec = IrbisRecord(1, 1)
    rec.add_field(200, subfields=[("a", "line\nbreak")])
    with pytest.raises(IrbisProtocolError):
        wire.encode_record(rec)


def test_prepare_format_encodings():
    # irbis/query.py format(): '@' → ansi(prepared); '!' → utf(prepared); else utf('!' + prepared)
    assert wire.prepare_format("@brief") == b"@brief"
    assert wire.prepare_format("!v200") == b"!v200"
    assert wire.prepare_format("v200^a,\n' : 'v200^e") == b"!v200^a,' : 'v200^e"


def test_every_error_message_has_a_russian_translation():
    """Each IrbisError subclass's English msgid is in ils/irbis/locale/ru/…/irbis.po, with the
    same {placeholders}, so front ends can show Russian."""
    import re

    from ils.irbis import emulator, errors

    classes = [c for m in (errors, emulator) for c in vars(m).values()
               if isinstance(c, type) and issubclass(c, errors.IrbisError)]
    ru = errors.translator("ru")
    templates = {c.template for c in classes}
    assert len(templates) >= 13
    for template in templates:
        text = ru(template)
        assert text != template, template
        assert re.search("[а-яё]", text)
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", template))
