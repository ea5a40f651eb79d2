"""Backbones; importing this package registers them in ``BACKBONES``."""
from humanseg.models.backbones.hrnet import (HRNet, HRNet_W18, HRNet_W18_Small_V1,
                                             HRNet_W18_Small_V2, HRNet_W32, HRNet_W48)

__all__ = ["HRNet", "HRNet_W18", "HRNet_W18_Small_V1", "HRNet_W18_Small_V2", "HRNet_W32",
           "HRNet_W48"]
