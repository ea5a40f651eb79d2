"""VideoPipeline with --infer_every 2: DIS flow is computed only for the frames whose mask is
propagated (unless the flow smoother needs every frame's flow), and the propagated mask is the
previous network mask warped along exactly that flow."""
import cv2
import numpy as np

from smoothing import DISFlow
from video import VideoPipeline


class _CountingDIS:
    """The real DIS object, with its calc calls counted."""

    def __init__(self, dis):
        self.dis, self.calls = dis, 0

    def calc(self, *args):
        self.calls += 1
        return self.dis.calc(*args)


def _frames(path, n):
    cap = cv2.VideoCapture(path)
    frames = [cap.read()[1] for _ in range(n)]
    cap.release()
    return frames


def _run(pipe, frames):
    alphas, inferred = [], []
    for f in frames:
        alphas.append(pipe.infer(pipe.preprocess(f), f))
        inferred.append(pipe.last_inferred)
        pipe.smooth(alphas[-1], f)
    return alphas, inferred


def test_flow_only_for_propagated_frames(exported, clip):
    frames = _frames(clip, 6)
    pipe = VideoPipeline(exported, smooth="ema", infer_every=2, backend="onnx", threads=1)
    pipe.flow.dis = spy = _CountingDIS(pipe.flow.dis)
    alphas, inferred = _run(pipe, frames)
    pipe.close()
    assert inferred == [True, False] * 3
    assert spy.calls == 3                      # frames 1, 3 and 5 only
    ref = DISFlow()                            # the same flow, computed independently
    ref.step(frames[0])
    np.testing.assert_array_equal(alphas[1], DISFlow.warp(alphas[0], ref.step(frames[1])))
    ref.step(frames[2])
    np.testing.assert_array_equal(alphas[3], DISFlow.warp(alphas[2], ref.step(frames[3])))


def test_flow_smoothing_still_gets_every_frames_flow(exported, clip):
    pipe = VideoPipeline(exported, smooth="flow", infer_every=2, backend="onnx", threads=1)
    pipe.flow.dis = spy = _CountingDIS(pipe.flow.dis)
    _run(pipe, _frames(clip, 6))
    pipe.close()
    assert spy.calls == 5                      # every frame after the first


def test_warp_equals_the_textbook_remap_and_returns_fresh_arrays():
    rng = np.random.RandomState(0)
    flow = ((rng.rand(45, 80, 2) - 0.5) * 6).astype(np.float32)
    a, b = rng.rand(90, 160).astype(np.float32), rng.rand(90, 160).astype(np.float32)
    xs, ys = np.meshgrid(np.arange(160, dtype=np.float32), np.arange(90, dtype=np.float32))
    up = cv2.resize(flow, (160, 90), interpolation=cv2.INTER_LINEAR) * np.float32(2.0)
    want = cv2.remap(a, up + np.dstack([xs, ys]), None, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)
    wa = DISFlow.warp(a, flow)
    wb = DISFlow.warp(b, flow)               # reuses the scratch buffer: wa must not change
    np.testing.assert_allclose(wa, want, atol=1e-5)
    assert not np.shares_memory(wa, wb)
    np.testing.assert_allclose(DISFlow.warp(a, flow), wa, atol=0)
    same = ((rng.rand(90, 160, 2) - 0.5) * 4).astype(np.float32)   # flow at the map's size
    np.testing.assert_allclose(DISFlow.warp(a, same), cv2.remap(
        a, same + np.dstack([xs, ys]), None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
        atol=1e-5)
