"""Generated-video tests of the live path (scan-video, CameraSource) and the scan-image CLI."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace

import pytest

cv2 = pytest.importorskip("cv2")
np = pytest.importorskip("numpy")

from device.scanner import synth  # noqa: E402
from device.scanner.camera import CameraSource, scan_video_file  # noqa: E402
from device.scanner.decode import FrameDecoder, available_decoders, decode_frame  # noqa: E402
from device.scanner.errors import CameraUnavailable  # noqa: E402

if not available_decoders():
    pytest.skip("no barcode decoder installed", allow_module_level=True)

ISBN = "9785170910656"
FPS = 25.0


def make_video(path, code_img, appear: int, disappear: int, total: int, angle: float = 0.0):
    """An MJPG 1280x720 AVI: noisy empty frames, the code visible on [appear, disappear)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), FPS, (1280, 720))
    assert writer.isOpened()
    try:
        for i in range(total):
            frame = synth.background(seed=i)
            if appear <= i < disappear:
                # a hand is never still: drift a few pixels per frame
                frame = synth.place(frame, code_img, center=(640 + 2 * (i - appear), 360),
                                    angle=angle, seed=i)
            writer.write(frame)
    finally:
        writer.release()
    return path


@pytest.fixture(scope="module")
def ean_video(tmp_path_factory):
    path = tmp_path_factory.mktemp("video") / "ean.avi"
    return make_video(path, synth.ean13_image(ISBN, module_px=3), appear=12, disappear=40,
                      total=50)


def test_video_code_accepted_once_right_after_it_appears(ean_video):
    accepted = scan_video_file(str(ean_video), confirm_frames=2)
    assert len(accepted) == 1, accepted
    code, t = accepted[0]
    assert code.value == ISBN and code.is_isbn
    assert 12 <= code.frame_index <= 14
    assert t == pytest.approx(code.frame_index / FPS)


def test_video_rotated_code_and_qr(tmp_path):
    path = make_video(tmp_path / "rot.avi", synth.ean13_image(ISBN, module_px=3), 5, 30, 30,
                      angle=45)
    accepted = scan_video_file(str(path))
    assert [(c.value, 5 <= c.frame_index <= 8) for c, _ in accepted] == [(ISBN, True)]
    path = make_video(tmp_path / "qr.avi", synth.qr_image("IBC:R:0001234", 6), 3, 20, 20,
                      angle=20)
    accepted = scan_video_file(str(path), confirm_frames=3)
    assert [(c.value, c.format.value) for c, _ in accepted] == [("IBC:R:0001234", "QR")]
    assert 5 <= accepted[0][0].frame_index <= 7


@pytest.mark.parametrize("angle", [0, 30, 45, 60, 90, 135])
def test_thorough_path_reads_codes_at_any_angle(angle):
    frame = synth.place(synth.background(), synth.ean13_image(ISBN, 3), angle=angle)
    assert [c.value for c in decode_frame(frame)] == [ISBN]


def test_live_decoder_finds_45_degree_code_on_first_frame():
    frame = synth.place(synth.background(), synth.ean13_image(ISBN, 3), angle=45)
    dec = FrameDecoder()
    found = [bool(dec.decode(frame, i)) for i in range(4)]
    assert all(found)  # the stripes step turns it upright on every frame


def test_roi_keeps_small_codes_that_downscaling_loses():
    frame = synth.place(synth.background(), synth.ean13_image(ISBN, 2), center=(600, 380))
    assert [c.value for c in FrameDecoder().decode(frame)] == [ISBN]
    box = FrameDecoder().decode(frame)[0].box
    assert 400 < box[0] < 600 and 300 < box[1] + box[3] // 2 < 460  # full-frame coordinates


def test_camera_source_on_video_file(ean_video):
    got, previews = [], []
    done = threading.Event()
    src = CameraSource(str(ean_video), on_preview=lambda img, res: previews.append(img.shape),
                       preview_every=10)
    src.start(got.append)
    assert src.finished.wait(30)
    src.stop()
    src.stop()  # twice is fine
    done.set()
    assert [c.value for c in got] == [ISBN]
    assert src.frames_read == 50 and src.last_error is None and not src.available
    assert previews and previews[0] == (720, 1280, 3)


