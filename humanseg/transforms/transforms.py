"""PaddleSeg-compatible transforms on a sample dict (img, label, gt_fields, trans_info)."""
from __future__ import annotations

import math
import random
from typing import Any, Callable, Sequence

import cv2
import numpy as np
from PIL import Image

from humanseg.cvlibs.registry import TRANSFORMS
from humanseg.transforms import functional as F

Data = dict[str, Any]

__all__ = [
    "Compose", "RandomHorizontalFlip", "RandomVerticalFlip", "Resize", "ResizeByLong",
    "ResizeByShort", "LimitLong", "ResizeRangeScaling", "ResizeStepScaling", "Normalize",
    "Padding", "PaddingByAspectRatio", "RandomPaddingCrop", "RandomCenterCrop", "RandomNoise",
    "RandomBlur", "RandomRotation", "RandomScaleAspect", "RandomDistort", "RandomAffine",
]


# ----------------------------------------------------------------------------- argument checks
def _check_size(name: str, value: Any) -> tuple[int, int]:
    """Validate a ``(w, h)`` pair of positive ints."""
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, (int, np.integer)) and v > 0 for v in value)):
        raise ValueError(f"`{name}` must be a list or tuple of two positive ints (width, height), "
                         f"e.g. [512, 512]; got {value!r}")
    return int(value[0]), int(value[1])


def _check_prob(name: str, value: Any) -> float:
    if not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f"`{name}` must be a probability in [0, 1]; got {value!r}")
    return float(value)


def _check_positive_int(name: str, value: Any, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        extra = " or null" if allow_none else ""
        raise ValueError(f"`{name}` must be a positive int{extra}; got {value!r}")
    return int(value)


def _check_non_negative(name: str, value: Any) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"`{name}` must be a number >= 0; got {value!r}")
    return value


def _check_img(data: Data, op: object) -> np.ndarray:
    img = data.get("img") if isinstance(data, dict) else None
    if not isinstance(img, np.ndarray) or img.ndim not in (2, 3):
        raise ValueError(f"{type(op).__name__}: data['img'] must be an HxW or HxWxC numpy array "
                         f"(the dataset decodes images before the transforms); got {type(img)}")
    return img


def _apply_geometric(data: Data, img_fn: Callable[[np.ndarray], np.ndarray],
                     label_fn: Callable[[np.ndarray], np.ndarray]) -> Data:
    """Apply ``img_fn`` to ``data['img']`` and ``label_fn`` to every key in ``gt_fields``."""
    data["img"] = img_fn(data["img"])
    for key in data.get("gt_fields", []):
        data[key] = label_fn(data[key])
    return data


def _resize_all(data: Data, size_wh: Sequence[int], interp: int) -> Data:
    """Resize the image with ``interp`` and the gt fields with nearest neighbour to ``(w, h)``."""
    return _apply_geometric(data, lambda a: F.resize(a, size_wh, interp),
                            lambda a: F.resize(a, size_wh, cv2.INTER_NEAREST))


def _record(data: Data, kind: str) -> None:
    """Append ``(kind, (h, w))`` of the current image to ``trans_info``."""
    data.setdefault("trans_info", []).append((kind, data["img"].shape[0:2]))


def _pad_all(data: Data, pad_h: int, pad_w: int, im_value: float, label_value: float) -> Data:
    return _apply_geometric(data, lambda a: F.pad_bottom_right(a, pad_h, pad_w, im_value),
                            lambda a: F.pad_bottom_right(a, pad_h, pad_w, label_value))


