"""Temporal smoothing: less frame-to-frame change on jittery masks, no lag on real motion, and a
graceful fallback when optical flow is unavailable."""
import cv2
import numpy as np
import pytest

import smoothing
from compositing import composite, letterbox, unletterbox
from smoothing import DISFlow, EmaSmoother, FlowSmoother, make_smoother


def _scene(shift, h=120, w=200):
    """A textured frame with a bright 'person' box shifted by ``shift`` px, and its true alpha."""
    rng = np.random.RandomState(0)
    frame = cv2.GaussianBlur((rng.rand(h, w, 3) * 255).astype(np.uint8), (5, 5), 0)
    alpha = np.zeros((h, w), np.float32)
    x0 = 60 + shift
    frame[30:110, x0:x0 + 50] = (cv2.GaussianBlur(
        (rng.rand(80, 50, 3) * 120 + 130).astype(np.uint8), (5, 5), 0))
    alpha[30:110, x0:x0 + 50] = 1.0
    return frame, alpha


def _flicker(alphas):
    return float(np.mean([np.abs(a - b).mean() for a, b in zip(alphas[1:], alphas[:-1])]))


@pytest.mark.parametrize("mode", ["ema", "flow"])
def test_smoothing_reduces_jitter_on_a_still_scene(mode):
    frame, truth = _scene(0)
    rng = np.random.RandomState(1)
    noisy = [np.clip(truth + rng.uniform(-0.3, 0.3, truth.shape), 0, 1).astype(np.float32)
             for _ in range(30)]
    smoother = make_smoother(mode)
    smoothed = [smoother(a, frame) for a in noisy]
    raw, out = _flicker(noisy), _flicker(smoothed[5:])
    assert out < raw / 3, (raw, out)
    assert np.abs(smoothed[-1] - truth).mean() < np.abs(noisy[-1] - truth).mean()
    assert _flicker([make_smoother("none")(a, frame) for a in noisy]) == raw


@pytest.mark.parametrize("mode", ["ema", "flow"])
def test_smoothing_follows_motion(mode):
    """A box moving 4 px per frame: the smoothed mask stays on it (no ghost trail)."""
    smoother = make_smoother(mode)
    errors = []
    for i in range(12):
        frame, alpha = _scene(4 * i)
        out = smoother(alpha, frame)
        errors.append(np.abs(out - alpha).mean())
    # A plain (not motion-adaptive) average would trail: 0.06 mean error per frame at weight 0.3.
    assert max(errors) < 0.02, errors


def test_flow_warp_moves_a_map():
    flow = DISFlow(width=200)
    f0, a0 = _scene(0)
    f1, a1 = _scene(6)
    assert flow.step(f0) is None
    fl = flow.step(f1)
    warped = DISFlow.warp(a0, fl)
    assert np.abs(warped - a1).mean() < 0.5 * np.abs(a0 - a1).mean()


def test_flow_smoother_falls_back_without_dis(monkeypatch, capsys):
    monkeypatch.delattr(cv2, "DISOpticalFlow_create")
    smoother = FlowSmoother()
    assert smoother.flow is None and "without flow" in capsys.readouterr().err
    frame, truth = _scene(0)
    rng = np.random.RandomState(2)
    noisy = [np.clip(truth + rng.uniform(-0.3, 0.3, truth.shape), 0, 1).astype(np.float32)
             for _ in range(10)]
    ema = EmaSmoother()
    for a in noisy:
        np.testing.assert_array_equal(smoother(a, frame), ema(a, frame))


def test_flow_smoother_falls_back_when_flow_fails(capsys):
    class Broken:
        def step(self, frame):
            raise cv2.error("boom")

        def reset(self):
            pass

    smoother = FlowSmoother(flow=Broken())
    frame, truth = _scene(0)
    out = [smoother(truth, frame) for _ in range(3)]
    assert smoother.flow is None and "without flow" in capsys.readouterr().err
    np.testing.assert_array_equal(out[-1], truth)


def test_bad_smoothing_arguments():
    with pytest.raises(ValueError, match="--smooth"):
        make_smoother("median")
    with pytest.raises(ValueError, match="weight"):
        smoothing.EmaSmoother(weight=0)


def test_composite_and_letterbox():
    frame = np.full((90, 160, 3), 200, np.uint8)
    bg = np.zeros_like(frame)
    alpha = np.zeros((90, 160), np.float32)
    alpha[:, 80:] = 1.0
    alpha[:, 40] = 0.5
    out = composite(frame, alpha, bg)
    assert (out[:, 80:] == 200).all() and (out[:, :40] == 0).all() and (out[:, 40] == 100).all()
    portrait = np.zeros((320, 180, 3), np.uint8)
    padded, pads = letterbox(portrait, 398 / 224)
    assert abs(padded.shape[1] / padded.shape[0] - 398 / 224) < 0.01
    assert padded.shape[0] == 320 and pads[2] + pads[3] == padded.shape[1] - 180
    assert unletterbox(padded, pads).shape == portrait.shape
    landscape = np.zeros((100, 400, 3), np.uint8)
    padded, pads = letterbox(landscape, 398 / 224)
    assert padded.shape[1] == 400 and unletterbox(padded[..., 0], pads).shape == (100, 400)
    same, pads = letterbox(np.zeros((224, 398, 3), np.uint8), 398 / 224)
    assert pads == (0, 0, 0, 0) and same.shape == (224, 398, 3)
