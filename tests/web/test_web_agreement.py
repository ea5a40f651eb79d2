"""The page's masks equal deploy/python/video.py's on the frames of a synthetic call (same model,
same smoothing), in real headless Chromium with real onnxruntime-web; and the fake-camera path
(getUserMedia) produces masks of the camera's frames."""
import numpy as np
import pytest

from web_helpers import decode, page_masks, python_alphas


@pytest.fixture(scope="module")
def page(browser, server):
    p = browser.open(server.url + "?source=none")
    info = p.evaluate("humanseg.ready")
    assert info["netSize"] == [96, 64] and info["outputOp"] == "softmax"
    yield p
    p.close()


@pytest.mark.parametrize("smooth,weight", [("ema", 0.1), ("none", 1.0)])
def test_page_masks_equal_video_py(page, web_model, call_frames, smooth, weight):
    folder, frames, _ = call_frames
    page.evaluate(f"humanseg.setOptions({{smooth: '{smooth}', weight: {weight}}})")
    results = page_masks(page, len(frames))
    reference = python_alphas(web_model, frames, smooth, weight)
    assert len(results) == len(frames)
    for i, (res, ref) in enumerate(zip(results, reference)):
        mask, alpha = decode(res, "mask"), decode(res, "alpha") / 255.0
        assert mask.shape == ref.shape
        agree = float(np.mean(mask == (ref > 0.5)))
        assert agree >= 0.99, f"frame {i}: the page agrees with video.py on {agree:.4f} of pixels"
        # the soft alpha too, within the 8-bit read-back rounding (and the float32 arithmetic)
        assert float(np.mean(np.abs(alpha - ref))) < 0.005, f"frame {i}"
        assert 0.02 < mask.mean() < 0.98, f"frame {i}: a trivial mask ({mask.mean():.3f})"


def test_ema_is_the_lag_flicker_knob_in_the_page(page, web_model, call_frames):
    """Lower weight = more smoothing: the page's alpha moves less between frames, as video.py's."""
    _, frames, _ = call_frames
    moves = {}
    for weight in (0.1, 1.0):
        page.evaluate(f"humanseg.setOptions({{smooth: 'ema', weight: {weight}}})")
        alphas = [decode(r, "alpha") / 255.0 for r in page_masks(page, len(frames))]
        moves[weight] = np.mean([np.abs(b - a).mean() for a, b in zip(alphas, alphas[1:])])
    assert moves[0.1] < 0.8 * moves[1.0], moves


def test_fake_camera_frames_get_masks(browser, server, web_model, call_frames):
    """getUserMedia on Chromium's fake camera (the clip as .y4m): frames flow through the worker,
    the output canvas shows them, and a live mask matches video.py's mask of one of the clip's
    frames (the camera loops the clip at its own pace, so which one is not known)."""
    _, frames, _ = call_frames
    page = browser.open(server.url + "?source=camera&smooth=none")
    try:
        page.wait_for("humanseg.summary().frames >= 5", timeout=60)
        live = decode(page.evaluate("humanseg.nextMask()", timeout=30))
        summary = page.evaluate("humanseg.summary()")
        canvas = page.evaluate("[document.getElementById('output').width, "
                               "document.getElementById('output').height]")
    finally:
        page.close()
    assert summary["source"] == "camera" and not summary["errors"]
    assert summary["fps"] > 0 and summary["stageMs"]["infer"] > 0
    assert live.shape == frames[0].shape[:2] and canvas == [frames[0].shape[1], frames[0].shape[0]]
    reference = python_alphas(web_model, frames, "none")
    best = max(float(np.mean(live == (ref > 0.5))) for ref in reference)
    # the camera's frames went through y4m's 4:2:0 and Chromium's YUV->RGB, not the PNGs
    assert best > 0.9, best
