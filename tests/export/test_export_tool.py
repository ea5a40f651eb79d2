"""tools/export.py: Paddle 3 inference model + model.onnx + deploy.yaml, checked by running the
exported files with Paddle Inference (oneDNN workaround) and onnxruntime against dygraph; the
fixed-shape cases of paddle2onnx; and user mistakes ending in one error line."""
import contextlib
import os

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest
import yaml

from export_helpers import onnx_run, paddle_inference_run
from humanseg.cvlibs.registry import MODELS, build
from humanseg.errors import ConfigError, HumanSegError
from humanseg.export import export_model
from model_specs import randomize
from support import ROOT, run_tool

LITE_CONFIG = os.path.join(ROOT, "configs", "pp_humanseg_lite",
                           "pp_humanseg_lite_export_398x224.yml")


def assert_user_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-3000:])
    assert "Traceback" not in r.stderr and "Process abort signal" not in r.stderr, r.stderr[-3000:]
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, r.stderr[-3000:]
    for needle in needles:
        assert needle in r.stderr, (needle, r.stderr[-3000:])


def random_model(spec: dict, seed: int = 0):
    model = build(dict(spec), MODELS, "model")
    randomize(model, seed)
    model.eval()
    return model


def write_yaml(path, content) -> str:
    path.write_text(yaml.safe_dump(content))
    return str(path)


@pytest.fixture(scope="module")
def lite_weights(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("weights") / "model.pdparams")
    paddle.save(random_model({"type": "PPHumanSegLite", "num_classes": 2}, 7).state_dict(), path)
    return path


@pytest.fixture(scope="module")
def lite_export(tmp_path_factory, lite_weights):
    out = str(tmp_path_factory.mktemp("lite") / "export")
    r = run_tool("export.py", "--config", LITE_CONFIG, "--model_path", lite_weights,
                 "--save_dir", out, "--format", "both")
    assert r.returncode == 0, r.stderr[-3000:]
    return out, r


def test_writes_the_files_and_reports_the_onnx_check(lite_export):
    out, r = lite_export
    for name in ("model.json", "model.pdiparams", "model.onnx", "deploy.yaml"):
        assert os.path.isfile(os.path.join(out, name)), name
        assert f"wrote {os.path.join(out, name)}" in r.stdout, r.stdout
    assert not os.path.exists(os.path.join(out, "model.pdmodel"))  # Paddle 3: PIR json only
    assert "ONNX check (onnxruntime vs Paddle dygraph, random input [1, 3, 224, 398]): " \
           "max abs diff" in r.stdout and "passed" in r.stdout, r.stdout
    assert "output is constant" not in r.stdout  # random weights: the check compares something
    assert "Traceback" not in r.stderr


def test_deploy_yaml_follows_the_contract(lite_export):
    import paddle2onnx
    import humanseg
    out, _ = lite_export
    with open(os.path.join(out, "deploy.yaml")) as f:
        deploy = yaml.safe_load(f)
    assert deploy == {"Deploy": {
        "model": "model.json", "params": "model.pdiparams", "onnx": "model.onnx",
        "input_name": "x", "input_shape": [-1, 3, -1, -1], "output_op": "softmax",
        "color_order": "RGB",
        "transforms": [{"type": "Resize", "target_size": [398, 224], "keep_ratio": False,
                        "size_divisor": None, "interp": "LINEAR"},
                       {"type": "Normalize", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}],
        "num_classes": 2, "class_names": ["background", "person"],
        "palette": [[0, 0, 0], [128, 0, 0]],
        "exported_with": {"humanseg": humanseg.__version__, "paddle": paddle.__version__,
                          "paddle2onnx": paddle2onnx.__version__}}}


def test_paddle_inference_and_onnxruntime_equal_dygraph(lite_export, lite_weights):
    from humanseg.utils.weights import load_pretrained
    out, _ = lite_export
    model = build({"type": "PPHumanSegLite", "num_classes": 2}, MODELS, "model")
    load_pretrained(model, lite_weights)
    model.eval()
    rng = np.random.default_rng(1)
    for shape in ([1, 3, 224, 398], [2, 3, 96, 160]):  # one exported model, dynamic N, H, W
        x = rng.standard_normal(shape).astype(np.float32)
        with paddle.no_grad():
            expected = F.softmax(model(paddle.to_tensor(x))[0], axis=1).numpy()
        for run in (paddle_inference_run, onnx_run):
            got = run(out, x)
            assert got.shape == expected.shape
            assert np.abs(got - expected).max() < 1e-5, run.__name__


