"""tools/experiments/plot_scl_teleconf.py on a tiny real experiment: 2 arms x 1 seed x 3 iterations."""
import json
import os

import numpy as np
import paddle
import pytest
import yaml

from support import run_tool, tiny_config

pytest.importorskip("matplotlib")

ARMS = {"ce": {"types": [{"type": "CrossEntropyLoss"}], "coef": [1]},
        "ce_scl": {"types": [{"type": "MixedLoss", "losses": [
            {"type": "CrossEntropyLoss"}, {"type": "SemanticConnectivityLoss"}],
            "coef": [1, 0.5]}], "coef": [1]}}
ITERS, LR = 3, {"ce": 0.5, "ce_scl": 0.2}
TOOL = "experiments/plot_scl_teleconf.py"


def train_run(cfg: dict, save_dir: str) -> None:
    """What tools/train.py --do_eval --save_interval 1 does, in this process."""
    from humanseg.cli import load_checked_config, set_seed
    from humanseg.cvlibs.config import dump_config
    from humanseg.engine.runner import TrainOptions, build_trainer, record_run
    from humanseg.utils.dist import DistEnv
    os.makedirs(save_dir)
    path = os.path.join(save_dir, "source.yml")
    with open(path, "w") as f:
        yaml.safe_dump(cfg, f)
    cfg = load_checked_config(path)
    text = dump_config(cfg)
    record_run(save_dir, path, text, DistEnv())
    set_seed(0)
    trainer = build_trainer(cfg, text, TrainOptions(save_dir=save_dir, save_interval=1,
                                                    do_eval=True), DistEnv())
    trainer.train()


@pytest.fixture(scope="module")
def experiment(tmp_path_factory, synthetic_root):
    exp = tmp_path_factory.mktemp("exp") / "scl_teleconf"
    for arm, loss in ARMS.items():
        cfg = tiny_config(synthetic_root, loss=loss, iters=ITERS)
        cfg["lr_scheduler"]["learning_rate"] = LR[arm]
        train_run(cfg, str(exp / arm / "seed0"))
    return exp


def predictions(run_dir, dataset):
    """Each val frame's connectivity under the run's final weights, computed here directly."""
    from humanseg.cvlibs.registry import MODELS, build
    from humanseg.engine.infer import inference
    from humanseg.metrics import ConnectivityMetric
    cfg = yaml.safe_load(open(os.path.join(run_dir, "config.yml")))
    model = build(cfg["model"], MODELS)
    model.set_state_dict(paddle.load(os.path.join(run_dir, f"iter_{ITERS}", "model.pdparams")))
    model.eval()
    out = []
    with paddle.no_grad():
        for i in range(len(dataset)):
            data = dataset[i]
            pred = inference(model, paddle.to_tensor(data["img"][None]), data["trans_info"])
            metric = ConnectivityMetric(2)
            metric.update(pred.argmax(axis=1).numpy(), data["label"][None])
            out.append(metric.compute()["connectivity"])
    return np.array(out)


