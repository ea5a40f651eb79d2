"""Temporal flicker in evaluate() for video datasets (frame index from <clip>_<frame> names),
whole clips per rank in distributed evaluation, and EvalHook's eval_history.json."""
import json
import os
import random
import re
import shutil
import subprocess
import sys

import numpy as np
import paddle
import pytest
import yaml

from humanseg.cvlibs.registry import MODELS, build
from humanseg.datasets.dataset import Dataset, parse_frame
from humanseg.datasets.pp_humanseg14k import PPHumanSeg14K
from humanseg.engine.evaluate import clip_order, evaluate, format_metrics, summary_line
from humanseg.engine.infer import inference
from humanseg.errors import ConfigError, DataError
from humanseg.metrics import flicker_pair
from humanseg.transforms import Normalize, Resize
from support import ROOT, tiny_config

SIZE = [96, 64]


def transforms():
    return [Resize(target_size=SIZE), Normalize()]


@pytest.fixture(scope="module")
def shuffled_list(synthetic_root, tmp_path_factory):
    """Every frame of the synthetic set (8 clips x 3 frames) in a shuffled order."""
    lines = []
    for split in ("train", "val", "test"):
        lines += open(os.path.join(synthetic_root, f"{split}.txt")).read().split("\n")
    lines = [line for line in lines if line.strip()]
    random.Random(5).shuffle(lines)
    path = tmp_path_factory.mktemp("flicker") / "all_shuffled.txt"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def model(synthetic_root):
    """A 2-class PP-HumanSeg-Lite with random weights whose foreground is where its last layer's
    channel 1 exceeds its median on a frame: masks that follow the image and change between
    frames (random weights alone give one class everywhere, which never flickers)."""
    paddle.seed(11)
    net = build({"type": "PPHumanSegLite", "num_classes": 2, "align_corners": False}, MODELS)
    for name, p in net.state_dict().items():
        if name.endswith("_variance"):
            p.set_value(paddle.uniform(p.shape, min=0.5, max=1.5))
        else:
            p.set_value(paddle.randn(p.shape) * 0.3)
    last = net.depthwise_separable2.piontwise_conv._batch_norm
    for p, value in ((last.weight, [0, 1]), (last.bias, [0, 1e3]), (last._mean, [0, 0]),
                     (last._variance, [1, 1])):
        p.set_value(paddle.to_tensor(value, dtype=p.dtype))
    net.eval()
    sample = PPHumanSeg14K(transforms(), synthetic_root, mode="val")[0]
    with paddle.no_grad():
        channel = net(paddle.to_tensor(sample["img"][None]))[0][0, 1].numpy() - 1e3  # before ReLU
    scale = 2 / float(channel.std())  # logits of a few units: soft probabilities, not 0/1
    last.weight.set_value(paddle.to_tensor([0, scale], dtype="float32"))
    last.bias.set_value(paddle.to_tensor([0, 0], dtype="float32"))
    last._mean.set_value(paddle.to_tensor([0, float(np.median(channel))], dtype="float32"))
    return net


@pytest.fixture(scope="module")
def video_result(model, synthetic_root, shuffled_list):
    dataset = PPHumanSeg14K(transforms(), synthetic_root, mode="val", val_path=shuffled_list)
    return dataset, evaluate(model, dataset, progress=False)


def reference_flicker(model, dataset):
    """Per-pair scores computed directly: clips and frames from the file names, frames in order."""
    clips = {}
    for i, (image, _) in enumerate(dataset.file_list):
        clip, frame = re.match(r"(clip\d+)_(\d+)\.jpg$", os.path.basename(image)).groups()
        clips.setdefault(clip, []).append((int(frame), i))
    hard, soft = [], []
    with paddle.no_grad():
        for frames in clips.values():
            prev = None
            for _, i in sorted(frames):
                data = dataset[i]
                logits = inference(model, paddle.to_tensor(data["img"][None]), data["trans_info"])
                pred = logits.argmax(axis=1)[0].numpy()
                alpha = paddle.nn.functional.softmax(logits, axis=1)[0, 1].numpy()
                cur = (pred, data["label"], alpha)
                if prev is not None:
                    changed, stable, alpha_sum = flicker_pair(prev[0], cur[0], prev[1], cur[1],
                                                              prev[2], cur[2])
                    hard.append(changed / stable)
                    soft.append(alpha_sum / stable)
                prev = cur
    return np.mean(hard), np.mean(soft), len(hard)


