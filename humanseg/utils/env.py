"""Environment information logged at the start of a run."""
from __future__ import annotations

import os
import platform
import subprocess
import sys


def env_info() -> dict:
    import cv2
    import numpy
    import paddle
    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "paddle": paddle.__version__,
        "paddle_cuda": paddle.device.is_compiled_with_cuda(),
        "device": paddle.device.get_device(),
        "numpy": numpy.__version__,
        "opencv": cv2.__version__,
    }
    try:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        info["git_commit"] = subprocess.run(
            ["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
            timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["git_commit"] = None
    return info
