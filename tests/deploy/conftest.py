"""Fixtures of the deploy tests: exported PP-HumanSeg-Lite folders (made by tools/export.py)
and a short generated clip. Helpers live in deploy_helpers.py."""
import pytest

from deploy_helpers import export, make_weights, write_clip


@pytest.fixture(scope="session")
def weights(tmp_path_factory):
    return make_weights(str(tmp_path_factory.mktemp("weights") / "model.pdparams"))


@pytest.fixture(scope="session")
def exported(tmp_path_factory, weights):
    """softmax output, model.json + model.onnx, Resize 96x64 + Normalize."""
    return export(tmp_path_factory.mktemp("export"), "softmax", weights, "softmax", "both")


@pytest.fixture(scope="session")
def exported_argmax(tmp_path_factory, weights):
    """argmax output (PaddleSeg's default), Paddle format only."""
    return export(tmp_path_factory.mktemp("export"), "argmax", weights, "argmax", "paddle")


@pytest.fixture(scope="session")
def exported_logits(tmp_path_factory, weights):
    """output_op none (logits), ONNX."""
    return export(tmp_path_factory.mktemp("export"), "logits", weights, "none", "onnx")


@pytest.fixture(scope="session")
def clip(tmp_path_factory):
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4")