def test_flicker_is_the_mean_over_consecutive_frames_of_each_clip(model, video_result):
    dataset, result = video_result
    assert dataset.video  # automatic for the synthetic clips (meta.json)
    hard, soft, pairs = reference_flicker(model, dataset)
    assert result["flicker_pairs"] == pairs == 16  # 8 clips x 2 pairs, in a shuffled list
    assert result["flicker"] == pytest.approx(hard, rel=1e-9)
    assert result["soft_flicker"] == pytest.approx(soft, rel=1e-5)
    assert 0.005 < result["flicker"] < 0.9  # the random model's masks do change between frames
    assert 1e-5 < result["soft_flicker"] and abs(result["soft_flicker"] - hard) > 1e-3
    assert f"Flicker={result['flicker']:.4f}" in summary_line(result)
    assert "temporal flicker over 16 consecutive frame pairs" in format_metrics(result)


def test_order_of_the_list_does_not_change_any_metric(model, synthetic_root, shuffled_list,
                                                      tmp_path, video_result):
    _, shuffled = video_result
    ordered = tmp_path / "ordered.txt"
    lines = open(shuffled_list).read().strip().split("\n")
    ordered.write_text("\n".join(sorted(lines)) + "\n")
    dataset = PPHumanSeg14K(transforms(), synthetic_root, mode="val", val_path=str(ordered))
    result = evaluate(model, dataset, progress=False)
    for key in ("flicker", "soft_flicker", "miou", "connectivity"):
        assert result[key] == pytest.approx(shuffled[key], rel=1e-9), key


def test_non_video_datasets_report_no_flicker(model, synthetic_root, shuffled_list):
    dataset = PPHumanSeg14K(transforms(), synthetic_root, mode="val", val_path=shuffled_list,
                            video=False)
    assert dataset.frame_index() is None
    result = evaluate(model, dataset, progress=False)
    assert not {"flicker", "soft_flicker", "flicker_pairs"} & set(result)
    assert "Flicker" not in summary_line(result) and "flicker" not in format_metrics(result)


def test_frame_names_are_checked_up_front(synthetic_root, tmp_path):
    root = tmp_path / "set"
    shutil.copytree(synthetic_root, root)
    os.rename(root / "images" / "clip0001_0002.jpg", root / "images" / "frame.jpg")
    lines = open(root / "train.txt").read().replace("images/clip0001_0002.jpg", "images/frame.jpg")
    (root / "train.txt").write_text(lines + open(root / "val.txt").read())
    with pytest.raises(DataError, match=r"not named <clip>_<frame number>(.|\n)*frame\.jpg"
                                        r"(.|\n)*video: false"):
        Dataset("train", str(root), transforms(), num_classes=2, train_path="train.txt",
                video=True)
    with pytest.raises(ConfigError, match="video must be true or false"):
        Dataset("train", str(root), transforms(), num_classes=2, train_path="train.txt",
                video="yes")
    assert Dataset("train", str(root), transforms(), num_classes=2,
                   train_path="train.txt").frame_index() is None  # opt-in for the generic one
    (root / "meta.json").unlink()  # not the synthetic set any more: no automatic video
    assert PPHumanSeg14K(transforms(), str(root), mode="train").frame_index() is None


def test_parse_frame():
    assert parse_frame("/d/images/clip0001_0012.jpg", "/d") == ("images/clip0001", 12)
    assert parse_frame("/d/a/my_video_7.png", "/d") == ("a/my_video", 7)
    assert parse_frame("/d/images/clip0001_0012.jpg") == ("/d/images/clip0001", 12)
    assert parse_frame("/d/frame.jpg") is None and parse_frame("/d/clip_x.jpg") is None


def test_clip_order_gives_each_clip_whole_to_one_rank_in_frame_order():
    rng = random.Random(2)
    frames = [(f"c{c}", f) for c, n in enumerate([5, 1, 3, 3, 2, 7, 1]) for f in range(n)]
    rng.shuffle(frames)
    assert [frames[i] for i in clip_order(frames)] == sorted(frames)
    shares = [clip_order(frames, rank, 3) for rank in range(3)]
    assert sorted(sum(shares, [])) == list(range(len(frames)))
    clip_rank = {}
    for rank, share in enumerate(shares):
        assert [frames[i] for i in share] == sorted(frames[i] for i in share)
        for i in share:
            assert clip_rank.setdefault(frames[i][0], rank) == rank
    assert sorted(len(s) for s in shares) == [7, 7, 8]  # 7+1 | 5+2 | 3+3+1