# ----------------------------------------------------------------------------- composition
@TRANSFORMS.register
class Compose:
    """Run transforms in order, then lay the image out as a CxHxW float32 array.

    Args:
        transforms: Callables ``op(data) -> data``; an empty list only re-lays the image out.
        img_channels: Number of channels the input image must have.

    Raises:
        ValueError: ``transforms`` is not a list of callables, or the image has another
            number of channels than ``img_channels``.
    """

    def __init__(self, transforms: list, img_channels: int = 3):
        if not isinstance(transforms, (list, tuple)):
            raise ValueError(f"`transforms` must be a list of transforms; got {type(transforms)}")
        for i, op in enumerate(transforms):
            if not callable(op):
                raise ValueError(f"`transforms[{i}]` is not a transform (got {op!r}); give a "
                                 "dict with a registered `type` or a callable op(data) -> data")
        self.transforms = list(transforms)
        self.img_channels = _check_positive_int("img_channels", img_channels)

    def __call__(self, data: Data) -> Data:
        img = _check_img(data, self)
        channels = F.num_channels(img)
        if channels != self.img_channels:
            raise ValueError(f"the image has {channels} channel(s) but img_channels is "
                             f"{self.img_channels}; set `img_channels: {channels}` in the dataset "
                             "config or convert the images")
        data.setdefault("trans_info", [])
        for op in self.transforms:
            data = op(data)
        img = data["img"]
        if img.ndim == 2:
            img = img[..., np.newaxis]
        data["img"] = np.ascontiguousarray(img.transpose(2, 0, 1), dtype=np.float32)
        for key in data.get("gt_fields", []):
            data[key] = np.ascontiguousarray(data[key])
        return data

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r}, img_channels={self.img_channels})"


# ----------------------------------------------------------------------------- flips
@TRANSFORMS.register
class RandomHorizontalFlip:
    """Mirror image and gt fields left-right with probability ``prob``.

    Args:
        prob: Probability of flipping.
    """

    def __init__(self, prob: float = 0.5):
        self.prob = _check_prob("prob", prob)

    def __call__(self, data: Data) -> Data:
        if random.random() < self.prob:
            data = _apply_geometric(data, F.horizontal_flip, F.horizontal_flip)
        return data


@TRANSFORMS.register
class RandomVerticalFlip:
    """Mirror image and gt fields top-bottom with probability ``prob``.

    Args:
        prob: Probability of flipping.
    """

    def __init__(self, prob: float = 0.1):
        self.prob = _check_prob("prob", prob)

    def __call__(self, data: Data) -> Data:
        if random.random() < self.prob:
            data = _apply_geometric(data, F.vertical_flip, F.vertical_flip)
        return data


# ----------------------------------------------------------------------------- resizing
@TRANSFORMS.register
class Resize:
    """Resize to a fixed size; records ``('resize', (h, w))`` in ``trans_info``.

    Args:
        target_size: Output size ``(w, h)``.
        keep_ratio: Keep the aspect ratio: scale so the long side fits the long side of
            ``target_size`` and the short side fits its short side.
        size_divisor: Round the output width and height up to a multiple of this.
        interp: 'NEAREST', 'LINEAR', 'CUBIC', 'AREA', 'LANCZOS4' or 'RANDOM' (one of them
            drawn per call). Gt fields always use nearest neighbour.
    """

    def __init__(self, target_size: Sequence[int] = (512, 512), keep_ratio: bool = False,
                 size_divisor: int | None = None, interp: str = "LINEAR"):
        self.target_size = _check_size("target_size", target_size)
        if interp != "RANDOM" and interp not in F.INTERP_FLAGS:
            raise ValueError(f"`interp` must be one of {[*F.INTERP_FLAGS, 'RANDOM']}; "
                             f"got {interp!r}")
        self.keep_ratio = bool(keep_ratio)
        self.size_divisor = _check_positive_int("size_divisor", size_divisor, allow_none=True)
        self.interp = interp

    def _output_size(self, h: int, w: int) -> list[int]:
        size = list(self.target_size)
        if self.keep_ratio:
            size, _ = F.rescale_size((w, h), self.target_size)
        if self.size_divisor:
            size = [math.ceil(s / self.size_divisor) * self.size_divisor for s in size]
        return size

    def __call__(self, data: Data) -> Data:
        img = _check_img(data, self)
        _record(data, "resize")
        interp = random.choice(list(F.INTERP_FLAGS)) if self.interp == "RANDOM" else self.interp
        return _resize_all(data, self._output_size(*img.shape[:2]), F.INTERP_FLAGS[interp])


