"""tools/train.py, val.py and predict.py end to end, from another working directory."""
import json
import os

import numpy as np
from PIL import Image

from support import run_tool


def train(tmp_path, config, *extra):
    save_dir = tmp_path / "run"
    r = run_tool("train.py", "--config", config, "--save_dir", str(save_dir), "--iters", "4",
                 "--save_interval", "2", "--log_iters", "1", "--do_eval", *extra, cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return save_dir, r


def test_train_val_predict_end_to_end(tmp_path, tiny_config_file, synthetic_root):
    config = tiny_config_file()
    save_dir, r = train(tmp_path, config)
    log = (save_dir / "train.log").read_text()
    for field in ("iter=4/4", "out0.CrossEntropyLoss=", "out0.LovaszSoftmaxLoss=", "lr=",
                  "batch_cost=", "reader_cost=", "ips=", "ETA", "[EVAL] iter=4 mIoU="):
        assert field in log, field
    assert sorted(os.listdir(save_dir / "iter_4")) == ["model.pdopt", "model.pdparams",
                                                       "train_state.pdstates"]
    assert (save_dir / "iter_2").is_dir()
    best = save_dir / "best_model"
    assert sorted(os.listdir(best)) == ["config.yml", "metrics.json", "model.pdparams"]
    best_metrics = json.loads((best / "metrics.json").read_text())
    assert 0 <= best_metrics["miou"] <= 1 and best_metrics["iter"] in (2, 4)
    assert (save_dir / "config.yml").is_file()

    r = run_tool("val.py", "--config", config, "--model_path", str(best), "--save_dir",
                 str(tmp_path / "val"), cwd="/")
    assert r.returncode == 0, r.stderr[-3000:]
    metrics = json.loads((tmp_path / "val" / "metrics.json").read_text())
    assert abs(metrics["miou"] - best_metrics["miou"]) < 1e-6, "val.py must reproduce the eval"
    assert "mIoU=" in r.stdout and len(metrics["class_iou"]) == 2

    image_dir = os.path.join(synthetic_root, "images")
    r = run_tool("predict.py", "--config", config, "--model_path", str(best / "model.pdparams"),
                 "--image_path", image_dir, "--save_dir", str(tmp_path / "pred"), cwd="/")
    assert r.returncode == 0, r.stderr[-3000:]
    names = sorted(os.listdir(image_dir))
    masks = sorted(os.listdir(tmp_path / "pred" / "mask"))
    assert masks == sorted(n.rsplit(".", 1)[0] + ".png" for n in names)
    src = Image.open(os.path.join(image_dir, names[0]))
    mask = Image.open(tmp_path / "pred" / "mask" / masks[0])
    assert mask.mode == "P" and mask.size == src.size
    assert set(np.unique(np.asarray(mask))) <= {0, 1}
    assert len(os.listdir(tmp_path / "pred" / "overlay")) == len(names)
    assert len(os.listdir(tmp_path / "pred" / "pseudo_color")) == len(names)


def test_paddleseg_portrait_config_runs_unchanged(tmp_path, synthetic_root):
    """PaddleSeg's portrait_pp_humansegv1_lite.yml with only its dataset paths overridden."""
    config = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data",
                          "paddleseg_configs", "portrait_pp_humansegv1_lite.yml")
    r = run_tool("train.py", "--config", config, "--save_dir", str(tmp_path / "ps"),
                 "--iters", "2", "--batch_size", "2", "--save_interval", "2", "--opts",
                 f"train_dataset.dataset_root={synthetic_root}",
                 f"train_dataset.train_path={synthetic_root}/train.txt",
                 f"val_dataset.dataset_root={synthetic_root}",
                 f"val_dataset.val_path={synthetic_root}/val.txt", cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (tmp_path / "ps" / "iter_2" / "model.pdparams").is_file()
