"""Temporal smoothing of the alpha matte, and mask propagation by optical flow.

- ``EmaSmoother``: a motion-adaptive exponential moving average. Per pixel,
  ``alpha_t = w * new + (1 - w) * alpha_{t-1}`` with ``w = clip(weight + gain * motion, weight, 1)``
  where ``motion`` is the absolute grey-level change of the frame (0..1, lightly blurred). Where
  the picture is still, mask jitter is averaged away; where something moves, the new mask wins
  at once, so the matte does not lag behind motion. ``weight`` is the lag-versus-flicker knob.
- ``FlowSmoother``: the same average, but the previous alpha is first warped into the current
  frame with OpenCV's DIS optical flow, and ``motion`` is measured after that compensation.
  When ``cv2.DISOpticalFlow_create`` is missing or flow fails, it warns once and falls back to
  ``EmaSmoother``'s behaviour.
- ``DISFlow``: the flow between consecutive frames at a reduced size (shared by the flow
  smoother and ``--infer_every`` propagation) and ``warp`` to move a map along it.
"""
from __future__ import annotations

import sys

import cv2
import numpy as np

SMOOTH_MODES = ("none", "ema", "flow")
AUTO = object()  # FlowSmoother computes the flow itself


def _gray_small(frame: np.ndarray, width: int) -> np.ndarray:
    h, w = frame.shape[:2]
    gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if w > width:
        gray = cv2.resize(gray, (width, max(int(round(h * width / w)), 1)),
                          interpolation=cv2.INTER_AREA)
    return gray


