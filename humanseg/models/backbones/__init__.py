"""Backbones; importing this package registers them in ``BACKBONES``."""
from humanseg.models.backbones.hrnet import (HRNet, HRNet_W18, HRNet_W18_Small_V1,
                                             HRNet_W18_Small_V2, HRNet_W32, HRNet_W48)
from humanseg.models.backbones.mobilenetv3 import (
    MobileNetV3, MobileNetV3_large_x0_35, MobileNetV3_large_x0_5, MobileNetV3_large_x0_75,
    MobileNetV3_large_x1_0, MobileNetV3_large_x1_0_os8, MobileNetV3_large_x1_25,
    MobileNetV3_small_x0_35, MobileNetV3_small_x0_5, MobileNetV3_small_x0_75,
    MobileNetV3_small_x1_0, MobileNetV3_small_x1_0_os8, MobileNetV3_small_x1_25)
from humanseg.models.backbones.stdcnet import STDC1, STDC2, STDCNet

__all__ = ["HRNet", "HRNet_W18", "HRNet_W18_Small_V1", "HRNet_W18_Small_V2", "HRNet_W32",
           "HRNet_W48", "MobileNetV3", "MobileNetV3_large_x0_35", "MobileNetV3_large_x0_5",
           "MobileNetV3_large_x0_75", "MobileNetV3_large_x1_0", "MobileNetV3_large_x1_0_os8",
           "MobileNetV3_large_x1_25", "MobileNetV3_small_x0_35", "MobileNetV3_small_x0_5",
           "MobileNetV3_small_x0_75", "MobileNetV3_small_x1_0", "MobileNetV3_small_x1_0_os8",
           "MobileNetV3_small_x1_25", "STDC1", "STDC2", "STDCNet"]
