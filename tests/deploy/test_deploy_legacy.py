"""PaddleSeg 2.8 / Paddle 2.6.2 exported folders (tests/data/legacy_inference, made by its
make_fixtures.py) run with Paddle Inference 3.x as they are and agree with Paddle 2.6's outputs;
the folder is left unchanged."""
import hashlib
import os

import cv2
import numpy as np
import pytest

from deploy_helpers import DEPLOY  # noqa: F401  (deploy/python on sys.path)
from predictor import Predictor
from support import ROOT

DATA = os.path.join(ROOT, "tests", "data", "legacy_inference")
FOLDERS = ["v1_lite_softmax", "v1_lite_argmax", "v2_lite_softmax", "v2_lite_argmax"]


def hashes(folder):
    return {n: hashlib.sha256(open(os.path.join(folder, n), "rb").read()).hexdigest()
            for n in sorted(os.listdir(folder))}


@pytest.mark.parametrize("name", FOLDERS)
def test_legacy_folder_paddle_matches_paddle26(name):
    folder = os.path.join(DATA, name)
    before = hashes(folder)
    ref = np.load(os.path.join(DATA, f"{name}_reference.npz"))
    pred = Predictor(folder, backend="paddle", threads=1)
    assert pred.config.input_shape == [-1, 3, -1, -1]
    out = pred.run(ref["x"])
    if name.endswith("softmax"):
        assert np.abs(out - ref["out"]).max() < 1e-5
    else:
        assert (out.reshape(ref["out"].shape) == ref["out"]).all()
    label = pred.predict_label(cv2.imread(os.path.join(DATA, "image.png")))
    assert label.shape == ref["label"].shape
    if name.endswith("argmax"):  # softmax folders: this runtime resizes logits, PaddleSeg labels
        assert (label == ref["label"]).mean() >= 0.999
    assert hashes(folder) == before