def test_camera_source_raw_preview_gets_every_accepted_frame(ean_video):
    class Raw:
        raw_frames = True  # as kiosk.camera.PreviewFeed: the kiosk draws its own guide

        def __init__(self):
            self.calls = []

        def __call__(self, img, res):
            self.calls.append((res.frame_index, img.copy(), [c.value for c in res.accepted],
                               res.hint, res.roi))

    raw = Raw()
    src = CameraSource(str(ean_video), on_preview=raw, preview_every=10, roi=(0.7, 0.8))
    src.start(lambda code: None)
    assert src.finished.wait(30)
    src.stop()
    accepted = [(i, values) for i, _, values, _, _ in raw.calls if values]
    assert len(accepted) == 1 and accepted[0][1] == [ISBN]  # off the every-10th rhythm too
    assert accepted[0][0] % 10 != 0
    index, img, _, hint, roi = raw.calls[0]
    assert index == 0 and roi == (0.7, 0.8) and hint == ""
    # unannotated: no guide box drawn into the picture
    assert not np.any(np.all(img == (255, 200, 0), axis=-1))


def test_camera_source_errors(tmp_path):
    with pytest.raises(CameraUnavailable, match="файл не найден"):
        CameraSource(str(tmp_path / "none.avi")).start(print)
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"not a video at all")
    src = CameraSource(str(junk))
    with pytest.raises(CameraUnavailable, match="Камера недоступна") as info:
        src.start(print)
    assert src.last_error is info.value
    with pytest.raises(CameraUnavailable, match="отключена"):
        CameraSource("").start(print)


def test_callback_failure_does_not_kill_thread(ean_video):
    def boom(code):
        raise RuntimeError("UI bug")

    src = CameraSource(str(ean_video))
    src.start(boom)
    assert src.finished.wait(30)
    src.stop()
    assert isinstance(src.last_error, RuntimeError) and src.frames_read == 50


# --- the CLI ------------------------------------------------------------------------------------

@pytest.fixture()
def ctx():
    from config.settings import load_settings

    return SimpleNamespace(settings=load_settings(environ={}))


def cli(argv):
    import argparse

    from ibc.commands import scan

    parser = argparse.ArgumentParser()
    scan.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(argv)


def test_cli_scan_video_json(ean_video, ctx, capsys):
    args = cli(["scan-video", str(ean_video), "--json", "--confirm", "3"])
    assert args.run(args, ctx) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["frames"] == 50
    assert [(a["value"], 12 <= a["frame"] <= 15) for a in out["accepted"]] == [(ISBN, True)]


def test_cli_scan_image(tmp_path, ctx, capsys):
    img = tmp_path / "book.png"
    cv2.imwrite(str(img), synth.place(synth.background(), synth.ean13_image(ISBN, 3)))
    empty = tmp_path / "empty.png"
    cv2.imwrite(str(empty), synth.background())
    args = cli(["scan-image", str(img), str(empty)])
    assert args.run(args, ctx) == 0
    out = capsys.readouterr().out
    assert f"EAN13 {ISBN} (ISBN)" in out and "штрихкод не найден" in out
    args = cli(["scan-image", "--json", "--formats", "qr", str(img)])
    assert args.run(args, ctx) == 1
    assert json.loads(capsys.readouterr().out) == [{"file": str(img), "codes": []}]


@pytest.mark.parametrize("argv, message", [
    (["scan-image", "{tmp}/missing.png"], "файл не найден"),
    (["scan-image", "{tmp}/text.png"], "не изображение"),
    (["scan-image", "--formats", "ean14", "{tmp}/text.png"], "неизвестный формат"),
    (["scan-video", "{tmp}/text.png"], "нет кадров видео"),
    (["scan-video", "{tmp}/missing.avi"], "видеофайл не найден"),
])
def test_cli_errors_are_one_line(tmp_path, ctx, capsys, argv, message):
    (tmp_path / "text.png").write_text("hello")
    args = cli([a.format(tmp=tmp_path) for a in argv])
    assert args.run(args, ctx) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
