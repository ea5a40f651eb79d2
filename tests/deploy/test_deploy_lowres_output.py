"""deploy/python with a network output smaller than its input (tools/export.py
--skip_final_resize): ``reverse`` maps it to the image in one resize (and before a padding crop
to the size the crop expects), deploy.yaml's ``output_stride`` is read, and the video pipeline
gives the alpha of the default export up to the difference of one resize against two."""
import cv2
import numpy as np
import pytest
import yaml

from compositing import alpha_from_output
from deploy_config import DeployConfigError, load_deploy_config
from deploy_helpers import NET_H, NET_W
from preprocess import reverse
from support import run_tool
from video import VideoPipeline


def _up(out, hw):
    """[C, h, w] -> [C, H, W] with cv2's bilinear resize (what the network's upsample was)."""
    return cv2.resize(out.transpose(1, 2, 0), (hw[1], hw[0]),
                      interpolation=cv2.INTER_LINEAR).transpose(2, 0, 1)


def test_padding_crop_of_a_small_output_resizes_to_the_padded_size_first():
    rng = np.random.RandomState(0)
    small = rng.randn(2, 16, 24).astype(np.float32)          # network input 32x48, stride 2
    info = [("resize", (30, 50)), ("padding", (24, 40))]      # image 30x50 -> 24x40 -> pad 32x48
    got = reverse(small, info, input_hw=(32, 48))
    want = reverse(_up(small, (32, 48)), info)
    assert got.shape == (2, 30, 50)
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="input_hw"):
        reverse(small, info)  # without the input size the crop would silently be wrong


def test_small_output_goes_to_the_image_in_one_resize():
    rng = np.random.RandomState(1)
    small = rng.randn(2, 18, 32).astype(np.float32)
    info = [("resize", (360, 640))]
    got = reverse(small, info, input_hw=(36, 64))
    np.testing.assert_array_equal(got, _up(small, (360, 640)))
    # no transform changed the size: the output still goes back to the input size
    np.testing.assert_array_equal(reverse(small, [], input_hw=(36, 64)), _up(small, (36, 64)))
    # an output at the input size is unchanged by passing input_hw
    full = rng.randn(2, 32, 48).astype(np.float32)
    pad = [("padding", (20, 40))]
    np.testing.assert_array_equal(reverse(full, pad, input_hw=(32, 48)), reverse(full, pad))


def test_sigmoid_alpha_is_exact_and_leaves_the_output_alone():
    logits = np.array([[[0.0, 5.0, -300.0, 300.0]], [[0.0, -5.0, 300.0, -300.0]]], np.float32)
    before = logits.copy()
    with np.errstate(all="raise"):
        alpha = alpha_from_output(logits, "none")
    np.testing.assert_array_equal(logits, before)
    np.testing.assert_allclose(alpha[0], [0.5, 1 / (1 + np.exp(10.0)), 1.0, 0.0], atol=1e-7)
    assert alpha.dtype == np.float32


@pytest.mark.parametrize("value", [0, -2, 1.5, "2"])
def test_bad_output_stride(tmp_path, value):
    for f in ("model.json", "model.pdiparams"):
        (tmp_path / f).write_bytes(b"x")
    (tmp_path / "deploy.yaml").write_text(yaml.safe_dump({"Deploy": {
        "model": "model.json", "params": "model.pdiparams", "output_stride": value,
        "transforms": [{"type": "Normalize"}]}}))
    with pytest.raises(DeployConfigError, match="`Deploy.output_stride`.*positive int"):
        load_deploy_config(str(tmp_path))


@pytest.fixture(scope="module")
def exported_lowres(tmp_path_factory, weights):
    tmp = tmp_path_factory.mktemp("lowres")
    cfg = tmp / "lite.yml"
    cfg.write_text(yaml.safe_dump({
        "model": {"type": "PPHumanSegLite", "num_classes": 2},
        "export": {"transforms": [{"type": "Resize", "target_size": [NET_W, NET_H]},
                                  {"type": "Normalize"}]}}))
    res = run_tool("export.py", "--config", str(cfg), "--model_path", weights, "--save_dir",
                   str(tmp / "out"), "--output_op", "softmax", "--format", "both",
                   "--skip_final_resize")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "final resize skipped" in res.stdout
    return str(tmp / "out")


@pytest.mark.parametrize("frame_hw", [(90, 160), (160, 90)])  # landscape, and letterboxed portrait
def test_video_pipeline_alpha_matches_the_default_export(exported, exported_lowres, frame_hw):
    assert load_deploy_config(exported_lowres).output_stride == 2
    frame = (np.random.RandomState(3).rand(*frame_hw, 3) * 255).astype(np.uint8)
    alphas = []
    for folder in (exported, exported_lowres):
        pipe = VideoPipeline(folder, smooth="none", backend="onnx", threads=1)
        prep = pipe.preprocess(frame)
        alphas.append(pipe.infer(prep, frame))
        if folder == exported_lowres:
            assert pipe.predictor.run(prep.x).shape[2:] == (NET_H // 2, NET_W // 2)
        pipe.close()
    full, low = alphas
    assert low.shape == full.shape == frame_hw and low.dtype == np.float32
    # one bilinear resize instead of two: with these random (sharp) weights the alphas differ by
    # 0.004 on average (0.18-0.27 at a few edge pixels); a misplaced or misscaled alpha differs
    # by far more
    assert np.abs(low - full).mean() < 0.01
    assert ((low > 0.5) == (full > 0.5)).mean() > 0.98
