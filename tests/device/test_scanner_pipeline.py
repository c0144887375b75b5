"""Live acceptance logic, quality hints, the HID keystroke assembler and the fake source."""

from __future__ import annotations

import threading

import pytest

from device.scanner.base import BarcodeSource
from device.scanner.codes import Barcode, Format
from device.scanner.fake import FakeSource
from device.scanner.hid import HidSource, KeystrokeAssembler
from device.scanner.pipeline import ConfirmFilter

BOOK = Barcode(Format.EAN13, "9785170910656")
WRONG = Barcode(Format.EAN13, "9785170910649")  # check-digit-valid misread of BOOK
CARD = Barcode(Format.QR, "IBC:R:0001")


def run_frames(flt: ConfirmFilter, frames, fps: float = 25.0, start: float = 0.0):
    """Feed a list of per-frame code lists; return [(frame_index, value)] accepted."""
    out = []
    for i, codes in enumerate(frames):
        for code in flt.feed(codes, start + i / fps):
            out.append((i, code.value))
    return out


def test_accepted_after_two_consecutive_equal_reads():
    flt = ConfirmFilter(confirm_frames=2)
    assert run_frames(flt, [[], [BOOK], [BOOK], [BOOK], [BOOK]]) == [(2, BOOK.value)]


def test_single_misread_never_accepted():
    flt = ConfirmFilter(confirm_frames=2)
    frames = [[BOOK], [WRONG], [BOOK], [], [BOOK], [BOOK]]
    assert run_frames(flt, frames) == [(5, BOOK.value)]


def test_streak_needs_consecutive_frames():
    flt = ConfirmFilter(confirm_frames=3)
    assert run_frames(flt, [[BOOK], [BOOK], [], [BOOK], [BOOK], [BOOK]]) == [(5, BOOK.value)]


def test_confirm_one_accepts_immediately_and_two_codes_at_once():
    flt = ConfirmFilter(confirm_frames=1)
    assert run_frames(flt, [[BOOK, CARD, BOOK]]) == [(0, BOOK.value), (0, CARD.value)]
    with pytest.raises(ValueError):
        ConfirmFilter(confirm_frames=0)


def test_repeat_suppressed_while_held_and_after_short_absence():
    flt = ConfirmFilter(confirm_frames=2, repeat_suppress_s=3.0)
    # Held for 10 s at 25 frames/s: accepted once only.
    assert run_frames(flt, [[BOOK]] * 250) == [(1, BOOK.value)]
    # Taken away for 1 s and shown again: still suppressed.
    assert run_frames(flt, [[]] * 25 + [[BOOK]] * 10, start=10.0) == []


def test_repeat_accepted_again_after_window():
    flt = ConfirmFilter(confirm_frames=2, repeat_suppress_s=3.0)
    assert run_frames(flt, [[BOOK], [BOOK]]) == [(1, BOOK.value)]
    assert flt.feed([BOOK], 4.0) == []  # the streak restarted after the gap
    assert flt.feed([BOOK], 4.04) == [BOOK]


def test_fixed_window_without_extension():
    flt = ConfirmFilter(confirm_frames=1, repeat_suppress_s=3.0, extend_while_visible=False)
    accepted = run_frames(flt, [[BOOK]] * 200)  # 8 s held
    assert [i for i, _ in accepted] == [0, 75, 150]


def test_reset_forgets_suppression():
    flt = ConfirmFilter(confirm_frames=1)
    assert flt.feed([BOOK], 0.0) == [BOOK]
    flt.reset()
    assert flt.feed([BOOK], 0.1) == [BOOK]


def test_hints_dark_and_blurred():
    np = pytest.importorskip("numpy")
    cv2 = pytest.importorskip("cv2")
    from device.scanner import synth
    from device.scanner.pipeline import annotate, assess_frame

    sharp = synth.place(synth.background(noise=2), synth.ean13_image(BOOK.value, 4))
    good = assess_frame(sharp)
    assert good.ok and good.code == ""
    dark = assess_frame((sharp * 0.1).astype(np.uint8))
    assert dark.dark and dark.code == "dark"
    blurred = assess_frame(cv2.GaussianBlur(sharp, (0, 0), 6))
    assert blurred.blurred and not blurred.dark and blurred.code == "blurred"
    # annotate returns a new picture and leaves the frame alone
    code = BOOK.with_(points=((500, 300), (800, 300), (800, 420), (500, 420)))
    out = annotate(sharp, [code], roi=(0.75, 0.8), hints=blurred)
    assert out is not sharp and out.shape == sharp.shape
    assert not np.array_equal(out, sharp)
    assert tuple(out[300, 650]) == (0, 220, 0)


def feed_text(asm: KeystrokeAssembler, text: str, t0: float, gap: float):
    """Type `text` then Enter with `gap` seconds between keys; return what the assembler emitted."""
    out = []
    t = t0
    for ch in list(text) + ["enter"]:
        r = asm.feed(ch, t)
        if r is not None:
            out.append(r)
        t += gap
    return out


def test_hid_fast_burst_is_a_code():
    asm = KeystrokeAssembler(max_gap_s=0.05)
    assert feed_text(asm, "9785170910656", 0.0, 0.008) == ["9785170910656"]


def test_hid_slow_typing_is_ignored():
    asm = KeystrokeAssembler(max_gap_s=0.05)
    assert feed_text(asm, "9785170910656", 0.0, 0.18) == []


def test_hid_slow_prefix_then_burst():
    asm = KeystrokeAssembler(max_gap_s=0.05)
    for i, ch in enumerate("abc"):  # a pupil pokes the keyboard
        assert asm.feed(ch, i * 0.5) is None
    assert feed_text(asm, "R000123", 5.0, 0.01) == ["R000123"]


def test_hid_short_bursts_and_special_keys():
    asm = KeystrokeAssembler(max_gap_s=0.05, min_length=4)
    assert feed_text(asm, "12", 0.0, 0.01) == []  # too short
    asm.feed("1", 1.0)
    asm.feed("2", 1.01)
    assert asm.feed("shift", 1.02) is None  # resets the burst
    assert asm.feed("3", 1.03) is None
    assert asm.feed("enter", 1.04) is None  # only one character after the reset


def test_hid_source_delivers_barcode():
    got = []
    src = HidSource(max_gap_s=0.05)
    assert isinstance(src, BarcodeSource)
    assert src.feed_key("9", 0.0) is None  # not started: nothing delivered
    src.start(got.append)
    for i, ch in enumerate("9785170910656"):
        src.feed_key(ch, 1.0 + i * 0.005)
    code = src.feed_key("\r", 1.1)
    assert code is not None and code.format is Format.EAN13 and got == [code]
    assert src.available and src.last_error is None
    src.stop()
    assert not src.available


def test_fake_source_inject_and_script():
    got = []
    done = threading.Event()
    src = FakeSource(script=[(0.0, "9785170910656"), (0.01, CARD)])
    assert isinstance(src, BarcodeSource)

    def collect(code):
        got.append(code)
        if len(got) == 3:
            done.set()

    src.start(collect)
    assert src.wait(5)
    src.inject("R-1", fmt="code128")
    assert done.wait(5)
    src.stop()
    assert [c.value for c in got] == ["9785170910656", "IBC:R:0001", "R-1"]
    assert got[0].format is Format.EAN13 and got[2].format is Format.CODE128
    assert src.inject("x") is None and not src.available
