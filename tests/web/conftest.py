"""Fixtures of the browser tests: the tiny ONNX export of tests/deploy (same helpers), a short
synthetic call video as PNG frames and as a fake-camera .y4m, the page's server and Chromium."""
import os
import sys

import pytest

from support import ROOT, require_browser

sys.path.insert(0, os.path.join(ROOT, "tests", "deploy"))
sys.path.insert(0, os.path.join(ROOT, "deploy", "web"))
sys.path.insert(0, os.path.join(ROOT, "bench"))

from deploy_helpers import export, make_weights  # noqa: E402  (also puts deploy/python on the path)

CLIP_SIZE = (480, 270)   # wider than the 320 px motion map: exercises the INTER_AREA downscale
CLIP_FRAMES = 10


@pytest.fixture(scope="session")
def chromium_binary():
    return require_browser()


@pytest.fixture(scope="session")
def web_model(tmp_path_factory):
    """Seeded random PP-HumanSeg-Lite exported with tools/export.py: softmax, 96x64, ONNX."""
    tmp = tmp_path_factory.mktemp("web_export")
    return export(tmp, "softmax", make_weights(str(tmp / "model.pdparams")), "softmax", "onnx")


@pytest.fixture(scope="session")
def call_frames(tmp_path_factory):
    """(folder of 0000.png ..., BGR frames, labels) of a synthetic call clip."""
    from bench_web import prepare_frames
    from humanseg.datasets.synthetic.video import make_video_clip
    tmp = tmp_path_factory.mktemp("web_clip")
    clip = make_video_clip(str(tmp / "clip"), 1, CLIP_FRAMES, CLIP_SIZE, seed=5)
    folder = str(tmp / "frames")
    return folder, prepare_frames(clip, folder), clip.labels


@pytest.fixture(scope="session")
def fake_camera(call_frames, tmp_path_factory):
    from humanseg.utils.chromium import write_y4m
    return write_y4m(str(tmp_path_factory.mktemp("web_cam") / "call.y4m"), call_frames[1])


@pytest.fixture(scope="session")
def server(web_model, call_frames):
    from server import BackgroundServer
    with BackgroundServer(web_model, mounts={"/frames/": call_frames[0]}) as srv:
        yield srv


@pytest.fixture(scope="session")
def browser(chromium_binary, fake_camera):
    """One headless Chromium for the session, the call clip as its camera."""
    from humanseg.utils.chromium import Chromium
    with Chromium(chromium_binary, fake_video=fake_camera) as b:
        yield b