class DISFlow:
    """Dense optical flow between consecutive frames (DIS, ultra-fast preset) at ``width`` px.

    Args:
        width: Frames wider than this are downscaled before the flow (speed).

    Raises:
        RuntimeError: this OpenCV build has no DIS optical flow.
    """

    def __init__(self, width: int = 320):
        if not hasattr(cv2, "DISOpticalFlow_create"):
            raise RuntimeError("this OpenCV build has no cv2.DISOpticalFlow_create "
                               "(install opencv-python-headless >= 4.1)")
        self.dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        self.width = width
        self.prev: np.ndarray | None = None

    def reset(self) -> None:
        self.prev = None

    def step(self, frame: np.ndarray) -> np.ndarray | None:
        """Feed the next frame; returns the flow from it back to the previous frame
        (HxWx2 float32 at the reduced size) or None for the first frame."""
        gray = _gray_small(frame, self.width)
        prev, self.prev = self.prev, gray
        if prev is None or prev.shape != gray.shape:
            return None
        return self.dis.calc(gray, prev, None)

    def observe(self, frame: np.ndarray) -> None:
        """Take ``frame`` as the previous frame of the next ``step`` without computing a flow
        (for frames whose flow nobody needs)."""
        self.prev = _gray_small(frame, self.width)

    @staticmethod
    def warp(arr: np.ndarray, flow: np.ndarray) -> np.ndarray:
        """Move the previous frame's HxW map ``arr`` into the current frame along ``flow``."""
        h, w = arr.shape[:2]
        fh, fw = flow.shape[:2]
        # the sampling coordinates are built in one cached buffer per size: fresh frame-sized
        # 2-channel temporaries (and their page faults) cost several times the arithmetic
        coords = _COORDS.get((h, w))
        if coords is None:
            coords = _COORDS[(h, w)] = np.empty((h, w, 2), np.float32)
        if (fh, fw) != (h, w):
            cv2.resize(flow, (w, h), dst=coords, interpolation=cv2.INTER_LINEAR)
            cv2.multiply(coords, (w / fw, h / fh, 0, 0), dst=coords)
            cv2.add(coords, _grid(h, w), dst=coords)
        else:
            cv2.add(flow, _grid(h, w), dst=coords)
        return cv2.remap(arr, coords, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


_GRIDS: dict[tuple[int, int], np.ndarray] = {}
_COORDS: dict[tuple[int, int], np.ndarray] = {}   # DISFlow.warp's scratch buffers


def _grid(h: int, w: int) -> np.ndarray:
    """HxWx2 float32 pixel coordinates (x, y), cached per size."""
    grid = _GRIDS.get((h, w))
    if grid is None:
        xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        grid = _GRIDS[(h, w)] = np.dstack([xs, ys])
    return grid


class NoSmoother:
    """Leaves the alpha as it is."""

    name = "none"

    def reset(self) -> None:
        pass

    def observe(self, alpha: np.ndarray, frame: np.ndarray) -> None:
        pass

    def __call__(self, alpha: np.ndarray, frame: np.ndarray, flow=AUTO) -> np.ndarray:
        return alpha


class EmaSmoother:
    """Motion-adaptive exponential moving average of the alpha.

    Args:
        weight: Weight of the new alpha where nothing moves (0 < weight <= 1; lower = smoother,
            more lag on slow motion).
        gain: How fast the weight rises with the grey-level change (per unit of change in 0..1).
        motion_width: The motion map is computed at most this wide (speed).
    """

    name = "ema"

    def __init__(self, weight: float = 0.1, gain: float = 8.0, motion_width: int = 320):
        if not 0 < weight <= 1:
            raise ValueError(f"--smooth_weight must be in (0, 1]; got {weight}")
        self.weight, self.gain, self.motion_width = float(weight), float(gain), motion_width
        self.prev_alpha: np.ndarray | None = None
        self.prev_gray: np.ndarray | None = None

    def reset(self) -> None:
        self.prev_alpha = self.prev_gray = None

    def observe(self, alpha: np.ndarray, frame: np.ndarray) -> None:
        """Take ``alpha`` as the state for ``frame`` without fusing (a propagated frame)."""
        self.prev_alpha, self.prev_gray = alpha, _gray_small(frame, self.motion_width)

    def _motion(self, gray: np.ndarray, prev_gray: np.ndarray, shape: tuple[int, int]):
        """Per-pixel weight of the new alpha from the grey-level change between two frames."""
        return self._weights(cv2.absdiff(gray, prev_gray), shape)

    def _weights(self, diff: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """``clip(weight + gain * change / 255, weight, 1)`` at the alpha's ``shape``."""
        diff = cv2.blur(diff, (3, 3))
        w = self.weight + self.gain * (diff.astype(np.float32) / 255.0)
        np.clip(w, self.weight, 1.0, out=w)
        if w.shape != shape:
            w = cv2.resize(w, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
        return w

    def _fuse(self, alpha: np.ndarray, prev: np.ndarray, w: np.ndarray) -> np.ndarray:
        out = prev + w * (alpha - prev)
        return out.astype(np.float32, copy=False)

    def __call__(self, alpha: np.ndarray, frame: np.ndarray, flow=AUTO) -> np.ndarray:
        """Smooth ``alpha`` (HxW float32) of ``frame``; ``flow`` is ignored here."""
        gray = _gray_small(frame, self.motion_width)
        prev, prev_gray = self.prev_alpha, self.prev_gray
        if prev is None or prev.shape != alpha.shape or prev_gray.shape != gray.shape:
            out = alpha
        else:
            out = self._fuse(alpha, prev, self._motion(gray, prev_gray, alpha.shape))
        self.prev_alpha, self.prev_gray = out, gray
        return out


class FlowSmoother(EmaSmoother):
    """``EmaSmoother`` with the previous alpha (and frame) warped by DIS optical flow first.

    Args:
        flow: A ``DISFlow`` shared with the pipeline (None: its own); same other args as
            ``EmaSmoother``.
    """

    name = "flow"

    def __init__(self, weight: float = 0.1, gain: float = 8.0, motion_width: int = 320,
                 flow: DISFlow | None = None):
        super().__init__(weight, gain, motion_width)
        self.flow = flow
        self.fallback_reason: str | None = None
        if self.flow is None:
            try:
                self.flow = DISFlow(motion_width)
            except Exception as e:  # noqa: BLE001 - any failure means: smooth without flow
                self._fall_back(e)

    def _fall_back(self, error: Exception) -> None:
        self.fallback_reason = str(error)
        self.flow = None
        print(f"warning: optical flow unavailable ({error}); smoothing without flow (ema)",
              file=sys.stderr)

    def reset(self) -> None:
        super().reset()
        if self.flow is not None:
            self.flow.reset()

    def __call__(self, alpha: np.ndarray, frame: np.ndarray, flow=AUTO) -> np.ndarray:
        """Smooth ``alpha`` of ``frame``; ``flow`` is this frame's flow back to the previous one
        when the caller already computed it (None = no flow for this frame), else computed here."""
        if self.flow is None:
            return super().__call__(alpha, frame)
        gray = _gray_small(frame, self.motion_width)
        prev, prev_gray = self.prev_alpha, self.prev_gray
        try:
            if flow is AUTO:
                flow = self.flow.step(frame)
            if flow is None:  # first frame, or the caller's flow failed: plain ema
                return super().__call__(alpha, frame)
            if prev is None or prev.shape != alpha.shape or prev_gray.shape != gray.shape:
                out = alpha
            else:
                warped = DISFlow.warp(prev, flow)
                warped_gray = DISFlow.warp(prev_gray, flow)
                # Motion left after compensation, but never more than without it: warping
                # resamples texture (and the flow is noisy where nothing moves), which would
                # otherwise read as motion and smooth still regions less than plain ema does.
                residual = cv2.min(cv2.absdiff(gray, warped_gray), cv2.absdiff(gray, prev_gray))
                out = self._fuse(alpha, warped, self._weights(residual, alpha.shape))
        except cv2.error as e:
            self._fall_back(e)
            self.prev_alpha, self.prev_gray = prev, prev_gray
            return super().__call__(alpha, frame)
        self.prev_alpha, self.prev_gray = out, gray
        return out


def make_smoother(mode: str, weight: float = 0.1, flow: DISFlow | None = None):
    """The smoother for ``--smooth none|ema|flow``."""
    if mode == "none":
        return NoSmoother()
    if mode == "ema":
        return EmaSmoother(weight)
    if mode == "flow":
        return FlowSmoother(weight, flow=flow)
    raise ValueError(f"--smooth must be one of {list(SMOOTH_MODES)}; got {mode!r}")