@TRANSFORMS.register
class ResizeByLong:
    """Resize so the long side equals ``long_size``, keeping the aspect ratio; records trans_info.

    Args:
        long_size: Target length of the long side.
    """

    def __init__(self, long_size: int):
        self.long_size = _check_positive_int("long_size", long_size)

    def __call__(self, data: Data) -> Data:
        _check_img(data, self)
        _record(data, "resize")
        return _apply_geometric(data, lambda a: F.resize_long(a, self.long_size),
                                lambda a: F.resize_long(a, self.long_size, cv2.INTER_NEAREST))


@TRANSFORMS.register
class ResizeByShort:
    """Resize so the short side equals ``short_size``, keeping the aspect ratio; records trans_info.

    Args:
        short_size: Target length of the short side, or a list to draw one from per call.
        max_size: Upper bound of the long side; the short side is reduced to respect it.
    """

    def __init__(self, short_size: int | Sequence[int], max_size: float = 1e10):
        sizes = short_size if isinstance(short_size, (list, tuple)) else [short_size]
        if not sizes:
            raise ValueError("`short_size` must be a positive int or a non-empty list of them")
        for s in sizes:
            _check_positive_int("short_size", s)
        self.short_size = short_size
        self.max_size = _check_non_negative("max_size", max_size)

    def __call__(self, data: Data) -> Data:
        h, w = _check_img(data, self).shape[:2]
        _record(data, "resize")
        short = (random.choice(self.short_size) if isinstance(self.short_size, (list, tuple))
                 else self.short_size)
        if short / min(h, w) * max(h, w) > self.max_size:
            short = int(self.max_size / max(h, w) * min(h, w))
        return _apply_geometric(data, lambda a: F.resize_short(a, short),
                                lambda a: F.resize_short(a, short, cv2.INTER_NEAREST))


@TRANSFORMS.register
class LimitLong:
    """Bring the long side into ``[min_long, max_long]``, keeping the aspect ratio.

    Always records ``('resize', (h, w))`` in trans_info, even when nothing changes.

    Args:
        max_long: Long sides above this are resized down to it (None: no upper bound).
        min_long: Long sides below this are resized up to it (None: no lower bound).
    """

    def __init__(self, max_long: int | None = None, min_long: int | None = None):
        self.max_long = _check_positive_int("max_long", max_long, allow_none=True)
        self.min_long = _check_positive_int("min_long", min_long, allow_none=True)
        if max_long is not None and min_long is not None and min_long > max_long:
            raise ValueError(f"`min_long` ({min_long}) must not exceed `max_long` ({max_long})")

    def __call__(self, data: Data) -> Data:
        long_edge = max(_check_img(data, self).shape[:2])
        _record(data, "resize")
        target = long_edge
        if self.max_long is not None and long_edge > self.max_long:
            target = self.max_long
        elif self.min_long is not None and long_edge < self.min_long:
            target = self.min_long
        if target == long_edge:
            return data
        return _apply_geometric(data, lambda a: F.resize_long(a, target),
                                lambda a: F.resize_long(a, target, cv2.INTER_NEAREST))


@TRANSFORMS.register
class ResizeRangeScaling:
    """Resize the long side to a random length in ``[min_value, max_value]``.

    Args:
        min_value: Smallest long side.
        max_value: Largest long side.
    """

    def __init__(self, min_value: int = 400, max_value: int = 600):
        if min_value > max_value:
            raise ValueError(f"`min_value` ({min_value}) must not exceed `max_value` ({max_value})")
        self.min_value = _check_positive_int("min_value", min_value)
        self.max_value = _check_positive_int("max_value", max_value)

    def __call__(self, data: Data) -> Data:
        _check_img(data, self)
        if self.min_value == self.max_value:
            size = self.max_value
        else:
            size = int(np.random.uniform(self.min_value, self.max_value) + 0.5)
        return _apply_geometric(data, lambda a: F.resize_long(a, size),
                                lambda a: F.resize_long(a, size, cv2.INTER_NEAREST))