EVAL_SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
import paddle
from humanseg.cvlibs.registry import MODELS, build
from humanseg.datasets.pp_humanseg14k import PPHumanSeg14K
from humanseg.engine.evaluate import evaluate
from humanseg.transforms import Normalize, Resize
from humanseg.utils.dist import init_distributed
dist = init_distributed()
net = build({{"type": "PPHumanSegLite", "num_classes": 2, "align_corners": False}}, MODELS)
net.set_state_dict(paddle.load({weights!r}))
dataset = PPHumanSeg14K([Resize(target_size={size!r}), Normalize()], {data!r}, mode="val",
                        val_path={val!r})
result = evaluate(net, dataset, progress=False, dist=dist)
with open({out!r} + str(dist.rank), "w") as f:
    json.dump({{k: result[k] for k in ("flicker", "soft_flicker", "flicker_pairs", "miou",
                                      "connectivity", "num_images")}}, f)
"""


def test_two_ranks_give_the_flicker_of_the_whole_dataset(model, synthetic_root, shuffled_list,
                                                         video_result, tmp_path):
    _, single = video_result
    weights = str(tmp_path / "model.pdparams")
    paddle.save(model.state_dict(), weights)
    script = tmp_path / "dist_eval.py"
    out = str(tmp_path / "result.rank")
    script.write_text(EVAL_SCRIPT.format(root=ROOT, weights=weights, size=SIZE,
                                         data=synthetic_root, val=shuffled_list, out=out))
    r = subprocess.run([sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node",
                        "2", "--host", "127.0.0.1", "--log_dir", str(tmp_path / "log"),
                        str(script)], cwd=str(tmp_path), capture_output=True, text=True,
                       timeout=300)
    logs = "".join(p.read_text()[-2000:] for p in sorted((tmp_path / "log").glob("*")))
    assert r.returncode == 0, r.stderr[-2000:] + logs
    for rank in (0, 1):
        two = json.loads(open(out + str(rank)).read())
        assert two["flicker_pairs"] == single["flicker_pairs"] == 16
        assert two["num_images"] == 24
        for key in ("flicker", "soft_flicker", "miou", "connectivity"):
            assert two[key] == pytest.approx(single[key], rel=1e-6), (rank, key)


def test_eval_hook_writes_the_history_after_each_evaluation(synthetic_root, tmp_path):
    from humanseg.cli import load_checked_config, set_seed
    from humanseg.cvlibs.config import dump_config
    from humanseg.engine.hooks import EvalHook
    from humanseg.engine.runner import TrainOptions, build_trainer
    from humanseg.utils.dist import DistEnv
    config = tmp_path / "tiny.yml"
    config.write_text(yaml.safe_dump(tiny_config(synthetic_root)))
    save_dir = str(tmp_path / "run")
    history = os.path.join(save_dir, "eval_history.json")

    def train(iters, resume=None):
        cfg = load_checked_config(str(config), iters=iters)
        set_seed(0)
        trainer = build_trainer(cfg, dump_config(cfg), TrainOptions(
            save_dir=save_dir, save_interval=2, do_eval=True, resume_model=resume), DistEnv())
        hook = next(h for h in trainer.hooks if isinstance(h, EvalHook))
        assert hook.history_path == history  # build_trainer sets it on rank 0
        trainer.train()
        return hook

    hook = train(4)
    written = json.loads(open(history).read())
    assert [h["iter"] for h in written] == [2, 4]
    assert written == json.loads(json.dumps(hook.history))
    assert {"miou", "connectivity", "flicker", "soft_flicker"} <= set(written[-1])
    assert not [f for f in os.listdir(save_dir) if ".tmp" in f]
    # resumed from iter_2 to iter 6: the earlier iter-4 entry is dropped, not duplicated
    train(6, resume=os.path.join(save_dir, "iter_2"))
    resumed = json.loads(open(history).read())
    assert [h["iter"] for h in resumed] == [2, 4, 6]
    assert resumed[0] == written[0]