@pytest.mark.parametrize("output_op", ["argmax", "none"])
def test_output_ops(output_op, tmp_path):
    model = random_model({"type": "PPHumanSegLite", "num_classes": 2}, 3)
    cfg = {"model": {"type": "PPHumanSegLite", "num_classes": 2},
           "export": {"transforms": [{"type": "Resize", "target_size": [160, 96]},
                                     {"type": "Normalize"}]}}
    result = export_model(model, cfg, str(tmp_path), [-1, 3, -1, -1], output_op, "both",
                          log=lambda _: None)
    assert result.onnx_check["passed"]
    x = np.random.default_rng(2).standard_normal([1, 3, 96, 160]).astype(np.float32)
    with paddle.no_grad():
        logits = model(paddle.to_tensor(x))[0]
    for run in (paddle_inference_run, onnx_run):
        got = run(str(tmp_path), x)
        if output_op == "argmax":
            assert got.dtype == np.int32 and got.shape == (1, 1, 96, 160)
            np.testing.assert_array_equal(got, paddle.argmax(logits, 1, keepdim=True).numpy())
        else:
            assert got.dtype == np.float32 and got.shape == (1, 2, 96, 160)
            assert np.abs(got - logits.numpy()).max() < 1e-4
    with open(result.deploy_yaml) as f:
        assert yaml.safe_load(f)["Deploy"]["output_op"] == output_op


def test_format_paddle_writes_no_onnx_and_drops_a_stale_one(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"an earlier export")
    cfg = {"model": {"type": "PPHumanSegLite", "num_classes": 2},
           "export": {"transforms": [{"type": "Normalize"}]}}
    result = export_model(random_model(cfg["model"]), cfg, str(tmp_path), [-1, 3, -1, -1],
                          "softmax", "paddle", log=lambda _: None)
    assert not (tmp_path / "model.onnx").exists() and result.onnx_check is None
    deploy = yaml.safe_load((tmp_path / "deploy.yaml").read_text())["Deploy"]
    assert "onnx" not in deploy and "paddle2onnx" not in deploy["exported_with"]
    assert deploy["class_names"] == ["class_0", "class_1"]  # no dataset in the config