@TRANSFORMS.register
class ResizeStepScaling:
    """Rescale by a random factor in ``[min_scale_factor, max_scale_factor]``.

    Args:
        min_scale_factor: Smallest factor.
        max_scale_factor: Largest factor.
        scale_step_size: Factors are drawn from the grid ``min, min + step, ..., max``;
            0 draws uniformly from the interval.
    """

    def __init__(self, min_scale_factor: float = 0.75, max_scale_factor: float = 1.25,
                 scale_step_size: float = 0.25):
        if not 0 < min_scale_factor <= max_scale_factor:
            raise ValueError(f"need 0 < `min_scale_factor` <= `max_scale_factor`; got "
                             f"{min_scale_factor} and {max_scale_factor}")
        self.min_scale_factor = min_scale_factor
        self.max_scale_factor = max_scale_factor
        self.scale_step_size = _check_non_negative("scale_step_size", scale_step_size)

    def _draw_factor(self) -> float:
        lo, hi, step = self.min_scale_factor, self.max_scale_factor, self.scale_step_size
        if lo == hi:
            return lo
        if step == 0:
            return np.random.uniform(lo, hi)
        grid = np.linspace(lo, hi, int((hi - lo) / step + 1)).tolist()
        np.random.shuffle(grid)  # consumes the RNG like PaddleSeg, so seeds give its draws
        return grid[0]

    def __call__(self, data: Data) -> Data:
        h, w = _check_img(data, self).shape[:2]
        new_h, new_w = F.scaled_shape(h, w, self._draw_factor())
        return _resize_all(data, (new_w, new_h), cv2.INTER_LINEAR)


@TRANSFORMS.register
class RandomScaleAspect:
    """Crop a random region of random area and aspect ratio and resize it back to the input size.

    Args:
        min_scale: Smallest area of the crop relative to the image; 0 disables the transform.
        aspect_ratio: Smallest aspect ratio of the crop (the largest is its inverse);
            0 disables the transform.
    """

    def __init__(self, min_scale: float = 0.5, aspect_ratio: float = 0.33):
        if not 0 <= min_scale <= 1:
            raise ValueError(f"`min_scale` must be in [0, 1]; got {min_scale!r}")
        if not 0 <= aspect_ratio <= 1:
            raise ValueError(f"`aspect_ratio` must be in [0, 1]; got {aspect_ratio!r}")
        self.min_scale = min_scale
        self.aspect_ratio = aspect_ratio

    def _draw_box(self, h: int, w: int) -> tuple[int, int, int, int] | None:
        for _ in range(10):
            area = h * w * np.random.uniform(self.min_scale, 1.0)
            ratio = np.random.uniform(self.aspect_ratio, 1.0 / self.aspect_ratio)
            dw, dh = int(np.sqrt(area * ratio)), int(np.sqrt(area / ratio))
            if np.random.randint(10) < 5:
                dw, dh = dh, dw
            if 0 < dh < h and 0 < dw < w:
                y1 = np.random.randint(0, h - dh)
                x1 = np.random.randint(0, w - dw)
                return x1, y1, x1 + dw, y1 + dh
        return None

    def __call__(self, data: Data) -> Data:
        h, w = _check_img(data, self).shape[:2]
        if self.min_scale == 0 or self.aspect_ratio == 0:
            return data
        box = self._draw_box(h, w)
        if box is None:
            return data
        data = _apply_geometric(data, lambda a: F.crop(a, box), lambda a: F.crop(a, box))
        return _resize_all(data, (w, h), cv2.INTER_LINEAR)


# ----------------------------------------------------------------------------- normalisation
@TRANSFORMS.register
class Normalize:
    """Scale to [0, 1] by dividing by 255, then subtract ``mean`` and divide by ``std``.

    Args:
        mean: Per-channel mean (one value for all channels, or one per channel).
        std: Per-channel standard deviation, non-zero.
    """

    def __init__(self, mean: Sequence[float] = (0.5,), std: Sequence[float] = (0.5,)):
        for name, value in (("mean", mean), ("std", std)):
            if not isinstance(value, (list, tuple)) or not value:
                raise ValueError(f"`{name}` must be a non-empty list of numbers, one per channel "
                                 f"or a single one; got {value!r}")
        if any(s == 0 for s in std):
            raise ValueError(f"`std` must not contain 0; got {list(std)}")
        self.mean = np.array(mean, dtype=np.float64)
        self.std = np.array(std, dtype=np.float64)

    def __call__(self, data: Data) -> Data:
        img = _check_img(data, self)
        channels = F.num_channels(img)
        for name, value in (("mean", self.mean), ("std", self.std)):
            if len(value) not in (1, channels):
                raise ValueError(f"Normalize `{name}` has {len(value)} values but the image has "
                                 f"{channels} channel(s); give 1 or {channels} values")
        data["img"] = F.normalize(img, self.mean, self.std)
        return data


