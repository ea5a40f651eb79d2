"""deploy.yaml validation: each mistake gives one error naming the file, the key and the fix;
PaddleSeg-exported files get PaddleSeg's defaults."""
import os

import pytest
import yaml

from deploy_config import DeployConfigError, load_deploy_config
from predictor import Predictor


def _folder(tmp_path, deploy, files=("model.json", "model.pdiparams")):
    for f in files:
        (tmp_path / f).write_bytes(b"x")
    (tmp_path / "deploy.yaml").write_text(yaml.safe_dump({"Deploy": deploy}))
    return str(tmp_path)


BASE = {"model": "model.json", "params": "model.pdiparams",
        "transforms": [{"type": "Resize", "target_size": [96, 64]}, {"type": "Normalize"}]}


def test_paddleseg_file_gets_defaults(tmp_path):
    cfg = load_deploy_config(_folder(tmp_path, {"model": "model.json", "params": "model.pdiparams",
                                                "transforms": [{"type": "Resize"},
                                                               {"type": "Normalize"}]}))
    assert cfg.output_op == "argmax"  # PaddleSeg's export default
    assert cfg.transforms == [
        {"type": "Resize", "target_size": [512, 512], "keep_ratio": False, "size_divisor": None,
         "interp": "LINEAR"},
        {"type": "Normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}]
    assert cfg.input_shape == [-1, 3, -1, -1] and cfg.color_order == "RGB"
    assert cfg.network_size() == (512, 512)
    assert cfg.onnx_file is None and cfg.model_file == os.path.join(str(tmp_path), "model.json")


@pytest.mark.parametrize("change, key, words", [
    ({"transforms": [{"type": "RandomHorizontalFlip"}]}, "Deploy.transforms[0].type",
     "RandomHorizontalFlip"),
    ({"transforms": [{"type": "Resize", "target_size": [0, 5]}]},
     "Deploy.transforms[0].target_size", "width, height"),
    ({"transforms": [{"type": "Resize", "interp": "BICUBIC"}]}, "Deploy.transforms[0].interp",
     "LINEAR"),
    ({"transforms": [{"type": "Resize", "sizes": 3}]}, "Deploy.transforms[0]", "sizes"),
    ({"transforms": [{"type": "ResizeByShort"}]}, "Deploy.transforms[0].short_size", "required"),
    ({"transforms": [{"type": "Normalize", "std": [0, 1, 1]}]}, "Deploy.transforms[0].std", "0"),
    ({"output_op": "sigmoid"}, "Deploy.output_op", "softmax"),
    ({"color_order": "HSV"}, "Deploy.color_order", "RGB"),
    ({"input_shape": [1, 3, 224]}, "Deploy.input_shape", "N, C, H, W"),
    ({"params": "missing.pdiparams"}, "Deploy.params", "does not exist"),
    ({"onnx": "model.onnx"}, "Deploy.onnx", "does not exist"),
    ({"num_classes": 2, "class_names": ["a"]}, "Deploy.class_names", "num_classes"),
    ({"palette": [[0, 0, 300]]}, "Deploy.palette", "0..255"),
])
def test_bad_deploy_yaml(tmp_path, change, key, words):
    folder = _folder(tmp_path, {**BASE, **change})
    with pytest.raises(DeployConfigError) as e:
        load_deploy_config(folder)
    msg = str(e.value)
    assert "deploy.yaml" in msg and f"`{key}`" in msg and words in msg, msg


def test_missing_folder_and_section(tmp_path):
    with pytest.raises(DeployConfigError, match="deploy.yaml not found.*tools/export.py"):
        load_deploy_config(str(tmp_path / "nowhere"))
    (tmp_path / "deploy.yaml").write_text("model: model.json\n")
    with pytest.raises(DeployConfigError, match="`Deploy` section is missing"):
        load_deploy_config(str(tmp_path))
    (tmp_path / "deploy.yaml").write_text("Deploy: [unclosed\n")
    with pytest.raises(DeployConfigError, match="not valid YAML"):
        load_deploy_config(str(tmp_path))


def test_backend_errors(exported_argmax, monkeypatch):
    import importlib.metadata

    import onnx_conversion

    def version(name):  # a machine without paddle2onnx (deploy/python's own requirements)
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(onnx_conversion.importlib.metadata, "version", version)
    with pytest.raises(RuntimeError, match="pip install paddle2onnx.*or run with --backend "
                                           "paddle"):
        Predictor(exported_argmax, backend="onnx")
    monkeypatch.undo()
    with pytest.raises(ValueError, match="backend must be one of"):
        Predictor(exported_argmax, backend="tensorrt")
    with pytest.raises(RuntimeError, match="--use_trt needs --device gpu"):
        Predictor(exported_argmax, backend="paddle", use_trt=True)


def test_export_tool_output_reads_back(exported):
    cfg = load_deploy_config(exported)
    assert cfg.output_op == "softmax" and cfg.onnx_file.endswith("model.onnx")
    assert cfg.network_size() == (96, 64) and cfg.num_classes == 2


def test_paddleseg_style_folder_runs(exported_argmax, tmp_path):
    """A PaddleSeg-exported folder: no output_op (argmax), no num_classes/palette, short
    transforms, PaddleSeg's extra `output_dtype` key."""
    import shutil

    import cv2
    import numpy as np

    import infer
    for f in ("model.json", "model.pdiparams"):
        shutil.copy(os.path.join(exported_argmax, f), tmp_path / f)
    (tmp_path / "deploy.yaml").write_text(yaml.safe_dump({"Deploy": {
        "model": "model.json", "params": "model.pdiparams", "output_dtype": "int32",
        "transforms": [{"type": "Resize", "target_size": [96, 64]}, {"type": "Normalize"}]}}))
    img = cv2.GaussianBlur((np.random.RandomState(5).rand(80, 120, 3) * 255).astype(np.uint8),
                           (9, 9), 0)
    want = Predictor(exported_argmax, backend="paddle").predict_label(img)
    got = Predictor(str(tmp_path), backend="paddle").predict_label(img)
    np.testing.assert_array_equal(got, want)
    cv2.imwrite(str(tmp_path / "img.png"), img)
    assert infer.main(["--model_dir", str(tmp_path), "--image_path", str(tmp_path / "img.png"),
                       "--save_dir", str(tmp_path / "out"), "--backend", "paddle"]) == 0
    assert os.path.isfile(tmp_path / "out" / "mask" / "img.png")
