"""deploy/python/infer.py: the Predictor API on both backends and the CLI on a folder."""
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

import infer
from deploy_helpers import DEPLOY
from predictor import Predictor


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    (root / "sub").mkdir()
    rng = np.random.RandomState(3)
    for name, (h, w) in {"a.jpg": (120, 170), "sub/b.png": (200, 90), "c.bmp": (64, 96)}.items():
        img = cv2.GaussianBlur((rng.rand(h, w, 3) * 255).astype(np.uint8), (9, 9), 0)
        cv2.imwrite(str(root / name), img)
    return str(root)


def test_predictor_backends_agree_at_original_size(exported, images):
    img = cv2.imread(os.path.join(images, "a.jpg"))
    onnx = Predictor(exported, backend="onnx", threads=1)
    paddle = Predictor(exported, backend="paddle")
    p1, p2 = onnx.predict_probs(img), paddle.predict_probs(img)
    assert p1.shape == (2, 120, 170) and p1.dtype == np.float32
    np.testing.assert_allclose(p1.sum(0), 1.0, atol=1e-5)
    assert np.abs(p1 - p2).max() <= 1e-4
    assert 0.02 < (p1[1] > 0.5).mean() < 0.98  # a non-trivial mask (random weights)
    label = onnx.predict_label(img)
    assert label.dtype == np.int32 and label.shape == (120, 170)
    assert (label == np.argmax(p1, 0)).mean() > 0.999


def test_argmax_model_gives_one_hot(exported, exported_argmax, images):
    img = cv2.imread(os.path.join(images, "sub", "b.png"))
    probs = Predictor(exported_argmax, backend="paddle").predict_probs(img)
    assert probs.shape == (2, 200, 90)
    assert set(np.unique(probs)) <= {0.0, 1.0} and (probs.sum(0) == 1).all()
    label = Predictor(exported_argmax, backend="paddle").predict_label(img)
    soft = Predictor(exported, backend="onnx").predict_label(img)
    assert (label == soft).mean() > 0.97  # argmax before vs after upsampling differ at edges