# ----------------------------------------------------------------------------- padding and crops
@TRANSFORMS.register
class Padding:
    """Pad bottom and right up to ``target_size``; records ``('padding', (h, w))`` in trans_info.

    Args:
        target_size: Output size ``(w, h)`` (or one int for a square); must not be smaller
            than the image.
        im_padding_value: Fill value of the image.
        label_padding_value: Fill value of the gt fields.
    """

    def __init__(self, target_size: Sequence[int] | int, im_padding_value: float = 127.5,
                 label_padding_value: int = 255):
        if isinstance(target_size, (int, np.integer)) and not isinstance(target_size, bool):
            target_size = (target_size, target_size)
        self.target_size = _check_size("target_size", target_size)
        self.im_padding_value = im_padding_value
        self.label_padding_value = label_padding_value

    def __call__(self, data: Data) -> Data:
        h, w = _check_img(data, self).shape[:2]
        _record(data, "padding")
        target_w, target_h = self.target_size
        if h > target_h or w > target_w:
            raise ValueError(f"Padding: the image ({w}x{h}, w x h) is larger than target_size "
                             f"({target_w}x{target_h}); resize it first or raise target_size")
        return _pad_all(data, target_h - h, target_w - w, self.im_padding_value,
                        self.label_padding_value)


@TRANSFORMS.register
class PaddingByAspectRatio:
    """Pad bottom or right until ``width / height == aspect_ratio``; records trans_info if it pads.

    Args:
        aspect_ratio: Target width / height.
        im_padding_value: Fill value of the image.
        label_padding_value: Fill value of the gt fields.
    """

    def __init__(self, aspect_ratio: float = 1, im_padding_value: float = 127.5,
                 label_padding_value: int = 255):
        if not isinstance(aspect_ratio, (int, float)) or aspect_ratio <= 0:
            raise ValueError(f"`aspect_ratio` must be a number > 0 (width / height); "
                             f"got {aspect_ratio!r}")
        self.aspect_ratio = aspect_ratio
        self.im_padding_value = im_padding_value
        self.label_padding_value = label_padding_value

    def __call__(self, data: Data) -> Data:
        h, w = _check_img(data, self).shape[:2]
        ratio = w / h
        if ratio == self.aspect_ratio:
            return data
        if ratio > self.aspect_ratio:
            h = int(w / self.aspect_ratio)
        else:
            w = int(h * self.aspect_ratio)
        return Padding((w, h), self.im_padding_value, self.label_padding_value)(data)


@TRANSFORMS.register
class RandomPaddingCrop:
    """Crop a random ``crop_size`` window, padding bottom/right first if the image is smaller.

    Args:
        crop_size: Window size ``(w, h)``.
        im_padding_value: Fill value of the image.
        label_padding_value: Fill value of the gt fields.
        category_max_ratio: If < 1, redraw the window (up to ``loop_times`` times) until no
            single class covers this fraction of its non-ignored label pixels.
        ignore_index: Label value left out of the class ratio.
        loop_times: Attempts for ``category_max_ratio``.
    """

    def __init__(self, crop_size: Sequence[int] = (512, 512), im_padding_value: float = 127.5,
                 label_padding_value: int = 255, category_max_ratio: float = 1.0,
                 ignore_index: int = 255, loop_times: int = 10):
        self.crop_w, self.crop_h = _check_size("crop_size", crop_size)
        self.crop_size = (self.crop_w, self.crop_h)
        if not category_max_ratio > 0:
            raise ValueError(f"`category_max_ratio` must be > 0; got {category_max_ratio!r}")
        self.im_padding_value = im_padding_value
        self.label_padding_value = label_padding_value
        self.category_max_ratio = category_max_ratio
        self.ignore_index = ignore_index
        self.loop_times = _check_positive_int("loop_times", loop_times)

    def _draw_box(self, h: int, w: int) -> tuple[int, int, int, int]:
        y1 = np.random.randint(0, max(h - self.crop_h, 0) + 1)
        x1 = np.random.randint(0, max(w - self.crop_w, 0) + 1)
        return x1, y1, x1 + self.crop_w, y1 + self.crop_h

    def _balanced(self, label: np.ndarray, box: tuple[int, int, int, int]) -> bool:
        values, counts = np.unique(F.crop(label, box), return_counts=True)
        counts = counts[values != self.ignore_index]
        return len(counts) > 1 and counts.max() / counts.sum() < self.category_max_ratio

    def __call__(self, data: Data) -> Data:
        h, w = _check_img(data, self).shape[:2]
        if (h, w) == (self.crop_h, self.crop_w):
            return data
        data = _pad_all(data, self.crop_h - h, self.crop_w - w, self.im_padding_value,
                        self.label_padding_value)
        h, w = data["img"].shape[:2]
        box = self._draw_box(h, w)
        if self.category_max_ratio < 1.0 and "label" in data:
            for _ in range(self.loop_times):
                if self._balanced(data["label"], box):
                    break
                box = self._draw_box(h, w)
        return _apply_geometric(data, lambda a: F.crop(a, box), lambda a: F.crop(a, box))


