"""Helpers of the export tests. Importing this module puts tests/models on sys.path (for
model_specs). Kept out of a conftest.py: tests/deploy imports its own conftest by name."""
import os
import sys

import numpy as np

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOY_PYTHON = os.path.join(os.path.dirname(TESTS), "deploy", "python")
if os.path.join(TESTS, "models") not in sys.path:
    sys.path.insert(0, os.path.join(TESTS, "models"))


def paddle_inference_run(model_dir: str, x: np.ndarray) -> np.ndarray:
    """First output of ``model_dir/model.json`` on ``x`` with Paddle Inference on CPU: oneDNN on,
    its placement pass deleted (the interpolate workaround of reference/ecosystem.md §1)."""
    from paddle import inference
    config = inference.Config(os.path.join(model_dir, "model.json"),
                              os.path.join(model_dir, "model.pdiparams"))
    config.disable_gpu()
    config.enable_onednn()
    config.delete_pass("onednn_placement_pass")
    config.disable_glog_info()
    predictor = inference.create_predictor(config)
    handle = predictor.get_input_handle(predictor.get_input_names()[0])
    handle.reshape(list(x.shape))
    handle.copy_from_cpu(np.ascontiguousarray(x))
    predictor.run()
    return predictor.get_output_handle(predictor.get_output_names()[0]).copy_to_cpu()


def onnx_run(model_dir: str, x: np.ndarray) -> np.ndarray:
    """First output of ``model_dir/model.onnx`` on ``x`` with onnxruntime (CPU)."""
    from humanseg.export.onnx_export import run_onnx
    return run_onnx(os.path.join(model_dir, "model.onnx"), x)


def deploy_predictor_class():
    """deploy/python's ``Predictor`` (from infer.py, else predictor.py where it is defined)."""
    if DEPLOY_PYTHON not in sys.path:
        sys.path.insert(0, DEPLOY_PYTHON)
    for module in ("infer", "predictor"):
        if os.path.isfile(os.path.join(DEPLOY_PYTHON, module + ".py")):
            mod = __import__(module)
            if hasattr(mod, "Predictor"):
                return mod.Predictor
    raise AssertionError(f"deploy/python has no Predictor (looked in infer.py and predictor.py "
                         f"under {DEPLOY_PYTHON})")