# ----------------------------------------------------------------------------- Fast-SCNN (ONNX needs a fixed shape)
@pytest.fixture(scope="module")
def fastscnn_config(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fastscnn")
    weights = str(folder / "model.pdparams")
    paddle.save(random_model({"type": "FastSCNN", "num_classes": 2}, 5).state_dict(), weights)
    cfg = {"model": {"type": "FastSCNN", "num_classes": 2},
           "export": {"transforms": [{"type": "Resize", "target_size": [384, 192]},
                                     {"type": "Normalize"}]}}
    return write_yaml(folder / "fastscnn.yml", cfg), weights


def test_fastscnn_dynamic_shape_gives_the_fixed_shape_message(fastscnn_config, tmp_path):
    config, weights = fastscnn_config
    r = run_tool("export.py", "--config", config, "--model_path", weights,
                 "--save_dir", str(tmp_path), "--format", "both")
    assert_user_error(r, "needs a fixed input shape for ONNX", "--input_shape 1 3 192 384")
    deploy = yaml.safe_load((tmp_path / "deploy.yaml").read_text())["Deploy"]
    assert "onnx" not in deploy and not (tmp_path / "model.onnx").exists()
    assert (tmp_path / "model.json").is_file()  # the Paddle model stays usable


def test_fastscnn_fixed_shape_exports_and_checks(fastscnn_config, tmp_path):
    config, weights = fastscnn_config
    r = run_tool("export.py", "--config", config, "--model_path", weights,
                 "--save_dir", str(tmp_path), "--input_shape", "1", "3", "192", "384")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "random input [1, 3, 192, 384]" in r.stdout and "passed" in r.stdout, r.stdout
    deploy = yaml.safe_load((tmp_path / "deploy.yaml").read_text())["Deploy"]
    assert deploy["input_shape"] == [1, 3, 192, 384] and deploy["onnx"] == "model.onnx"
    x = np.random.default_rng(4).standard_normal([1, 3, 192, 384]).astype(np.float32)
    assert np.abs(paddle_inference_run(str(tmp_path), x) - onnx_run(str(tmp_path), x)).max() < 1e-5


FASTSCNN_192X320 = {"model": {"type": "FastSCNN", "num_classes": 2},
                    "export": {"transforms": [{"type": "Resize", "target_size": [320, 192]},
                                              {"type": "Normalize"}]}}


def test_onnx_check_rejects_an_inexact_conversion(tmp_path, monkeypatch):
    """192x320: on the 6x10 feature map paddle2onnx's fixed AveragePool (stride 1, kernel 5)
    differs from adaptive pooling to 6 bins (windows 0-2, 1-4, 3-5, ...); with the exact
    pooling of the export switched off, the check must catch it (measured 7e-4)."""
    from humanseg.export import run
    monkeypatch.setattr(run, "exact_adaptive_pooling", lambda model: contextlib.nullcontext(0))
    cfg = FASTSCNN_192X320
    with pytest.raises(HumanSegError, match="ONNX model disagrees with the Paddle model"):
        export_model(random_model(cfg["model"], 5), cfg, str(tmp_path), [1, 3, 192, 320],
                     "softmax", "both", log=lambda _: None)
    assert not (tmp_path / "model.onnx").exists()
    assert "onnx" not in yaml.safe_load((tmp_path / "deploy.yaml").read_text())["Deploy"]


def test_adaptive_pooling_exports_exactly_at_an_irregular_size(tmp_path):
    """The same 192x320 Fast-SCNN with the export's sliced adaptive pooling: ONNX equals Paddle."""
    messages = []
    result = export_model(random_model(FASTSCNN_192X320["model"], 5), FASTSCNN_192X320,
                          str(tmp_path), [1, 3, 192, 320], "softmax", "both",
                          log=messages.append)
    assert result.onnx_check["passed"] and result.onnx_check["max_abs_diff"] < 1e-5
    assert any("adaptive pooling layer(s) written as slices" in m for m in messages)
    x = np.random.default_rng(4).standard_normal([1, 3, 192, 320]).astype(np.float32)
    assert np.abs(paddle_inference_run(str(tmp_path), x) - onnx_run(str(tmp_path), x)).max() < 1e-5


# ----------------------------------------------------------------------------- user mistakes
def test_missing_model_path_file(tmp_path):
    missing = str(tmp_path / "nope.pdparams")
    assert_user_error(run_tool("export.py", "--config", LITE_CONFIG, "--model_path", missing,
                               "--save_dir", str(tmp_path / "out")), "not found", missing)


@pytest.mark.parametrize("shape, needle", [(["1", "3", "224"], "four integers N C H W"),
                                           (["1", "3", "a", "398"], "four integers N C H W"),
                                           (["1", "1", "224", "398"], "C=1"),
                                           (["1", "3", "100", "100"], "does not match")])
def test_bad_input_shape(shape, needle, tmp_path):
    r = run_tool("export.py", "--config", LITE_CONFIG, "--save_dir", str(tmp_path / "out"),
                 "--input_shape", *shape)
    assert_user_error(r, needle, "--input_shape")
    assert not (tmp_path / "out" / "model.json").exists()


def test_random_transform_in_export_transforms(tmp_path):
    cfg = {"model": {"type": "PPHumanSegLite", "num_classes": 2},
           "export": {"transforms": [{"type": "Resize", "target_size": [398, 224]},
                                     {"type": "RandomHorizontalFlip"}, {"type": "Normalize"}]}}
    r = run_tool("export.py", "--config", write_yaml(tmp_path / "c.yml", cfg),
                 "--save_dir", str(tmp_path / "out"))
    assert_user_error(r, "export.transforms[1]", "RandomHorizontalFlip", "deterministic")
    assert not (tmp_path / "out").exists()


def test_onnx_without_paddle2onnx_or_onnxruntime(monkeypatch):
    from humanseg.export import onnx_export
    monkeypatch.setattr(onnx_export, "onnx_available", lambda: False)
    cfg = {"model": {"type": "PPHumanSegLite", "num_classes": 2},
           "export": {"transforms": [{"type": "Normalize"}]}}
    with pytest.raises(ConfigError, match="pip install paddle2onnx.*--format paddle"):
        export_model(random_model(cfg["model"]), cfg, "unused", [-1, 3, -1, -1], fmt="onnx")


def test_config_errors_in_process():
    cfg = {"model": {"type": "PPHumanSegLite", "num_classes": 2},
           "export": {"transforms": [{"type": "Resize", "interp": "RANDOM"}]}}
    with pytest.raises(ConfigError, match=r"export.transforms\[0\] \(Resize\): interp RANDOM"):
        export_model(random_model(cfg["model"]), cfg, "unused", [-1, 3, -1, -1])
    cfg["export"] = {"transforms": [{"type": "ResizeByShort", "short_size": 128}]}
    with pytest.raises(ConfigError, match="varying size"):  # fixed H W, image-dependent size
        export_model(random_model(cfg["model"]), cfg, "unused", [1, 3, 128, 128])


def test_model_path_skips_the_configs_pretrained_download(tmp_path, lite_weights):
    """With --model_path every tensor comes from it: a pretrained URL in the config (unreachable
    here) is neither downloaded nor needed."""
    cfg = {"model": {"type": "PPHumanSegLite", "num_classes": 2,
                     "pretrained": "http://127.0.0.1:9/unreachable/model.pdparams"},
           "export": {"transforms": [{"type": "Normalize"}]}}
    r = run_tool("export.py", "--config", write_yaml(tmp_path / "c.yml", cfg), "--model_path",
                 lite_weights, "--save_dir", str(tmp_path / "out"), "--format", "paddle")
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / "out" / "model.json").is_file() and "no --model_path" not in r.stderr
