"""deploy/python/preprocess.py re-implements humanseg's deterministic transforms with cv2/numpy:
each must give the same image and trans_info as humanseg's on random images, and ``reverse``
must equal humanseg.engine.infer.reverse_transform."""
import numpy as np
import paddle
import pytest

from deploy_config import TRANSFORM_DEFAULTS
from humanseg.engine.infer import reverse_transform
from humanseg.transforms import transforms as T
from preprocess import Preprocessor, make_op, reverse

CASES = [
    {"type": "Resize", "target_size": [96, 64]},
    {"type": "Resize", "target_size": [398, 224], "interp": "NEAREST"},
    {"type": "Resize", "target_size": [100, 60], "keep_ratio": True, "size_divisor": 32},
    {"type": "Resize", "target_size": [50, 80], "interp": "CUBIC"},
    {"type": "Resize", "target_size": [50, 80], "interp": "AREA"},
    {"type": "Resize", "target_size": [70, 45], "interp": "LANCZOS4", "keep_ratio": True},
    {"type": "ResizeByShort", "short_size": 48},
    {"type": "ResizeByShort", "short_size": 64, "max_size": 90},
    {"type": "ResizeByLong", "long_size": 77},
    {"type": "LimitLong", "max_long": 60},
    {"type": "LimitLong", "min_long": 300},
    {"type": "LimitLong", "max_long": 500, "min_long": 10},
    {"type": "Padding", "target_size": [260, 250]},
    {"type": "Padding", "target_size": 260, "im_padding_value": 0},
    {"type": "PaddingByAspectRatio", "aspect_ratio": 1.7778},
    {"type": "PaddingByAspectRatio", "aspect_ratio": 0.5, "im_padding_value": 10},
    {"type": "Normalize"},
    {"type": "Normalize", "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
]
SIZES = [(123, 171), (240, 97), (64, 96)]


def _filled(case):
    out = dict(TRANSFORM_DEFAULTS[case["type"]])
    out.update(case)
    if out["type"] == "Padding" and isinstance(out["target_size"], int):
        out["target_size"] = [out["target_size"]] * 2
    return out


def _humanseg(case, img):
    args = {k: v for k, v in case.items() if k != "type"}
    op = getattr(T, case["type"])(**args)
    data = op({"img": img.copy(), "trans_info": [], "gt_fields": []})
    return data["img"], [(k, tuple(int(v) for v in s)) for k, s in data["trans_info"]]


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(f"{v}" for v in c.values()))
def test_each_transform_equals_humanseg(case):
    rng = np.random.RandomState(0)
    for h, w in SIZES:
        img = (rng.rand(h, w, 3) * 255).astype(np.uint8).astype(np.float32)
        want, want_info = _humanseg(case, img)
        info = []
        got = make_op(_filled(case))(img.copy(), info)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
        assert [(k, tuple(int(v) for v in s)) for k, s in info] == want_info


def test_pipeline_and_reverse_equal_humanseg():
    """Preprocessor on a BGR uint8 image = humanseg Compose on the RGB float image; reverse of a
    [C, h, w] output = reverse_transform (bilinear, align_corners False) within 1e-4."""
    chain = [{"type": "LimitLong", "max_long": 200}, {"type": "Resize", "target_size": [96, 64],
                                                      "keep_ratio": True},
             {"type": "Padding", "target_size": [96, 96]}, {"type": "Normalize"}]
    rng = np.random.RandomState(1)
    for h, w in [(300, 170), (90, 250)]:
        bgr = (rng.rand(h, w, 3) * 255).astype(np.uint8)
        x, info = Preprocessor([_filled(c) for c in chain], "RGB")(bgr)
        compose = T.Compose([getattr(T, c["type"])(**{k: v for k, v in c.items() if k != "type"})
                             for c in chain])
        data = compose({"img": bgr[..., ::-1].astype(np.float32), "trans_info": [],
                        "gt_fields": []})
        np.testing.assert_allclose(x[0], data["img"], rtol=0, atol=1e-5)
        logits = rng.randn(2, *x.shape[2:]).astype(np.float32)
        want = reverse_transform(paddle.to_tensor(logits[None]), data["trans_info"]).numpy()[0]
        got = reverse(logits, info)
        assert got.shape == (2, h, w)
        # cv2's float bilinear differs from Paddle's by float rounding only (measured 3.8e-5
        # after two resizes of logits ~N(0, 1)), inside the 1e-4 parity budget.
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


def test_reverse_nearest_for_labels():
    labels = np.random.RandomState(2).randint(0, 3, (1, 16, 24)).astype(np.float32)
    out = reverse(labels, [("resize", (32, 48))], nearest=True)
    assert out.shape == (1, 32, 48)
    np.testing.assert_array_equal(out[0, ::2, ::2], labels[0])
    assert set(np.unique(out)) <= {0.0, 1.0, 2.0}
