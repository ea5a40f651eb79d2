"""tools/data/: synthetic Cityscapes -> trainIds -> training, the validator's exit codes and
--fix-to, the splitter and masks_from_alpha, run as a user runs them."""
import os
import shutil

import numpy as np
import pytest
import yaml
from PIL import Image

from support import run_tool


def ok(r):
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def user_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "error: " in r.stderr, r.stderr[-2000:]
    for needle in needles:
        assert needle in r.stderr, (needle, r.stderr[-2000:])


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    root = tmp_path_factory.mktemp("city") / "cityscapes"
    ok(run_tool("data/make_synthetic_cityscapes.py", "--out_dir", str(root), "--num_train", "4",
                "--num_val", "2", "--width", "256", "--height", "128", "--seed", "3", cwd="/"))
    assert not list(root.glob("gtFine/*/*/*_labelTrainIds.png"))
    r = ok(run_tool("data/cityscapes_to_trainids.py", "--dataset_root", str(root),
                    "--num_workers", "2", cwd="/"))
    assert "converted 6 label(s)" in r.stdout
    return root


def test_converter_writes_trainids_and_lists(converted):
    assert len(list(converted.glob("gtFine/*/*/*_labelTrainIds.png"))) == 6
    assert len((converted / "train.txt").read_text().split("\n")) == 5
    user_error(run_tool("data/cityscapes_to_trainids.py", "--dataset_root",
                        str(converted / "nope")), "no gtFine/")


def test_few_training_iterations_on_converted_synthetic_cityscapes(converted, tmp_path):
    train_tf = [{"type": "ResizeStepScaling", "min_scale_factor": 0.5, "max_scale_factor": 2.0,
                 "scale_step_size": 0.25}, {"type": "RandomPaddingCrop", "crop_size": [128, 64]},
                {"type": "RandomHorizontalFlip"},
                {"type": "RandomDistort", "brightness_range": 0.4, "contrast_range": 0.4,
                 "saturation_range": 0.4}, {"type": "Normalize"}]
    cfg = {"batch_size": 2, "iters": 3,
           "train_dataset": {"type": "Cityscapes", "dataset_root": str(converted), "mode": "train",
                             "transforms": train_tf},
           "val_dataset": {"type": "Cityscapes", "dataset_root": str(converted), "mode": "val",
                           "transforms": [{"type": "Normalize"}]},
           "optimizer": {"type": "sgd", "momentum": 0.9, "weight_decay": 4.0e-5},
           "lr_scheduler": {"type": "PolynomialDecay", "learning_rate": 0.01, "end_lr": 0,
                            "power": 0.9},
           "loss": {"types": [{"type": "CrossEntropyLoss"}], "coef": [1]},
           "model": {"type": "PPHumanSegLite", "align_corners": False}}
    config = tmp_path / "city.yml"
    config.write_text(yaml.safe_dump(cfg))
    r = ok(run_tool("train.py", "--config", str(config), "--save_dir", str(tmp_path / "run"),
                    "--log_iters", "1", "--save_interval", "3", "--do_eval", cwd=str(tmp_path)))
    log = (tmp_path / "run" / "train.log").read_text()
    assert "iter=3/3" in log and "[EVAL] iter=3 mIoU=" in log, r.stdout[-2000:]
    assert "4 training images" in log or "4 training" in log


def test_validator_exit_codes_and_fix_to(tmp_path, synthetic_root, converted):
    r = ok(run_tool("data/validate_dataset.py", "--file_list", str(converted / "train.txt"),
                    str(converted / "val.txt"), "--dataset_root", str(converted),
                    "--num_classes", "19"))
    assert "no fatal problems" in r.stdout and "class pixels" in r.stdout
    root = tmp_path / "set"
    shutil.copytree(synthetic_root, root)
    for line in (root / "train.txt").read_text().split("\n"):
        if line:
            label = root / line.split()[1]
            Image.fromarray(np.asarray(Image.open(label)) * 255).save(label)
    cfg = tmp_path / "cfg.yml"
    cfg.write_text(yaml.safe_dump({"train_dataset": {"type": "PPHumanSeg14K",
                                                     "dataset_root": str(root), "mode": "train"}}))
    fixed = tmp_path / "fixed"
    r = run_tool("data/validate_dataset.py", "--config", str(cfg), "--fix-to", str(fixed))
    assert r.returncode == 1 and "FATAL binary_0_255" in r.stdout, r.stdout[-2000:] + r.stderr
    new_list = fixed / "train_dataset_train.txt"
    assert new_list.is_file() and "--fix-to: wrote" in r.stdout
    r = ok(run_tool("data/validate_dataset.py", "--file_list", str(new_list), "--dataset_root",
                    str(root), "--num_classes", "2"))
    user_error(run_tool("data/validate_dataset.py", "--file_list", str(new_list)),
               "--dataset_root")