@TRANSFORMS.register
class RandomCenterCrop:
    """Randomly trim the borders, keeping at least ``retain_ratio`` of the width and height.

    Args:
        retain_ratio: Smallest kept fraction ``(of width, of height)``, each in [0, 1].
    """

    def __init__(self, retain_ratio: Sequence[float] = (0.5, 0.5)):
        if (not isinstance(retain_ratio, (list, tuple)) or len(retain_ratio) != 2
                or not all(0 <= r <= 1 for r in retain_ratio)):
            raise ValueError(f"`retain_ratio` must be two numbers in [0, 1] (width, height); "
                             f"got {retain_ratio!r}")
        self.retain_ratio = tuple(retain_ratio)

    def __call__(self, data: Data) -> Data:
        h, w = _check_img(data, self).shape[:2]
        keep_w, keep_h = self.retain_ratio
        if keep_w == 1.0 and keep_h == 1.0:
            return data
        cut_w = np.random.randint(w * (1 - keep_w))
        cut_h = np.random.randint(h * (1 - keep_h))
        x1 = 0 if cut_w == 0 else np.random.randint(cut_w)
        y1 = 0 if cut_h == 0 else np.random.randint(cut_h)
        box = (x1, y1, w + x1 - cut_w, h + y1 - cut_h)
        return _apply_geometric(data, lambda a: F.crop(a, box), lambda a: F.crop(a, box))


# ----------------------------------------------------------------------------- geometric warps
@TRANSFORMS.register
class RandomRotation:
    """Rotate by a random angle in ``[-max_rotation, max_rotation]`` degrees, enlarging the canvas
    so nothing is cut off.

    Args:
        max_rotation: Largest absolute angle in degrees; 0 disables the transform.
        im_padding_value: Fill value of the image outside the rotated input.
        label_padding_value: Fill value of the gt fields outside the rotated input.
    """

    def __init__(self, max_rotation: float = 15, im_padding_value: float = 127.5,
                 label_padding_value: int = 255):
        self.max_rotation = _check_non_negative("max_rotation", max_rotation)
        self.im_padding_value = im_padding_value
        self.label_padding_value = label_padding_value

    def __call__(self, data: Data) -> Data:
        h, w = _check_img(data, self).shape[:2]
        if self.max_rotation <= 0:
            return data
        angle = np.random.uniform(-self.max_rotation, self.max_rotation)
        matrix, dsize = F.rotation_matrix(h, w, angle)
        return _apply_geometric(
            data,
            lambda a: F.warp_affine(a, matrix, dsize, cv2.INTER_LINEAR, self.im_padding_value),
            lambda a: F.warp_affine(a, matrix, dsize, cv2.INTER_NEAREST, self.label_padding_value))