def test_figures_and_the_panel_shows_the_frames_that_differ_most(experiment, tmp_path):
    from PIL import Image

    from humanseg.cvlibs.builder import SegBuilder
    out = tmp_path / "figures"
    r = run_tool(TOOL, "--exp_dir", str(experiment), "--out_dir", str(out), "--baseline", "ce",
                 "--compare", "ce_scl", "--num_frames", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    assert Image.open(out / "scl_teleconf_curves.png").size == (1000, 400)
    # 4 columns of 240 px; frames of 160x96 -> rows of 144 px under a 30 px header
    assert Image.open(out / "scl_teleconf_panel.png").size == (960, 30 + 2 * 144)
    record = json.loads((out / "scl_teleconf_panel.json").read_text())
    cfg = yaml.safe_load(open(experiment / "ce" / "seed0" / "config.yml"))
    dataset = SegBuilder(cfg).val_dataset
    conn = np.stack([predictions(str(experiment / arm / "seed0"), dataset) for arm in ARMS], 1)
    np.testing.assert_allclose([f["connectivity"] for f in record["frames"]], conn, atol=1e-9)
    diff = np.abs(conn[:, 1] - conn[:, 0])
    assert diff.max() > 0  # the arms' models differ somewhere, so the choice means something
    expected = sorted(range(len(diff)), key=lambda i: (-diff[i], i))[:2]
    assert record["chosen"] == expected
    assert record["seed"] == 0 and record["arms"] == ["ce", "ce_scl"]
    for i in expected:
        assert os.path.basename(dataset.file_list[i][0]) in r.stdout


def test_best_weights_and_one_frame(experiment, tmp_path):
    r = run_tool(TOOL, "--exp_dir", str(experiment), "--out_dir", str(tmp_path), "--baseline",
                 "ce_scl", "--compare", "ce", "--num_frames", "1", "--weights", "best")
    assert r.returncode == 0, r.stderr[-3000:]
    record = json.loads((tmp_path / "scl_teleconf_panel.json").read_text())
    assert record["weights"] == "best" and record["arms"] == ["ce_scl", "ce"]
    assert len(record["chosen"]) == 1
    from PIL import Image
    assert Image.open(tmp_path / "scl_teleconf_panel.png").size == (960, 30 + 144)


def test_curves_are_mean_and_band_over_seeds():
    from humanseg.utils.plots import curve_band
    runs = [[{"iter": 1, "miou": 0.2}, {"iter": 2, "miou": 0.4}],
            [{"iter": 2, "miou": 0.6}, {"iter": 1, "miou": 0.4}, {"iter": 3, "miou": 0.9}]]
    iters, mean, lo, hi = curve_band(runs, "miou")
    assert iters.tolist() == [1, 2]  # iteration 3 was not evaluated by every seed
    np.testing.assert_allclose(mean, [0.3, 0.5])
    np.testing.assert_allclose(lo, [0.2, 0.4])
    np.testing.assert_allclose(hi, [0.4, 0.6])


def test_count_components_uses_8_connectivity_and_skips_ignore():
    from humanseg.utils.plots import count_components
    mask = np.zeros((6, 6), np.int64)
    mask[0, 0] = mask[1, 1] = 1      # diagonal neighbours: one component
    mask[4:, 4:] = 1
    mask[0, 5] = 255
    assert count_components(mask) == 2


def test_bad_inputs_give_one_clear_error(experiment, tmp_path):
    r = run_tool(TOOL, "--exp_dir", str(experiment), "--out_dir", str(tmp_path), "--baseline",
                 "ce", "--compare", "lovasz")
    assert r.returncode == 2 and "arm 'lovasz' has no seed<k>/ runs" in r.stderr
    assert "arms found: ce, ce_scl" in r.stderr
    r = run_tool(TOOL, "--exp_dir", str(tmp_path / "none"), "--baseline", "a", "--compare", "b")
    assert r.returncode == 2 and "--exp_dir not found" in r.stderr
    empty = tmp_path / "exp" / "ce" / "seed1"
    empty.mkdir(parents=True)
    (tmp_path / "exp" / "scl" / "seed1").mkdir(parents=True)
    r = run_tool(TOOL, "--exp_dir", str(tmp_path / "exp"), "--out_dir", str(tmp_path / "f"),
                 "--baseline", "ce", "--compare", "scl")
    assert r.returncode == 2 and "no eval_history.json (nor train.log) in" in r.stderr
    assert "--do_eval" in r.stderr


def test_history_from_the_training_log_of_older_runs(experiment, tmp_path):
    """Runs trained before eval_history.json existed: the [EVAL] lines EvalHook logs."""
    from humanseg.engine.evaluate import summary_line
    from humanseg.utils.plots import load_history
    written = load_history(str(experiment / "ce" / "seed0"))
    lines = [f"2026-01-01 00:00:00 INFO [EVAL] iter={h['iter']} {summary_line(h)} "
             f"class_IoU={[round(v, 4) for v in h['class_iou']]}" for h in written]
    no_bf = summary_line({**written[0], "boundary_f": None})
    (tmp_path / "train.log").write_text("\n".join(
        ["noise", f"x [EVAL] iter=1 {no_bf}", *lines, "[EVAL] best mIoU=0.3 at iter 2"]) + "\n")
    parsed = load_history(str(tmp_path))
    assert [h["iter"] for h in parsed] == [h["iter"] for h in written] == [1, 2, 3]
    for key in ("miou", "acc", "kappa", "mdice", "boundary_f", "connectivity", "flicker"):
        np.testing.assert_allclose([h[key] for h in parsed], [h[key] for h in written],
                                   atol=5e-5, err_msg=key)
