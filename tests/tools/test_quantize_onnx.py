"""tools/quantize_onnx.py: a static int8 model of an exported PP-HumanSeg-Lite that runs and stays
close to the fp32 model, or (where onnxruntime.quantization cannot import) one clear error."""
import importlib.util

import numpy as np
import pytest
from pathlib import Path

from support import export_untrained_lite, run_tool


def _quantization_importable() -> bool:
    try:
        import onnxruntime.quantization  # noqa: F401
        return True
    except ImportError:
        return False


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    return Path(export_untrained_lite(tmp_path_factory.mktemp("quant"), [64, 48]))


def test_static_int8_runs_close_to_fp32_or_names_the_missing_package(export_dir, synthetic_root):
    res = run_tool("quantize_onnx.py", "--model_dir", str(export_dir), "--calib_dir",
                   f"{synthetic_root}/images", "--num_calib", "8")
    if not _quantization_importable():
        assert res.returncode == 2
        assert "pip install onnxruntime ml_dtypes" in res.stderr
        return
    assert res.returncode == 0, res.stderr[-2000:]
    import onnxruntime as ort
    x = np.random.default_rng(0).uniform(-1, 1, (1, 3, 48, 64)).astype(np.float32)
    fp32 = ort.InferenceSession(str(export_dir / "model.onnx")).run(None, {"x": x})[0]
    int8 = ort.InferenceSession(str(export_dir / "model_int8.onnx")).run(None, {"x": x})[0]
    assert int8.shape == fp32.shape
    assert np.abs(int8 - fp32).max() < 0.2   # probabilities: int8 error, not garbage


def test_static_needs_calibration_images(export_dir):
    if importlib.util.find_spec("ml_dtypes") is None:
        pytest.skip("onnxruntime.quantization needs ml_dtypes")
    res = run_tool("quantize_onnx.py", "--model_dir", str(export_dir))
    assert res.returncode == 2 and "--calib_dir" in res.stderr


def test_missing_deploy_yaml_is_one_error(tmp_path):
    res = run_tool("quantize_onnx.py", "--model_dir", str(tmp_path))
    assert res.returncode == 2 and "deploy.yaml not found" in res.stderr
