"""PaddleSeg 2.8 / Paddle 2.6 exported folders (tests/data/legacy_inference) on onnxruntime: the
one-time conversion (cached outside the folder, checked against Paddle Inference), and
deploy/python/infer.py and video.py on both backends as a user runs them."""
import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

import infer
import onnx_conversion
import video
from deploy_helpers import DEPLOY, write_clip
from predictor import Predictor, converted_onnx
from test_deploy_legacy import DATA, FOLDERS, hashes

BACKENDS = ["onnx", "paddle"]


@pytest.fixture(scope="module", autouse=True)
def onnx_cache(tmp_path_factory):
    """A cache of this module's own: the first onnx test converts, the later ones reuse."""
    with pytest.MonkeyPatch.context() as mp:
        root = tmp_path_factory.mktemp("humanseg_cache")
        mp.setenv(onnx_conversion.CACHE_ENV, str(root))
        yield os.path.join(str(root), "onnx")


@pytest.mark.parametrize("name", FOLDERS)
def test_onnx_conversion_matches_paddle26(name, onnx_cache, capfd):
    folder = os.path.join(DATA, name)
    before = hashes(folder)
    ref = np.load(os.path.join(DATA, f"{name}_reference.npz"))
    pred = Predictor(folder, backend="onnx", threads=1)
    assert "converting model.pdmodel with paddle2onnx" in capfd.readouterr().err
    assert pred.config.onnx_file.startswith(onnx_cache)
    out = pred.run(ref["x"])
    if name.endswith("softmax"):
        assert np.abs(out - ref["out"]).max() < 1e-5
    else:
        assert (out.reshape(ref["out"].shape) == ref["out"]).all()
    check = json.load(open(os.path.join(os.path.dirname(pred.config.onnx_file), "check.json")))
    assert check["passed"] and check["source"] == folder
    assert check["input_shape"] == list(ref["x"].shape)  # the static shape from Resize
    assert hashes(folder) == before


def test_cached_conversion_is_reused_without_paddle2onnx(onnx_cache, monkeypatch, capfd):
    name = "v2_lite_argmax"
    first = Predictor(os.path.join(DATA, name), backend="onnx").config.onnx_file
    capfd.readouterr()
    monkeypatch.setattr(onnx_conversion, "CONVERTER", "/nonexistent/paddle_to_onnx.py")
    again = Predictor(os.path.join(DATA, name), backend="onnx")
    assert again.config.onnx_file == first
    assert "converting" not in capfd.readouterr().err


def test_disagreeing_conversion_is_refused_and_not_cached(tmp_path, monkeypatch):
    monkeypatch.setenv(onnx_conversion.CACHE_ENV, str(tmp_path))
    cfg = Predictor(os.path.join(DATA, "v1_lite_softmax"), backend="paddle").config
    with pytest.raises(onnx_conversion.ConversionError, match="disagrees with Paddle Inference"):
        onnx_conversion.cached_onnx(
            cfg, reference=lambda x: np.full((1, 2) + x.shape[2:], 0.5, np.float32),
            run_onnx=lambda path, x: np.zeros((1, 2) + x.shape[2:], np.float32),
            log=lambda m: None)
    assert os.listdir(tmp_path / "onnx") == []


def test_broken_program_gets_a_clear_error(tmp_path, capsys):
    folder = tmp_path / "broken"
    shutil.copytree(os.path.join(DATA, "v1_lite_argmax"), folder)
    (folder / "model.pdmodel").write_bytes(b"not a paddle program")
    code = infer.main(["--model_dir", str(folder), "--image_path",
                       os.path.join(DATA, "image.png"), "--save_dir", str(tmp_path / "out"),
                       "--backend", "onnx"])
    err = capsys.readouterr().err
    assert code == 2
    assert "paddle2onnx failed" in err and str(folder / "model.pdmodel") in err
    assert "--backend paddle" in err


def test_paddle3_json_folder_converts_with_dynamic_shape(exported_argmax):
    """A model.json folder without ONNX (Paddle 3's format) converts too, its H/W kept dynamic."""
    img = cv2.imread(os.path.join(DATA, "image.png"))
    onnx = Predictor(exported_argmax, backend="onnx")
    paddle = Predictor(exported_argmax, backend="paddle")
    assert (onnx.predict_label(img) == paddle.predict_label(img)).all()
    assert not os.path.exists(os.path.join(exported_argmax, "model.onnx"))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", FOLDERS)
def test_infer_cli_on_legacy_folder(name, backend, tmp_path, capsys):
    out = tmp_path / "out"
    code = infer.main(["--model_dir", os.path.join(DATA, name), "--image_path",
                       os.path.join(DATA, "image.png"), "--save_dir", str(out),
                       "--backend", backend, "--threads", "1"])
    assert code == 0, capsys.readouterr().err
    mask = np.asarray(Image.open(out / "mask" / "image.png"))
    ref = np.load(os.path.join(DATA, f"{name}_reference.npz"))["label"]
    if name.endswith("argmax"):
        assert (mask == ref).all()
    else:  # resized probabilities vs PaddleSeg's nearest-resized labels differ at edges only
        assert (mask == ref).mean() >= 0.98
    alpha = cv2.imread(str(out / "alpha" / "image.png"), cv2.IMREAD_UNCHANGED)
    assert alpha.shape == ref.shape


def test_infer_cli_subprocess_converts_and_reports(tmp_path):
    env = dict(os.environ, HUMANSEG_CACHE=str(tmp_path / "cache"))
    res = subprocess.run([sys.executable, os.path.join(DEPLOY, "infer.py"), "--model_dir",
                          os.path.join(DATA, "v2_lite_softmax"), "--image_path",
                          os.path.join(DATA, "image.png"), "--save_dir", str(tmp_path / "out"),
                          "--backend", "onnx", "--threads", "1"],
                         capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr
    assert "checked against Paddle Inference" in res.stderr
    assert "backend onnx" in res.stdout


@pytest.fixture(scope="module")
def call_clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("legacy_clip") / "clip.mp4", frames=12,
                      size=(320, 180))


@pytest.mark.parametrize("name", ["v1_lite_softmax", "v2_lite_softmax"])
def test_video_cli_on_legacy_folder_both_backends(name, call_clip, tmp_path, capsys):
    frames = {}
    for backend in BACKENDS:
        out = str(tmp_path / f"{backend}.mp4")
        code = video.main(["--model_dir", os.path.join(DATA, name), "--video_path", call_clip,
                           "--save_path", out, "--backend", backend, "--smooth", "ema",
                           "--headless", "--threads", "1"])
        assert code == 0, capsys.readouterr().err
        cap = cv2.VideoCapture(out)
        frames[backend] = []
        while True:
            ok, f = cap.read()
            if not ok:
                break
            frames[backend].append(f.astype(np.int16))
    assert len(frames["onnx"]) == len(frames["paddle"]) == 12
    diff = np.abs(np.stack(frames["onnx"]) - np.stack(frames["paddle"]))
    assert diff.mean() < 0.5  # the same masks up to codec noise
    src = cv2.VideoCapture(call_clip)
    ok, first = src.read()
    assert np.abs(frames["onnx"][0] - first).mean() > 1  # the background was replaced


def test_converted_onnx_helper_returns_the_cached_file(onnx_cache):
    cfg = Predictor(os.path.join(DATA, "v1_lite_argmax"), backend="paddle").config
    path = converted_onnx(cfg)
    assert path.startswith(onnx_cache) and os.path.isfile(path)
