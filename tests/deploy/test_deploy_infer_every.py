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
