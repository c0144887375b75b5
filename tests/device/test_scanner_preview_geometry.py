"""The camera preview's geometry (kiosk/camera_geometry.py, pure Python): aspect, crop, mirror,
and the guide corners over exactly the decoder's region of interest."""

from __future__ import annotations

import pytest

from kiosk.camera_geometry import DEFAULT_ROI, PLACEHOLDER_FRAME, preview_view, roi_box

FRAME = (1280, 720)


def test_roi_box_matches_the_decoder():
    pytest.importorskip("cv2")
    from device.scanner.decode import FrameDecoder, roi_rect

    assert DEFAULT_ROI == FrameDecoder().roi
    for size, roi in [((1280, 720), DEFAULT_ROI), ((640, 360), (0.6, 0.5)), ((641, 479), (0.75, 0.8))]:
        assert roi_box(size, roi) == tuple(float(v) for v in roi_rect((size[1], size[0]), roi))
    assert roi_box(FRAME, None) == (0, 0, 1280, 720)


def test_wide_widget_is_cover_cropped_at_the_frames_aspect():
    view = preview_view(FRAME, (10, 20, 1600, 800))  # wider than 16:9
    assert view.scale == pytest.approx(1600 / 1280)  # fills the width...
    x, y, w, h = view.image_rect()
    assert (x, w) == pytest.approx((10, 1600))  # ...the frame's top and bottom cropped
    assert (y, h) == pytest.approx((20, 800))
    x0, y0, x1, y1 = view.visible()
    assert (x1 - x0) / (y1 - y0) == pytest.approx(1600 / 800)  # no stretching: one scale
    assert y0 == pytest.approx(360 - 320) and y1 == pytest.approx(360 + 320)
    # a little flatter and the crop would cut the decoder's region: it stops short of it
    flatter = preview_view(FRAME, (10, 20, 1600, 700))
    _, gy, _, gh = flatter.roi_rect(DEFAULT_ROI)
    assert gy > 20 and gy + gh < 720 and flatter.scale < 1600 / 1280


def test_the_decoders_region_is_never_cropped():
    # The kiosk's preview column: tall and narrow. Cover-cropping a 16:9 frame into it would
    # show 31% of the width, less than the 75% the decoder reads: the frame is fitted to the
    # region (+3% margins) instead, with bars above and below.
    widget = (24, 24, 357, 655)
    view = preview_view(FRAME, widget)
    gx, gy, gw, gh = view.roi_rect(DEFAULT_ROI)
    assert gx >= 24 and gx + gw <= 24 + 357  # the guide inside the widget
    assert gw == pytest.approx(357 * 0.75 / 0.81)  # region + margins fill the width
    assert gw / gh == pytest.approx((1280 * 0.75) / (720 * 0.8), rel=1e-3)  # not squashed
    x, y, w, h = view.image_rect()
    assert y > 24 and y + h < 24 + 655  # background strips above and below
    assert w / h == pytest.approx((1280 * 0.81) / 720, rel=1e-3)  # only the sides cropped
    assert (gy + gh / 2) == pytest.approx(24 + 655 / 2)  # centred


def test_whole_frame_region_is_never_cropped():
    view = preview_view(FRAME, (0, 0, 720, 720), None)  # the decoder reads everything
    assert view.visible() == pytest.approx((0, 0, 1280, 720))
    assert view.image_rect() == pytest.approx((0, 157.5, 720, 405))  # fitted, bars above/below


def test_mirrored_like_a_selfie_camera():
    view = preview_view(FRAME, (0, 0, 1280, 720), None)
    assert view.scale == pytest.approx(1.0)
    assert view.to_widget(0, 0) == pytest.approx((1280, 720))  # frame top-left: widget top-right
    assert view.to_widget(1280, 720) == pytest.approx((0, 0))
    assert view.to_widget(100, 360) == pytest.approx((1180, 360))
    plain = preview_view(FRAME, (0, 0, 1280, 720), None, mirror=False)
    assert plain.to_widget(100, 100) == pytest.approx((100, 620))
    # texture coordinates (bottom-left, bottom-right, top-right, top-left); row 0 at t = 0
    assert view.tex_coords() == pytest.approx((1, 1, 0, 1, 0, 0, 1, 0))
    assert plain.tex_coords() == pytest.approx((0, 1, 1, 1, 1, 0, 0, 0))


def test_cropped_texture_coordinates_follow_the_visible_part():
    view = preview_view(FRAME, (0, 0, 720, 720), (0.5, 0.5))  # square: the sides cropped
    x0, _, x1, _ = view.visible()
    assert (x0, x1) == pytest.approx((280, 1000))
    left, bottom, right, _, _, top, _, _ = view.tex_coords()
    assert (left, right) == pytest.approx((1000 / 1280, 280 / 1280))  # mirrored
    assert (bottom, top) == pytest.approx((1.0, 0.0))


def test_roi_and_points_map_through_the_same_transform():
    view = preview_view(FRAME, (50, 40, 800, 450))  # exactly 16:9: no crop, scale 0.625
    assert view.scale == pytest.approx(0.625)
    rx, ry, rw, rh = roi_box(FRAME, DEFAULT_ROI)
    gx, gy, gw, gh = view.roi_rect(DEFAULT_ROI)
    assert (gw, gh) == pytest.approx((rw * 0.625, rh * 0.625))
    # the region's frame-left edge is the guide's widget-right edge (mirror)
    assert view.to_widget(rx, ry + rh) == pytest.approx((gx + gw, gy))
    flat = view.points_to_widget([(rx, ry), (rx + rw, ry + rh)])
    assert flat == pytest.approx([gx + gw, gy + gh, gx, gy])


def test_placeholder_and_degenerate_sizes():
    assert PLACEHOLDER_FRAME[0] / PLACEHOLDER_FRAME[1] == pytest.approx(16 / 9)
    view = preview_view(PLACEHOLDER_FRAME, (0, 0, 0, 0))  # before the first layout
    assert view.image_rect() == (0, 0, 0, 0) or view.scale == 1.0
    small = preview_view((640, 360), (0, 0, 357, 655))  # the feed's 640-wide frames
    big = preview_view((1280, 720), (0, 0, 357, 655))
    assert small.roi_rect(DEFAULT_ROI) == pytest.approx(big.roi_rect(DEFAULT_ROI), abs=1.0)
