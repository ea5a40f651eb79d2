"""Each user mistake ends in one clear message naming the file or key, exit code 2, no traceback."""
import os
import shutil

import numpy as np
import pytest
import yaml
from PIL import Image

from support import run_tool, tiny_config


def assert_user_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert r.stderr.startswith("error: ") or "\nerror: " in r.stderr, r.stderr[-2000:]
    for needle in needles:
        assert needle in r.stderr, (needle, r.stderr[-2000:])


def write_config(tmp_path, cfg, name="cfg.yml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(cfg) if isinstance(cfg, dict) else cfg)
    return str(path)


@pytest.fixture
def broken_root(tmp_path, synthetic_root):
    """A writable copy of the synthetic set to damage."""
    root = tmp_path / "data"
    shutil.copytree(synthetic_root, root)
    return root


def train(tmp_path, config):
    return run_tool("train.py", "--config", config, "--save_dir", str(tmp_path / "out"),
                    "--iters", "1", cwd=str(tmp_path))


def test_missing_config_file(tmp_path):
    assert_user_error(train(tmp_path, str(tmp_path / "nope.yml")), "config file not found",
                      "nope.yml")


def test_yaml_syntax_error(tmp_path):
    config = write_config(tmp_path, "batch_size: 2\nmodel:\n  type: PPHumanSegLite\n"
                                    "   num_classes: 2\n")
    assert_user_error(train(tmp_path, config), "YAML syntax error", "cfg.yml", "line")


def test_unknown_type(tmp_path, synthetic_root):
    cfg = tiny_config(synthetic_root)
    cfg["loss"]["types"][0]["losses"][1]["type"] = "LovaszSoftmaxLos"
    assert_user_error(train(tmp_path, write_config(tmp_path, cfg)), "LovaszSoftmaxLos",
                      "Did you mean: LovaszSoftmaxLoss")


def test_missing_key(tmp_path, synthetic_root):
    cfg = tiny_config(synthetic_root)
    del cfg["lr_scheduler"]
    assert_user_error(train(tmp_path, write_config(tmp_path, cfg)), "lr_scheduler")


def test_file_list_names_a_missing_image(tmp_path, broken_root):
    os.remove(broken_root / open(broken_root / "train.txt").readline().split()[0])
    cfg = tiny_config(str(broken_root))
    assert_user_error(train(tmp_path, write_config(tmp_path, cfg)), "do not exist",
                      "train.txt:1")


def test_unreadable_image(tmp_path, broken_root):
    image = open(broken_root / "train.txt").readline().split()[0]
    (broken_root / image).write_bytes(b"this is not a jpeg")
    cfg = tiny_config(str(broken_root))
    assert_user_error(train(tmp_path, write_config(tmp_path, cfg)), "cannot read image",
                      os.path.basename(image))


def test_label_size_differs_from_image(tmp_path, broken_root):
    label = open(broken_root / "train.txt").readline().split()[1]
    im = Image.open(broken_root / label)
    im.resize((im.width // 2, im.height // 2)).save(broken_root / label)
    cfg = tiny_config(str(broken_root))
    assert_user_error(train(tmp_path, write_config(tmp_path, cfg)), os.path.basename(label),
                      "must be the same size")


def remap_train_labels(root, value):
    """Rewrite every training label with person pixels set to ``value`` (0/value masks)."""
    labels = [line.split()[1] for line in open(root / "train.txt")]
    for label in labels:
        arr = np.asarray(Image.open(root / label)).copy()
        arr[arr == 1] = value
        Image.fromarray(arr).save(root / label)
    return labels


@pytest.mark.parametrize("value", [200, 128])
def test_label_values_out_of_range(tmp_path, broken_root, value):
    remap_train_labels(broken_root, value)
    cfg = tiny_config(str(broken_root))
    assert_user_error(train(tmp_path, write_config(tmp_path, cfg)), "annotations", f"[{value}]",
                      "0 and 1")


def test_binary_masks_0_255_trap(tmp_path, broken_root):
    remap_train_labels(broken_root, 255)
    cfg = tiny_config(str(broken_root))
    assert_user_error(train(tmp_path, write_config(tmp_path, cfg)), "only 0 and 255",
                      "Remap 255 -> 1")


def test_val_refuses_without_weights(tmp_path, synthetic_root):
    config = write_config(tmp_path, tiny_config(synthetic_root))
    assert_user_error(run_tool("val.py", "--config", config), "--model_path is required")
    assert_user_error(run_tool("val.py", "--config", config, "--model_path",
                               str(tmp_path / "none.pdparams")), "none.pdparams")


def test_loss_count_differs_from_model_outputs(tmp_path, synthetic_root):
    cfg = tiny_config(synthetic_root)
    cfg["loss"] = {"types": [{"type": "CrossEntropyLoss"}], "coef": [1, 0.4]}
    assert_user_error(train(tmp_path, write_config(tmp_path, cfg)), "loss.types")


@pytest.mark.parametrize("workers", ["0", "2"])
def test_image_that_fails_to_decode_while_training(tmp_path, broken_root, workers):
    """Header fine (passes the up-front check), pixels corrupt: found by a loader worker, and the
    user still gets one message naming the file, not a worker traceback."""
    image = open(broken_root / "train.txt").readlines()[-1].split()[0]
    w, h = Image.open(broken_root / image).size
    Image.new("RGB", (w, h)).save(tmp_path / "ok.png")
    data = bytearray((tmp_path / "ok.png").read_bytes())
    start = data.index(b"IDAT") + 4  # headers stay valid, the compressed pixels do not
    data[start:start + 16] = b"\xff" * 16
    (broken_root / image).write_bytes(bytes(data))
    config = write_config(tmp_path, tiny_config(str(broken_root)))
    r = run_tool("train.py", "--config", config, "--save_dir", str(tmp_path / "out"),
                 "--iters", "12", "--num_workers", workers, cwd=str(tmp_path))
    assert_user_error(r, "cannot read image", os.path.basename(image))


@pytest.mark.parametrize("typo, meant", [("batch_sise", "batch_size"), ("nan_polcy", "nan_policy")])
def test_typo_in_a_config_key_is_refused(tmp_path, synthetic_root, typo, meant):
    """``batch_sise: 2`` used to train at the config's batch 4 without a word."""
    cfg = tiny_config(synthetic_root)
    cfg[typo] = 2 if typo == "batch_sise" else "skip"
    r = train(tmp_path, write_config(tmp_path, cfg))
    assert_user_error(r, f"unknown top-level key '{typo}'", f"Did you mean {meant}")
    assert not (tmp_path / "out" / "iter_1").exists()
