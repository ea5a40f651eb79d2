"""deploy/python/video.py runs headless on a generated clip for every background kind and every
smoothing mode; the pipeline's stages are callable one by one."""
import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

import video
from deploy_helpers import DEPLOY, write_clip
from video import VideoPipeline


def _frames(path):
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return frames


@pytest.fixture(scope="module")
def backgrounds(tmp_path_factory):
    root = tmp_path_factory.mktemp("bg")
    img = np.zeros((300, 500, 3), np.uint8)
    img[:, :250] = (255, 0, 0)
    cv2.imwrite(str(root / "bg.png"), img)
    return {"image": str(root / "bg.png"),
            "video": write_clip(root / "bg.mp4", frames=7, size=(200, 120)),
            "blur": "blur", "green": "green", "color": "#3366CC"}


@pytest.mark.parametrize("bg, smooth", [("image", "none"), ("video", "ema"), ("blur", "flow"),
                                        ("green", "ema"), ("color", "none")])
def test_video_headless_each_background_and_smoothing(exported, clip, backgrounds, tmp_path,
                                                      capsys, bg, smooth):
    out = str(tmp_path / "out.mp4")
    code = video.main(["--model_dir", exported, "--video_path", clip, "--save_path", out,
                       "--background", backgrounds[bg], "--smooth", smooth, "--headless",
                       "--show_fps", "--threads", "1"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.strip().splitlines()[-1].startswith("frames 40, seconds ")
    frames = _frames(out)
    assert len(frames) == 40 and frames[0].shape == (180, 320, 3)
    src = _frames(clip)
    assert np.abs(frames[20].astype(int) - src[20]).mean() > 1  # the background was replaced


def test_portrait_clip_letterboxed_with_infer_every(exported, tmp_path, capsys):
    clip = write_clip(tmp_path / "portrait.mp4", frames=12, size=(180, 320))
    out = str(tmp_path / "out.mp4")
    assert video.main(["--model_dir", exported, "--video_path", clip, "--save_path", out,
                       "--smooth", "flow", "--infer_every", "3", "--max_frames", "10",
                       "--headless", "--backend", "paddle"]) == 0
    assert "frames 10," in capsys.readouterr().out
    frames = _frames(out)
    assert len(frames) == 10 and frames[0].shape == (320, 180, 3)


def test_pipeline_stages(exported, clip):
    pipe = VideoPipeline(exported, background="green", smooth="ema", infer_every=3,
                         backend="onnx", threads=1)
    assert pipe.aspect == pytest.approx(96 / 64)
    pipe.open_source(video_path=clip)
    inferred, raw, smoothed = [], [], []
    for _ in range(7):
        frame = pipe.read()
        prep = pipe.preprocess(frame)
        alpha = pipe.infer(prep, frame)
        inferred.append(pipe.last_inferred)
        raw.append(alpha)
        smoothed.append(pipe.smooth(alpha, frame))
        out = pipe.composite(frame, smoothed[-1])
        assert out.shape == frame.shape and alpha.shape == frame.shape[:2]
        assert alpha.dtype == np.float32 and 0 <= alpha.min() and alpha.max() <= 1
    assert inferred == [True, False, False, True, False, False, True]
    # the network's alpha equals Predictor.predict_probs on the letterboxed frame (no padding
    # here: 320x180 is padded to 3:2, i.e. 320x213, then cropped)
    pipe.reset()
    pipe.open_source(video_path=clip)
    frame = pipe.read()
    alpha = pipe.infer(pipe.preprocess(frame), frame)
    from compositing import letterbox, unletterbox
    padded, pads = letterbox(frame, 96 / 64)
    assert pads[0] + pads[1] > 0
    want = unletterbox(pipe.predictor.predict_probs(padded)[1], pads)
    np.testing.assert_allclose(alpha, want, atol=1e-5)
    # green where the alpha is 0, the frame where it is 1
    bg_only = pipe.composite(frame, np.zeros_like(alpha))
    assert (bg_only == (0, 255, 0)).all()
    np.testing.assert_array_equal(pipe.composite(frame, np.ones_like(alpha)), frame)
    pipe.close()


def test_errors(exported, clip, tmp_path, capsys):
    with pytest.raises(RuntimeError, match="cannot open camera 97 .*--camera_id 97"):
        VideoPipeline(exported, backend="onnx").open_source(camera_id=97)
    base = ["--model_dir", exported, "--headless"]
    for extra, words in [(["--camera_id", "97", "--save_path", str(tmp_path / "o.mp4")],
                          "camera 97"),
                         (["--video_path", str(tmp_path / "none.mp4"), "--save_path", "o.mp4"],
                          "none.mp4"),
                         (["--video_path", clip], "--save_path is required"),
                         (["--video_path", clip, "--save_path", str(tmp_path / "o.mp4"),
                           "--background", "#12345"], "#RRGGBB"),
                         (["--video_path", clip, "--save_path", str(tmp_path / "o.mp4"),
                           "--background", str(tmp_path / "sky.jpg")], "sky.jpg"),
                         (["--video_path", clip, "--save_path", str(tmp_path / "o.mp4"),
                           "--infer_every", "0"], "--infer_every")]:
        assert video.main(base + extra) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and words in err, err


def test_cli_subprocess_prints_fps(exported, clip, tmp_path):
    res = subprocess.run([sys.executable, os.path.join(DEPLOY, "video.py"), "--model_dir",
                          exported, "--video_path", clip, "--save_path",
                          str(tmp_path / "o.mp4"), "--max_frames", "15"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "DISPLAY": ""})
    assert res.returncode == 0, res.stderr
    last = res.stdout.strip().splitlines()[-1]
    assert last.startswith("frames 15, seconds ") and " fps " in last and "end to end" in last


def test_smoothing_lowers_flicker_through_the_network(exported, tmp_path):
    """A still scene with sensor-like noise: the network's mask jitters from frame to frame;
    ema and flow smoothing cut that change (mean |alpha_t - alpha_t-1|) at least in half."""
    rng = np.random.RandomState(0)
    base = cv2.GaussianBlur((rng.rand(96, 160, 3) * 255).astype(np.uint8), (7, 7), 0)
    frames = [np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)
              for _ in range(20)]
    flicker = {}
    for mode in ("none", "ema", "flow"):
        pipe = VideoPipeline(exported, smooth=mode, backend="onnx", threads=1)
        alphas = [pipe.smooth(pipe.infer(pipe.preprocess(f), f), f) for f in frames]
        flicker[mode] = np.mean([np.abs(a - b).mean() for a, b in zip(alphas[4:], alphas[3:])])
    assert flicker["none"] > 1e-3, flicker
    assert flicker["ema"] < flicker["none"] / 2 and flicker["flow"] < flicker["none"] / 2, flicker


def test_video_takes_paddleseg_config_flag(exported, exported_logits, clip, tmp_path, capsys):
    out = str(tmp_path / "out.mp4")
    common = ["--video_path", clip, "--save_path", out, "--max_frames", "2", "--headless",
              "--threads", "1"]
    config = os.path.join(exported, "deploy.yaml")
    assert video.main(["--config", config, *common]) == 0, capsys.readouterr().err
    assert len(_frames(out)) == 2
    capsys.readouterr()
    assert video.main(["--config", config, "--model_dir", exported_logits, *common]) == 2
    assert "name different model folders" in capsys.readouterr().err
