"""Evaluate one run's weights frame by frame: ``FrameStats`` rows plus each frame's unit (its clip
for video sets, the image for others), written atomically as JSON.

    python -m humanseg.experiments.scl_study.frames CONFIG WEIGHTS MODE OUT_JSON
"""
from __future__ import annotations

import os
import sys
import time

import paddle

from humanseg.cvlibs.builder import SegBuilder
from humanseg.cvlibs.checks import EVAL_KEYS, check_config
from humanseg.cvlibs.config import load_config
from humanseg.datasets.loader import build_eval_loader, raise_if_error
from humanseg.engine.evaluate import clip_order, frame_index_of
from humanseg.engine.infer import eval_logits
from humanseg.metrics.paired import FrameStats
from humanseg.utils.atomic import write_json_atomically


def build_for_eval(config: str, weights: str, mode: str) -> tuple[dict, SegBuilder]:
    """The run's checked config with its evaluation dataset set to split ``mode`` (a
    PP-HumanSeg14K set read as video, so frames pair into clips), and its builder."""
    cfg = check_config(load_config(config), required=EVAL_KEYS)
    cfg["val_dataset"]["mode"] = mode
    if cfg["val_dataset"].get("type") == "PPHumanSeg14K":
        cfg["val_dataset"]["video"] = True
    return cfg, SegBuilder(cfg, weights=weights)


def frame_order(dataset) -> list[int]:
    """The order frames.json rows follow: clip by clip for a video dataset, else by index."""
    frames = frame_index_of(dataset)
    return clip_order(frames) if frames is not None else list(range(len(dataset)))


def evaluate_frames(model: paddle.nn.Layer, dataset) -> dict:
    """``{"units": [...], "rows": [[...]], "num_classes": C}``: one FrameStats row per frame, in
    clip and frame order for a video dataset (flicker pairs within a clip)."""
    layout = FrameStats(dataset.num_classes, dataset.ignore_index)
    frames = frame_index_of(dataset)
    order = frame_order(dataset)
    model.eval()
    units, rows, prev, prev_clip = [], [], None, None
    loader = build_eval_loader(paddle.io.Subset(dataset, order), num_workers=0)
    with paddle.no_grad():
        for i, batch in zip(order, loader):
            raise_if_error(batch)
            logits = eval_logits(model, batch["img"], batch["trans_info"][0])
            pred = paddle.argmax(logits, axis=1).numpy()[0]
            label = batch["label"].numpy().reshape(pred.shape)
            clip = frames[i][0] if frames is not None else f"image{i:05d}"
            rows.append(layout.frame(pred, label, prev if clip == prev_clip else None).tolist())
            units.append(clip)
            prev, prev_clip = (pred, label), clip
    return {"num_classes": layout.num_classes, "units": units, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    config, weights, mode, out = argv if argv is not None else sys.argv[1:]
    _, builder = build_for_eval(config, weights, mode)
    model = builder.model
    start = time.time()
    result = evaluate_frames(model, builder.val_dataset)
    result.update(weights=os.path.abspath(weights), split=mode, seconds=round(time.time() - start, 2))
    write_json_atomically(out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
