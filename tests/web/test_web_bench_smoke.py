"""bench/bench_web.py's pieces against the real page, so the bench cannot rot: the quality pass
(processFrames in chunks, the smoothing carried across them) gives video.py's mIoU and flicker,
and the live pass reads the fake camera's statistics. No timing assertions, no MediaPipe."""
from types import SimpleNamespace

import bench_web
import numpy as np
from humanseg.metrics import FlickerMetric, IoUMetric
from web_helpers import python_alphas


def test_quality_pass_equals_python_metrics(browser, server, web_model, call_frames, monkeypatch):
    _, frames, labels = call_frames
    monkeypatch.setattr(bench_web, "CHUNK", 4)   # 10 frames: chunks of 4, 4, 2
    clip = SimpleNamespace(labels=labels, clip_starts=[0])
    page = browser.open(server.url + "?source=none&smooth=ema&weight=0.1")
    try:
        page.evaluate("humanseg.ready")
        got = bench_web.quality_pass(page, clip, len(frames))
    finally:
        page.close()
    iou, flicker = IoUMetric(2), FlickerMetric()
    for alpha, label in zip(python_alphas(web_model, frames, "ema", 0.1), labels):
        pred = (alpha > 0.5).astype(np.uint8)
        iou.update(pred, label)
        flicker.update(pred, label, alpha)
    assert abs(got["miou"] - iou.compute()["miou"]) < 0.005
    assert abs(got["flicker"] - flicker.compute()["flicker"]) < 0.005
    assert got["frames"] == len(frames) and got["stage_ms"]["infer"] > 0


def test_live_pass_and_table(browser, server):
    page = browser.open(server.url + "?source=camera")
    try:
        live = bench_web.live_pass(page, seconds=1.0, warmup=0.5)
    finally:
        page.close()
    assert live["frames"] >= 1 and live["source"] == "camera" and not live["errors"]
    row = {"name": "ours", "live": live,
           "quality": {"miou": 0.5, "flicker": 0.01, "soft_flicker": 0.002, "stage_ms": {"total": 9}}}
    table = bench_web.format_table([row], [])
    assert table.splitlines()[2].startswith("| ours | ") and "50.00" in table
