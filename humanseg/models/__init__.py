"""Segmentation models; importing this package registers them in ``MODELS``."""
from humanseg.models.pphumanseg_lite import PPHumanSegLite

__all__ = ["PPHumanSegLite"]
