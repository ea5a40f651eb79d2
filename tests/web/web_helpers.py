"""Helpers of the browser tests: masks read back from the page, video.py's masks for the same
frames."""
import json

import numpy as np

from bench_web import decode  # noqa: F401  (the bench reads the page's masks the same way)


def page_masks(page, count: int) -> list[dict]:
    """The page's results for /frames/0000.png ... in order (smoothing state carried)."""
    urls = json.dumps([f"/frames/{i:04d}.png" for i in range(count)])
    return page.evaluate(f"humanseg.processFrames({urls})", timeout=180)


def python_alphas(model_dir: str, frames, smooth: str, weight: float = 0.1) -> list[np.ndarray]:
    """deploy/python/video.py's smoothed alpha of each frame (the same stages as ``process``)."""
    from video import VideoPipeline
    pipe = VideoPipeline(model_dir, background="green", smooth=smooth, smooth_weight=weight)
    out = []
    for frame in frames:
        alpha = pipe.infer(pipe.preprocess(frame), frame)
        out.append(pipe.smooth(alpha, frame))
    pipe.close()
    return out