@TRANSFORMS.register
class RandomAffine:
    """Random rotation, scaling and translation into a fixed output ``size``.

    Args:
        size: Output size ``(w, h)``.
        translation_offset: Largest shift of the centre in pixels.
        max_rotation: Largest absolute angle in degrees.
        min_scale_factor: Smallest extra scale.
        max_scale_factor: Largest extra scale.
        im_padding_value: Fill value of the image.
        label_padding_value: Fill value of the gt fields.
    """

    def __init__(self, size: Sequence[int] = (224, 224), translation_offset: float = 0,
                 max_rotation: float = 15, min_scale_factor: float = 0.75,
                 max_scale_factor: float = 1.25, im_padding_value: float = 128,
                 label_padding_value: int = 255):
        self.size = _check_size("size", size)
        if not 0 < min_scale_factor <= max_scale_factor:
            raise ValueError(f"need 0 < `min_scale_factor` <= `max_scale_factor`; got "
                             f"{min_scale_factor} and {max_scale_factor}")
        self.translation_offset = _check_non_negative("translation_offset", translation_offset)
        self.max_rotation = _check_non_negative("max_rotation", max_rotation)
        self.min_scale_factor = min_scale_factor
        self.max_scale_factor = max_scale_factor
        self.im_padding_value = im_padding_value
        self.label_padding_value = label_padding_value

    def _matrix(self, h: int, w: int) -> np.ndarray:
        out_w, out_h = self.size
        shift_x = (random.random() - 0.5) * 2 * self.translation_offset
        shift_y = (random.random() - 0.5) * 2 * self.translation_offset
        angle = random.random() * 2 * self.max_rotation - self.max_rotation
        scale = (random.random() * (self.max_scale_factor - self.min_scale_factor)
                 + self.min_scale_factor)
        scale *= np.mean([out_w / max(w - 1, 1), out_h / max(h - 1, 1)])
        # Move the input centre to the output centre, then rotate/scale about the shifted centre.
        centre_in = np.array([[1.0, 0, (out_w - (w - 1)) / 2.0],
                              [0, 1.0, (out_h - (h - 1)) / 2.0], [0, 0, 1.0]])
        alpha = scale * math.cos(math.radians(angle))
        beta = scale * math.sin(math.radians(angle))
        cx, cy = out_w / 2.0 + shift_x, out_h / 2.0 + shift_y
        rotate = np.array([[alpha, beta, (1 - alpha) * cx - beta * cy],
                           [-beta, alpha, beta * cx + (1 - alpha) * cy], [0, 0, 1.0]])
        return rotate.dot(centre_in)[:2]

    def __call__(self, data: Data) -> Data:
        h, w = _check_img(data, self).shape[:2]
        matrix = self._matrix(h, w)
        return _apply_geometric(
            data,
            lambda a: F.warp_affine(F.to_uint8(a), matrix, self.size, cv2.INTER_LINEAR,
                                    self.im_padding_value).astype(np.float32),
            lambda a: F.warp_affine(a, matrix, self.size, cv2.INTER_NEAREST,
                                    self.label_padding_value))


# ----------------------------------------------------------------------------- photometric
@TRANSFORMS.register
class RandomNoise:
    """Add Gaussian noise of random strength with probability ``prob``, clipped to [0, 255].

    Args:
        prob: Probability of adding noise.
        max_sigma: Largest standard deviation (drawn uniformly in ``[0, max_sigma)``).
    """

    def __init__(self, prob: float = 0.5, max_sigma: float = 10.0):
        self.prob = _check_prob("prob", prob)
        self.max_sigma = _check_non_negative("max_sigma", max_sigma)

    def __call__(self, data: Data) -> Data:
        img = _check_img(data, self)
        if random.random() < self.prob:
            sigma = random.random() * self.max_sigma
            img = img.astype(np.float32) + np.random.normal(0, sigma, img.shape)
            data["img"] = np.clip(img, 0, 255).astype(np.float32)
        return data


_BLUR_TYPES = ("gaussian", "median", "blur", "random")


