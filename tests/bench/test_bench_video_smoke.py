"""bench/bench_video.py on a tiny clip with a tiny exported model: the script cannot rot.

No timing assertions and no MediaPipe (its rows must be skipped cleanly when it is absent).
"""
import json
import os
import sys

import cv2
import numpy as np
import pytest
import yaml

from support import ROOT, export_untrained_lite

BENCH = os.path.join(ROOT, "bench")
if BENCH not in sys.path:
    sys.path.insert(0, BENCH)

import bench_video  # noqa: E402
from humanseg.datasets.synthetic.video import make_video_clip  # noqa: E402
from video_peers import load_mediapipe  # noqa: E402
from video_stages import PeerRunner  # noqa: E402


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory):
    """An untrained PP-HumanSeg-Lite exported by tools/export.py (Paddle + ONNX, dynamic H/W)."""
    return export_untrained_lite(tmp_path_factory.mktemp("bench_video_model"), [96, 54],
                                 "--output_op", "softmax")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return make_video_clip(str(tmp_path_factory.mktemp("bench_video_clip")), num_clips=2,
                           frames_per_clip=4, size=(160, 90), seed=5)


def test_clip_is_a_decodable_video_with_matching_labels(clip):
    assert len(clip) == 8 and clip.size == (160, 90) and clip.clip_starts == [0, 4]
    assert set(np.unique(clip.labels)) <= {0, 1} and clip.labels.any()
    cap = cv2.VideoCapture(clip.video_path)
    frames = 0
    while cap.read()[0]:
        frames += 1
    assert frames == 8


def test_bench_runs_every_row_and_skips_absent_mediapipe(tiny_export, clip, tmp_path, capsys):
    work = tmp_path / "work"
    summary = bench_video.main([
        "--model_dir", tiny_export, "--work_dir", str(work), "--clip", "2x4@160x90",
        "--sizes", "96x54,64x36", "--smooth", "none,ema,flow", "--infer_every", "2",
        "--mediapipe", "no_install", "--threads", "1"])
    out = capsys.readouterr().out
    assert "MediaPipe rows skipped" in out and "n/a" in out
    names = [r["name"] for r in summary["rows"]]
    assert names == ["Lite 96x54 smooth=none", "Lite 96x54 smooth=ema:0.1", "Lite 96x54 smooth=flow:0.1",
                     "Lite 96x54 every 2 smooth=flow:0.1", "Lite 64x36 smooth=none",
                     "Lite 64x36 smooth=ema:0.1", "Lite 64x36 smooth=flow:0.1",
                     "Lite 64x36 every 2 smooth=flow:0.1"]
    for row in summary["rows"]:
        assert row["frames"] == 8
        assert set(row["stage_ms"]) == set(bench_video.STAGES)
        assert row["fps"] > 0 and 0.0 <= row["miou"] <= 1.0
        assert 0.0 <= row["flicker"] <= 1.0 and row["soft_flicker"] is not None
        cap = cv2.VideoCapture(row["out_path"])
        assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 8
        assert int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)) == 160
        assert row["name"] in out
    every = summary["rows"][3]
    assert every["network_frames"] == 4      # frames 0, 2, 4, 6 (the clip cut does not force one)
    assert summary["rows"][0]["network_frames"] == 8
    # no smoothing: the flicker of the output is the flicker of the raw masks
    assert summary["rows"][0]["flicker"] == summary["rows"][0]["flicker_unsmoothed"]
    variant = yaml.safe_load((work / "variants" / "64x36" / "deploy.yaml").read_text())
    assert variant["Deploy"]["transforms"][0]["target_size"] == [64, 36]
    assert json.loads((work / "results.json").read_text())["rows"][0]["name"] == names[0]


class _Oracle:
    """A peer that answers with the clip's own labels: mIoU 1 and no flicker by construction."""
    name = "oracle"

    def __init__(self, labels):
        self.labels, self.i = labels, 0

    def preprocess(self, frame):
        return frame

    def infer(self, frame):
        alpha = self.labels[self.i % len(self.labels)].astype(np.float32)
        self.i += 1
        return alpha

    def close(self):
        pass


def test_run_row_scores_a_perfect_segmenter_as_perfect(clip, tmp_path):
    runner = PeerRunner(_Oracle(clip.labels), background="green", smooth="none")
    runner.seg.i = -bench_video.DEFAULT_WARMUP   # the warm-up calls come first
    row = bench_video.run_row(runner, clip, str(tmp_path / "oracle.mp4"))
    assert row["miou"] == pytest.approx(1.0)
    assert row["flicker"] == 0.0 and row["soft_flicker"] == 0.0


def test_mediapipe_absent_is_reported_not_raised(tmp_path):
    module, why = load_mediapipe(str(tmp_path / "no_mediapipe"), install=False)
    if module is None:
        assert "not installed" in why
    else:  # an environment that has mediapipe importable: then it must be the real one
        assert hasattr(module.solutions, "selfie_segmentation")


def test_bad_smooth_and_size_specs_name_the_fix():
    from humanseg.errors import ConfigError
    assert bench_video.parse_smooth("ema:0.1") == ("ema", 0.1)
    assert bench_video.parse_smooth("flow") == ("flow", bench_video.DEFAULT_WEIGHT)
    with pytest.raises(ConfigError, match="none, ema or flow"):
        bench_video.parse_smooth("gauss")
    with pytest.raises(ConfigError, match=r"in \(0, 1\]"):
        bench_video.parse_smooth("ema:1.5")
    with pytest.raises(ConfigError, match="LABEL=PATH"):
        bench_video.parse_variant("int8=/no/such.onnx")
    with pytest.raises(ConfigError, match="WIDTHxHEIGHT"):
        bench_video.parse_size("398-224")


def test_model_rows_run_exported_folders_at_their_own_size(tmp_path_factory, clip, tmp_path,
                                                           capsys):
    """--model LABEL=DIR (here a --skip_final_resize export at 64x36) with --sizes '': only its
    rows, no bench model trained or exported."""
    lowres = export_untrained_lite(tmp_path_factory.mktemp("bench_video_lowres"), [64, 36],
                                   "--output_op", "softmax", "--skip_final_resize")
    work = tmp_path / "work"
    summary = bench_video.main([
        "--sizes", "", "--model", f"small={lowres}", "--work_dir", str(work),
        "--clip", "2x4@160x90", "--smooth", "none,ema", "--infer_every", "2",
        "--mediapipe", "off", "--threads", "1"])
    capsys.readouterr()
    assert [r["name"] for r in summary["rows"]] == [
        "small smooth=none", "small smooth=ema:0.1", "small every 2 smooth=ema:0.1"]
    assert summary["model_dir"] is None and not (work / "train").exists()
    assert [r["network_frames"] for r in summary["rows"]] == [8, 8, 4]
    assert all(0.0 <= r["miou"] <= 1.0 and r["frames"] == 8 for r in summary["rows"])
    from humanseg.errors import ConfigError
    with pytest.raises(ConfigError, match="LABEL=DIR"):
        bench_video.parse_model(f"small={tmp_path}")