def test_cli_writes_every_output(exported, images, tmp_path):
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, os.path.join(DEPLOY, "infer.py"), "--model_dir",
                          exported, "--image_path", images, "--save_dir", str(out),
                          "--threads", "1"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "3 image(s)" in res.stdout and "backend onnx" in res.stdout
    predictor = Predictor(exported, backend="onnx")
    for stem, (h, w) in {"a": (120, 170), "sub/b": (200, 90), "c": (64, 96)}.items():
        src = [f for f in os.listdir(os.path.join(images, os.path.dirname(stem)))
               if f.startswith(os.path.basename(stem) + ".")][0]
        img = cv2.imread(os.path.join(images, os.path.dirname(stem), src))
        probs = predictor.predict_probs(img)
        label = np.argmax(probs, 0)
        mask = Image.open(out / "mask" / f"{stem}.png")
        assert mask.mode == "P" and mask.getpalette()[:6] == [0, 0, 0, 128, 0, 0]
        np.testing.assert_array_equal(np.asarray(mask), label)
        alpha = cv2.imread(str(out / "alpha" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        assert alpha.shape == (h, w) and alpha.dtype == np.uint8
        assert np.abs(alpha.astype(int) - np.rint(probs[1] * 255)).max() <= 1
        cut = cv2.imread(str(out / "cutout" / f"{stem}.png"), cv2.IMREAD_UNCHANGED)
        assert cut.shape == (h, w, 4)
        np.testing.assert_array_equal(cut[..., :3], img)
        np.testing.assert_array_equal(cut[..., 3], alpha)
        pseudo = cv2.imread(str(out / "pseudo_color" / f"{stem}.png"))
        np.testing.assert_array_equal(pseudo[label == 1], np.tile([0, 0, 128], ((label == 1).sum(), 1)))
        overlay = cv2.imread(str(out / "overlay" / f"{stem}.jpg"))
        assert overlay.shape == (h, w, 3)


def test_cli_subset_and_errors(exported, images, tmp_path):
    assert infer.main(["--model_dir", exported, "--image_path", images, "--save_dir",
                       str(tmp_path), "--outputs", "alpha,cutout"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["alpha", "cutout"]
    assert infer.main(["--model_dir", exported, "--image_path", images, "--save_dir",
                       str(tmp_path), "--outputs", "mask,depth"]) == 2
    assert infer.main(["--model_dir", exported, "--image_path", str(tmp_path / "none"),
                       "--save_dir", str(tmp_path)]) == 2
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.jpg").write_bytes(b"not an image")
    assert infer.main(["--model_dir", exported, "--image_path", str(bad), "--save_dir",
                       str(tmp_path)]) == 2


def test_logits_model_gets_softmax_after_mapping_back(exported):
    """output_op none: probabilities = softmax of the logits mapped back to the image."""
    from compositing import alpha_from_output
    from preprocess import reverse
    p = Predictor(exported, backend="onnx")
    p.config.output_op = "none"
    rng = np.random.RandomState(4)
    logits = rng.randn(2, 64, 96).astype(np.float32) * 3
    info = [("resize", (100, 150))]
    probs = p.postprocess(logits, info)
    up = reverse(logits, info)
    want = np.exp(up) / np.exp(up).sum(0, keepdims=True)
    np.testing.assert_allclose(probs, want, atol=1e-6)
    alpha = alpha_from_output(logits, "none")
    np.testing.assert_allclose(alpha, 1 / (1 + np.exp(logits[0] - logits[1])), atol=1e-6)


def test_softmax_model_equals_softmax_of_resized_logits(exported, exported_logits, images):
    """dygraph (tools/predict.py) resizes logits, then takes the softmax. The softmax export must
    give the same probabilities (it resizes log-probabilities), not resized probabilities."""
    from preprocess import reverse
    soft, logits = Predictor(exported, backend="onnx"), Predictor(exported_logits, backend="onnx")
    for name in ("a.jpg", "sub/b.png"):
        img = cv2.imread(os.path.join(images, name))
        want = logits.predict_probs(img)
        np.testing.assert_allclose(soft.predict_probs(img), want, rtol=0, atol=1e-5)
        np.testing.assert_array_equal(soft.predict_label(img), logits.predict_label(img))
        x, info = soft.preprocess(img)
        naive = reverse(soft.run(x)[0], info)  # resized probabilities
        print(name, "resized probabilities differ by", np.abs(naive - want).max())


def test_cli_takes_paddleseg_config_flag(exported, exported_logits, images, tmp_path,
                                         monkeypatch, capsys):
    """``--config DIR/deploy.yaml`` (PaddleSeg's flag) means the model folder DIR, whatever the
    working directory; with --model_dir too they must agree."""
    by_dir = tmp_path / "by_dir"
    assert infer.main(["--model_dir", exported, "--image_path", images, "--save_dir",
                       str(by_dir), "--outputs", "alpha"]) == 0
    monkeypatch.chdir(os.path.dirname(exported))
    rel = os.path.join(os.path.basename(exported), "deploy.yaml")
    for extra in ([], ["--model_dir", os.path.basename(exported)]):
        by_cfg = tmp_path / f"by_cfg{len(extra)}"
        assert infer.main(["--config", rel, *extra, "--image_path", images, "--save_dir",
                           str(by_cfg), "--outputs", "alpha"]) == 0, capsys.readouterr().err
        for name in ("a.png", "c.png", "sub/b.png"):
            np.testing.assert_array_equal(cv2.imread(str(by_cfg / "alpha" / name)),
                                          cv2.imread(str(by_dir / "alpha" / name)))
    capsys.readouterr()
    common = ["--image_path", images, "--save_dir", str(tmp_path / "x")]
    assert infer.main(["--config", rel, "--model_dir", exported_logits, *common]) == 2
    assert "name different model folders" in capsys.readouterr().err
    assert infer.main(["--config", os.path.basename(exported), *common]) == 2
    assert "for a folder use --model_dir" in capsys.readouterr().err
    assert infer.main(common) == 2
    assert "--model_dir DIR (or --config DIR/deploy.yaml)" in capsys.readouterr().err