@TRANSFORMS.register
class RandomBlur:
    """Blur with a random odd kernel size (3 to 9); the image comes back as integer-valued float32.

    As in PaddleSeg the blur happens with probability ``1 / int(1 / prob)`` (e.g. 1/3 for
    ``prob: 0.3``), and the image is converted to uint8 and back whether or not it is blurred.

    Args:
        prob: Blur probability (see above).
        blur_type: 'gaussian', 'median', 'blur' (box) or 'random' (one of the three per call).
    """

    def __init__(self, prob: float = 0.1, blur_type: str = "gaussian"):
        self.prob = _check_prob("prob", prob)
        if blur_type not in _BLUR_TYPES:
            raise ValueError(f"`blur_type` must be one of {list(_BLUR_TYPES)}; got {blur_type!r}")
        self.blur_type = blur_type

    def _happens(self) -> bool:
        if self.prob <= 0:
            return False
        n = 1 if self.prob >= 1 else int(1.0 / self.prob)
        return np.random.randint(0, n) == 0

    def __call__(self, data: Data) -> Data:
        img = F.to_uint8(_check_img(data, self))
        if self._happens():
            ksize = min(np.random.randint(3, 10) | 1, 9)
            kind = self.blur_type
            if kind == "random":
                select = random.random()
                kind = "gaussian" if select < 0.3 else "median" if select < 0.6 else "blur"
            img = F.blur(img, kind, int(ksize))
        data["img"] = img.astype(np.float32)
        return data


_DISTORT_OPS: dict[str, Callable[[Image.Image, float], Image.Image]] = {
    "brightness": F.adjust_brightness,
    "contrast": F.adjust_contrast,
    "saturation": F.adjust_saturation,
    "sharpness": F.adjust_sharpness,
    "hue": F.adjust_hue,
}


@TRANSFORMS.register
class RandomDistort:
    """Random brightness, contrast, saturation, hue and sharpness changes, in random order.

    Each enabled adjustment happens with its probability and a factor drawn uniformly from
    ``[1 - range, 1 + range]`` (hue: a shift in ``[-hue_range, hue_range]`` on PIL's 0..255 hue
    scale). Hue is skipped for 1-channel images. The image is quantised to uint8 for PIL and
    returned as float32.

    Args:
        brightness_range: Brightness factor range.
        brightness_prob: Brightness probability.
        contrast_range: Contrast factor range.
        contrast_prob: Contrast probability.
        saturation_range: Saturation factor range.
        saturation_prob: Saturation probability.
        hue_range: Hue shift range.
        hue_prob: Hue probability.
        sharpness_range: Sharpness factor range.
        sharpness_prob: Sharpness probability.
    """

    def __init__(self, brightness_range: float = 0.5, brightness_prob: float = 0.5,
                 contrast_range: float = 0.5, contrast_prob: float = 0.5,
                 saturation_range: float = 0.5, saturation_prob: float = 0.5,
                 hue_range: float = 18, hue_prob: float = 0.5, sharpness_range: float = 0.5,
                 sharpness_prob: float = 0):
        ranges = {"brightness": brightness_range, "contrast": contrast_range,
                  "saturation": saturation_range, "sharpness": sharpness_range}
        probs = {"brightness": brightness_prob, "contrast": contrast_prob,
                 "saturation": saturation_prob, "sharpness": sharpness_prob, "hue": hue_prob}
        self.bounds = {k: (1 - _check_non_negative(f"{k}_range", v), 1 + v)
                       for k, v in ranges.items()}
        self.bounds["hue"] = (-_check_non_negative("hue_range", hue_range), hue_range)
        self.probs = {k: _check_prob(f"{k}_prob", v) for k, v in probs.items()}

    def __call__(self, data: Data) -> Data:
        img = _check_img(data, self)
        channels = F.num_channels(img)
        if channels not in (1, 3):
            raise ValueError(f"RandomDistort works on 1- or 3-channel images; this one has "
                             f"{channels}. Remove RandomDistort from the transforms")
        # Same op order and draw order as PaddleSeg, so a seed reproduces its augmentations.
        names = ["brightness", "contrast", "saturation", "sharpness"]
        if channels == 3:
            names.append("hue")
        random.shuffle(names)
        pil = Image.fromarray(F.to_uint8(img.reshape(img.shape[:2]) if channels == 1 else img))
        for name in names:
            if np.random.uniform(0, 1) < self.probs[name]:
                pil = _DISTORT_OPS[name](pil, np.random.uniform(*self.bounds[name]))
        out = np.asarray(pil).astype(np.float32)
        data["img"] = out.reshape(img.shape)
        return data
