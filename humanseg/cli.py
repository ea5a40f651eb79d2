"""What every tool shares: clean failures (one message, exit 2), config loading, seeding."""
from __future__ import annotations

import functools
import os
import random
import sys

import numpy as np

from humanseg.cvlibs.checks import TRAIN_KEYS, check_config
from humanseg.cvlibs.config import apply_opts, load_config
from humanseg.errors import HumanSegError

USER_ERROR_EXIT = 2


def run_tool(main):
    """Decorate a tool's ``main``: a HumanSegError prints ``error: <message>`` and exits 2;
    an interruption (Ctrl-C, or SIGTERM during training) exits 128 + the signal number."""

    @functools.wraps(main)
    def wrapper(argv=None):
        try:
            return main(argv)
        except HumanSegError as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(USER_ERROR_EXIT)
        except KeyboardInterrupt as e:
            print(f"interrupted: {e}" if str(e) else "interrupted", file=sys.stderr)
            sys.exit(128 + int(getattr(e, "signum", 2)))

    return wrapper


def load_checked_config(path: str, opts: list[str] | None = None,
                        required: tuple[str, ...] = TRAIN_KEYS, **overrides) -> dict:
    """Load ``path`` with its bases, apply ``--opts`` and top-level overrides that are not None,
    then check it."""
    cfg = apply_opts(load_config(path), opts)
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    return check_config(cfg, required)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and Paddle."""
    import paddle
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)


def set_device(device: str) -> str:
    """Select 'cpu' or 'gpu' (falls back to cpu with a message when Paddle has no CUDA)."""
    import paddle
    if device == "gpu" and not paddle.device.is_compiled_with_cuda():
        print("note: this Paddle build has no CUDA; running on cpu", file=sys.stderr)
        device = "cpu"
    paddle.set_device(device)
    return device


def add_common_args(parser) -> None:
    parser.add_argument("--config", required=True, help="YAML config file")
    parser.add_argument("--opts", nargs="+", default=None, metavar="KEY=VALUE",
                        help="override config keys, e.g. train_dataset.dataset_root=data/x")
    parser.add_argument("--device", default="cpu", choices=["cpu", "gpu"])


def ensure_dir(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    return path
