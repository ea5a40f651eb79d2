"""The per-frame stages the bench times, for our deploy/python pipeline and for a peer segmenter.

Every runner exposes ``preprocess(frame) -> x``, ``infer(x) -> alpha`` (float32 HxW in [0, 1]
at the frame's size, before smoothing), ``smooth(alpha, frame) -> alpha``,
``composite(frame, alpha) -> frame`` and ``reset()``; decode and encode are the bench's own
(cv2.VideoCapture / cv2.VideoWriter), the same for every runner.
"""
from __future__ import annotations

import os
import sys

import numpy as np

DEPLOY_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "deploy", "python")
if DEPLOY_DIR not in sys.path:
    sys.path.insert(0, DEPLOY_DIR)

import compositing  # noqa: E402  (deploy/python)
import smoothing  # noqa: E402


class PeerRunner:
    """A peer segmenter (``preprocess``/``infer``) behind our smoothing and compositing."""

    def __init__(self, segmenter, background: str = "green", smooth: str = "none",
                 smooth_weight: float = 0.3):
        self.seg = segmenter
        self.name = segmenter.name
        self.smooth_mode = smooth
        self.smoother = smoothing.make_smoother(smooth, smooth_weight)
        self.background = compositing.parse_background(background)
        self.infer_every = 1

    def reset(self) -> None:
        self.smoother.reset()

    def preprocess(self, frame: np.ndarray):
        return self.seg.preprocess(frame)

    def infer(self, x) -> np.ndarray:
        return self.seg.infer(x)

    def smooth(self, alpha: np.ndarray, frame: np.ndarray) -> np.ndarray:
        return self.smoother(alpha, frame)

    def composite(self, frame: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        return compositing.composite(frame, alpha, self.background.get(frame))

    def close(self) -> None:
        self.seg.close()


class PipelineRunner:
    """Our app's own per-frame stages: deploy/python/video.py's ``VideoPipeline``.

    ``infer`` is the network run (or, with ``infer_every`` > 1, the flow propagation on skipped
    frames) plus the mapping of the foreground probability back to the frame, so its alpha is
    what the app composites; with flow smoothing or ``infer_every`` > 1 the frame's DIS flow is
    computed inside ``infer`` too (the pipeline computes it once per frame).
    """

    def __init__(self, model_dir: str, name: str, smooth: str = "none", background: str = "green",
                 threads: int | None = None, onnx_path: str | None = None, infer_every: int = 1,
                 smooth_weight: float = 0.3):
        from video import VideoPipeline  # deploy/python
        self.pipe = VideoPipeline(model_dir, background=background, smooth=smooth,
                                  smooth_weight=smooth_weight, infer_every=infer_every, backend="onnx", threads=threads,
                                  onnx_path=onnx_path)
        self.name = name
        self.smooth_mode = smooth
        self.infer_every = infer_every
        self._frame = None

    @property
    def last_inferred(self) -> bool:
        return self.pipe.last_inferred

    def reset(self) -> None:
        self.pipe.reset()

    def preprocess(self, frame: np.ndarray):
        self._frame = frame
        return self.pipe.preprocess(frame)

    def infer(self, prep) -> np.ndarray:
        return self.pipe.infer(prep, self._frame)

    def smooth(self, alpha: np.ndarray, frame: np.ndarray) -> np.ndarray:
        return self.pipe.smooth(alpha, frame)

    def composite(self, frame: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        return self.pipe.composite(frame, alpha)

    def close(self) -> None:
        self.pipe.close()
