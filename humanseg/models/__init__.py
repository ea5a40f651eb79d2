"""Segmentation models; importing this package registers them in ``MODELS``."""
from humanseg.models.fast_scnn import FastSCNN
from humanseg.models.fcn import FCN
from humanseg.models.mobileseg import MobileSeg
from humanseg.models.ocrnet import OCRNet
from humanseg.models.pp_liteseg import PPLiteSeg
from humanseg.models.pphumanseg_lite import PPHumanSegLite

__all__ = ["FCN", "FastSCNN", "MobileSeg", "OCRNet", "PPHumanSegLite", "PPLiteSeg"]