def test_split_keeps_clips_together_and_is_deterministic(tmp_path, synthetic_root):
    def split(out, seed, *extra):
        ok(run_tool("data/split_dataset.py", "--image_dir", os.path.join(synthetic_root, "images"),
                    "--label_dir", os.path.join(synthetic_root, "annotations"), "--out_dir",
                    str(out), "--dataset_root", synthetic_root, "--seed", str(seed), *extra))
        return {s: (out / f"{s}.txt").read_text() for s in ("train", "val", "test")}

    a, b, c = split(tmp_path / "a", 1), split(tmp_path / "b", 1), split(tmp_path / "c", 2)
    assert a == b and a != c
    clips = {s: {x.split("/")[1].split("_")[0] for x in text.split("\n") if x}
             for s, text in a.items()}
    assert all(clips[s] for s in clips) and not (clips["train"] & clips["val"]) \
        and not (clips["train"] & clips["test"]) and not (clips["val"] & clips["test"])
    n = sum(len([x for x in t.split("\n") if x]) for t in a.values())
    assert n == len(os.listdir(os.path.join(synthetic_root, "images")))
    first = a["train"].split("\n")[0].split()
    assert os.path.isfile(os.path.join(synthetic_root, first[0]))
    # one folder per video
    nested = tmp_path / "nested"
    for name in sorted(os.listdir(os.path.join(synthetic_root, "images"))):
        clip = name.split("_")[0]
        for kind, ext in (("images", ".jpg"), ("annotations", ".png")):
            (nested / kind / clip).mkdir(parents=True, exist_ok=True)
            shutil.copy(os.path.join(synthetic_root, kind, name.replace(".jpg", ext)),
                        nested / kind / clip / name.replace(".jpg", ext))
    r = ok(run_tool("data/split_dataset.py", "--image_dir", str(nested / "images"), "--label_dir",
                    str(nested / "annotations"), "--out_dir", str(nested)))
    assert "grouped by folder" in r.stdout
    os.remove(next((nested / "annotations").glob("*/*.png")))
    user_error(run_tool("data/split_dataset.py", "--image_dir", str(nested / "images"),
                        "--label_dir", str(nested / "annotations"), "--out_dir", str(nested)),
               "have no label")


def test_masks_from_alpha(tmp_path):
    alpha_dir = tmp_path / "alpha"
    (alpha_dir / "sub").mkdir(parents=True)
    grey = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (4, 1))
    Image.fromarray(grey).save(alpha_dir / "a.png")
    rgba = np.zeros((4, 16, 4), np.uint8)
    rgba[..., 3] = grey
    Image.fromarray(rgba).save(alpha_dir / "sub" / "b.png")
    before = (alpha_dir / "a.png").read_bytes()
    ok(run_tool("data/masks_from_alpha.py", "--alpha_dir", str(alpha_dir), "--out_dir",
                str(tmp_path / "masks"), "--threshold", "0.5"))
    for rel in ("a.png", "sub/b.png"):
        mask = np.asarray(Image.open(tmp_path / "masks" / rel))
        np.testing.assert_array_equal(mask, (grey >= 127.5).astype(np.uint8))
    assert (alpha_dir / "a.png").read_bytes() == before
    user_error(run_tool("data/masks_from_alpha.py", "--alpha_dir", str(alpha_dir), "--out_dir",
                        str(alpha_dir / "m")), "inside the alpha folder")
    user_error(run_tool("data/masks_from_alpha.py", "--alpha_dir", str(alpha_dir), "--out_dir",
                        str(tmp_path / "m2"), "--threshold", "3"), "--threshold")


def test_synthetic_video_tool_writes_a_decodable_video_with_labels(tmp_path):
    import cv2
    out = tmp_path / "video"
    r = ok(run_tool("data/make_synthetic_video.py", "--out_dir", str(out), "--num_clips", "2",
                    "--frames_per_clip", "6", "--width", "160", "--height", "96"))
    assert "12 frames of 160x96" in r.stdout
    cap = cv2.VideoCapture(str(out / "video.mp4"))
    frames = 0
    while True:
        ok_read, frame = cap.read()
        if not ok_read:
            break
        assert frame.shape == (96, 160, 3)
        frames += 1
    assert frames == 12
    data = np.load(out / "labels.npz")
    assert data["labels"].shape == (12, 96, 160)
    assert set(np.unique(data["labels"])) == {0, 1}
    assert list(data["clip_starts"]) == [0, 6]
    user_error(run_tool("data/make_synthetic_video.py", "--out_dir", str(out), "--width", "0"))


def test_validator_names_one_0_255_mask_among_0_1_masks_and_fixes_it(tmp_path, synthetic_root):
    root = tmp_path / "set"
    shutil.copytree(synthetic_root, root)
    first = [x for x in (root / "train.txt").read_text().split("\n") if x][3].split()[1]
    label = root / first
    Image.fromarray(np.asarray(Image.open(label)) * 255).save(label)
    fixed = tmp_path / "fixed"
    r = run_tool("data/validate_dataset.py", "--file_list", str(root / "train.txt"),
                 "--dataset_root", str(root), "--num_classes", "2", "--fix-to", str(fixed))
    assert r.returncode == 1 and "FATAL binary_0_255 (1)" in r.stdout, r.stdout[-2000:] + r.stderr
    assert str(label) in r.stdout and "--fix-to: wrote" in r.stdout
    ok(run_tool("data/validate_dataset.py", "--file_list", str(fixed / "train.txt"),
                "--dataset_root", str(root), "--num_classes", "2"))
