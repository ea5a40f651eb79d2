"""The 'humanseg' logger; only tools/ configure its handlers."""
from __future__ import annotations

import logging
import os
import sys

logger = logging.getLogger("humanseg")

_FORMAT = "%(asctime)s %(levelname)s %(message)s"


def setup_logging(log_file: str | None = None, level: int = logging.INFO) -> logging.Logger:
    """Log to stdout (and to ``log_file`` when given); safe to call more than once."""
    logger.setLevel(level)
    logger.propagate = False
    formatter = logging.Formatter(_FORMAT, datefmt="%Y-%m-%d %H:%M:%S")
    if not any(isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)
               for h in logger.handlers):
        stream = logging.StreamHandler(sys.stdout)
        stream.setFormatter(formatter)
        logger.addHandler(stream)
    if log_file:
        path = os.path.abspath(log_file)
        if not any(getattr(h, "baseFilename", None) == path for h in logger.handlers):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
            handler.setFormatter(formatter)
            logger.addHandler(handler)
    return logger
