"""PaddleSeg-compatible data transforms; importing this package registers them in TRANSFORMS."""
from humanseg.transforms import functional
from humanseg.transforms.transforms import (Compose, LimitLong, Normalize, Padding,
                                            PaddingByAspectRatio, RandomAffine, RandomBlur,
                                            RandomCenterCrop, RandomDistort,
                                            RandomHorizontalFlip, RandomNoise,
                                            RandomPaddingCrop, RandomRotation,
                                            RandomScaleAspect, RandomVerticalFlip, Resize,
                                            ResizeByLong, ResizeByShort, ResizeRangeScaling,
                                            ResizeStepScaling)

__all__ = [
    "functional", "Compose", "LimitLong", "Normalize", "Padding", "PaddingByAspectRatio",
    "RandomAffine", "RandomBlur", "RandomCenterCrop", "RandomDistort", "RandomHorizontalFlip",
    "RandomNoise", "RandomPaddingCrop", "RandomRotation", "RandomScaleAspect",
    "RandomVerticalFlip", "Resize", "ResizeByLong", "ResizeByShort", "ResizeRangeScaling",
    "ResizeStepScaling",
]
