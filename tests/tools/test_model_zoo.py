"""The model zoo (zoo:NAME, humanseg/utils/zoo.py, tools/model_zoo.py): PaddleSeg's URLs, a
mirror on localhost serving archives laid out as PaddleSeg's, zoo: in a config through
build_model, --model_path zoo: with tools/export.py, the cache (a second resolve makes no
request), unknown names (close match, exit 2) and the listing with its cached column."""
import io
import subprocess
import os
import sys
import urllib.parse
import zipfile

import numpy as np
import paddle
import pytest

from humanseg.cvlibs.builder import build_model
from humanseg.errors import ConfigError
from humanseg.utils import zoo
from humanseg.utils.download import cache_dir, resolve_weights_path
from support import ROOT, TOOLS, FileServer, run_tool

sys.path.insert(0, TOOLS)

TRAIN = "portrait_pp_humansegv1_lite"
INFERENCE = "portrait_pp_humansegv1_lite_inference_softmax"
LITE = {"type": "PPHumanSegLite", "num_classes": 2, "align_corners": False}
PREFIX = "/dygraph/pp_humanseg_v2/"


def _zip(folder: str, files: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in files.items():
            z.writestr(f"{folder}/{name}", data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def source():
    paddle.seed(11)
    return build_model({"model": dict(LITE)}, pretrained=False)


@pytest.fixture(scope="module")
def server(source, tmp_path_factory):
    """PaddleSeg's two archives of PP-HumanSegV1-Lite (portrait) at PaddleSeg's paths."""
    path = tmp_path_factory.mktemp("w") / "model.pdparams"
    paddle.save(source.state_dict(), str(path))
    stem = "portrait_pp_humansegv1_lite_398x224"
    files = {
        f"{PREFIX}{stem}_pretrained.zip": _zip(f"{stem}_pretrained",
                                               {"model.pdparams": path.read_bytes()}),
        f"{PREFIX}{stem}_inference_model_with_softmax.zip": _zip(
            f"{stem}_inference_model_with_softmax",
            {"model.pdmodel": b"graph", "model.pdiparams": b"params",
             "deploy.yaml": "Deploy:\n  model: model.pdmodel\n  params: model.pdiparams\n"}),
    }
    with FileServer(files) as s:
        yield s


@pytest.fixture(autouse=True)
def mirror(tmp_path, monkeypatch, server):
    monkeypatch.setenv("HUMANSEG_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(zoo.MIRROR_ENV, server.base)
    server.requests.clear()
    return server


def _same(a, b) -> bool:
    sb = b.state_dict()
    return all(np.array_equal(v.numpy(), sb[k].numpy()) for k, v in a.state_dict().items())


def test_table_is_paddlesegs(monkeypatch):
    monkeypatch.delenv(zoo.MIRROR_ENV)
    # copied from contrib/PP-HumanSeg/README.md at zoo.SOURCE_COMMIT
    assert zoo.resolve_zoo("zoo:portrait_pp_humansegv2_lite") == (
        "https://paddleseg.bj.bcebos.com/dygraph/pp_humanseg_v2/portrait_pp_humansegv2_lite_"
        "256x144_smaller/portrait_pp_humansegv2_lite_256x144_pretrained.zip")
    assert zoo.resolve_zoo("human_pp_humansegv1_server_inference") == (
        "https://paddleseg.bj.bcebos.com/dygraph/pp_humanseg_v2/human_pp_humansegv1_server_"
        "512x512_inference_model.zip")
    v2 = zoo.get_entry("portrait_pp_humansegv2_lite")
    assert (v2.input_size, v2.miou, v2.latency_ms, v2.config) == (
        (256, 144), 96.63, 15.86, "portrait_pp_humansegv2_lite.yml")
    releases = {e.config for e in zoo.ZOO.values()}
    assert len(releases) == 7 and len(zoo.ZOO) == 21
    assert all(e.url.startswith(zoo.HOST) and e.url.endswith(".zip") for e in zoo.ZOO.values())
    assert {e.kind for e in zoo.ZOO.values()} == {"train", "inference"}


def test_mirror_replaces_the_host_only(mirror):
    assert zoo.resolve_zoo(TRAIN) == (f"{mirror.base}dygraph/pp_humanseg_v2/"
                                      f"portrait_pp_humansegv1_lite_398x224_pretrained.zip")


def test_unknown_name_suggests_the_close_one():
    with pytest.raises(ConfigError, match="did you mean zoo:portrait_pp_humansegv2_lite") as e:
        resolve_weights_path("zoo:portrait_pp_humansegv2_lit")
    assert "human_pp_humansegv1_server" in str(e.value)  # the known names are listed


def test_zoo_pretrained_in_config_loads_once(source, mirror):
    cfg = {"model": dict(LITE, pretrained=f"zoo:{TRAIN}")}
    paddle.seed(99)
    assert not _same(source, build_model({"model": dict(LITE)}, pretrained=False))
    assert _same(source, build_model(cfg))
    assert len(mirror.requests) == 1
    assert _same(source, build_model(cfg))  # cached: no second request
    assert len(mirror.requests) == 1
    assert zoo.is_cached(TRAIN) and not zoo.is_cached(INFERENCE)


def test_bad_zoo_pretrained_names_the_key():
    with pytest.raises(ConfigError, match="model.pretrained: unknown model zoo name"):
        build_model({"model": dict(LITE, pretrained="zoo:portrait_lite")})
    with pytest.raises(ConfigError, match=f"is an inference model.*use 'zoo:{TRAIN}'"):
        build_model({"model": dict(LITE, pretrained=f"zoo:{INFERENCE}")})


def test_unreachable_mirror_hints_the_ways_out(monkeypatch):
    monkeypatch.setenv(zoo.MIRROR_ENV, "http://127.0.0.1:9/")  # discard port: refused
    with pytest.raises(ConfigError, match="(?s)cannot download.*--opts model.pretrained=null.*"
                                          "HUMANSEG_ZOO_MIRROR"):
        build_model({"model": dict(LITE, pretrained=f"zoo:{TRAIN}")})


def test_inference_entry_is_extracted_into_the_cache(mirror):
    folder = zoo.fetch(INFERENCE)
    assert sorted(os.listdir(folder)) == ["deploy.yaml", "model.pdiparams", "model.pdmodel"]
    assert os.path.realpath(folder).startswith(os.path.realpath(cache_dir()) + os.sep)
    assert zoo.fetch(INFERENCE) == folder and len(mirror.requests) == 1


def test_export_with_model_path_zoo(tmp_path, mirror):
    config = os.path.join(ROOT, "configs", "pp_humanseg_lite",
                          "pp_humanseg_lite_export_398x224.yml")
    out = tmp_path / "export"
    r = run_tool("export.py", "--config", config, "--model_path", f"zoo:{TRAIN}",
                 "--save_dir", str(out), "--format", "paddle")
    assert r.returncode == 0, r.stderr[-3000:]
    assert (out / "model.pdiparams").is_file() and (out / "deploy.yaml").is_file()
    assert [p for p, _ in mirror.requests] == [
        f"{PREFIX}portrait_pp_humansegv1_lite_398x224_pretrained.zip"]
    bad = run_tool("export.py", "--config", config, "--model_path", "zoo:portrait_humansegv1_lite",
                   "--save_dir", str(tmp_path / "bad"), "--format", "paddle")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr, bad.stderr[-3000:]
    assert "did you mean zoo:portrait_pp_humansegv1_lite" in bad.stderr


def _row(text: str, name: str) -> list[str]:
    return next(line.split() for line in text.splitlines() if line.startswith(name + " "))


def test_model_zoo_tool_lists_downloads_and_shows_cached(capsys, mirror):
    import model_zoo
    model_zoo.main([])
    listing = capsys.readouterr().out
    row = _row(listing, TRAIN)
    assert row[1:4] == ["train", "398x224", "93.60"] and "no" in row
    assert "README.md@066afb1" in listing and "Snapdragon 855" in listing
    assert _row(listing, "human_pp_humansegv1_server")[3] == "96.47"
    path = model_zoo.main(["--download", TRAIN])
    assert path.endswith("model.pdparams") and os.path.isfile(path)
    assert path in capsys.readouterr().out
    model_zoo.main(["--kind", "train"])
    listing = capsys.readouterr().out
    assert "yes" in _row(listing, TRAIN) and "no" in _row(listing, "human_pp_humansegv2_lite")
    assert INFERENCE not in listing
    with pytest.raises(SystemExit) as e:
        model_zoo.main(["--download", "portrait_pp_humansegv2_lit"])
    assert e.value.code == 2
    assert "did you mean zoo:portrait_pp_humansegv2_lite" in capsys.readouterr().err


def test_val_with_model_path_zoo_writes_next_to_the_cached_weights(tmp_path, tiny_config_file,
                                                                  mirror):
    work = tmp_path / "cwd"
    work.mkdir()
    r = run_tool("val.py", "--config", tiny_config_file(), "--model_path", f"zoo:{TRAIN}",
                 cwd=str(work))
    assert r.returncode == 0, r.stderr[-3000:]
    assert os.listdir(work) == []  # not in the working directory
    weights = resolve_weights_path(f"zoo:{TRAIN}")
    assert os.path.isfile(os.path.join(os.path.dirname(weights), "metrics.json"))
    assert len(mirror.requests) == 1


def test_backbone_pretrained_zoo_goes_the_same_way():
    with pytest.raises(ConfigError, match="model.backbone.pretrained: unknown model zoo name"):
        build_model({"model": {"type": "FCN", "num_classes": 2, "backbone": {
            "type": "HRNet_W18_Small_V1", "pretrained": "zoo:human_pp_humansegv1_mobil"}}})


def test_released_inference_folder_downloads_and_runs_in_deploy(tmp_path):
    """The user's path: a PaddleSeg 2.x inference zip (here the V2-Lite fixture of
    tests/data/legacy_inference, under the released name) fetched by tools/model_zoo.py from a
    mirror, then deploy/python/infer.py on it with onnxruntime, as downloaded."""
    legacy = os.path.join(ROOT, "tests", "data", "legacy_inference")
    stem = "portrait_pp_humansegv2_lite_256x144_inference_model_with_softmax"
    url_path = urllib.parse.urlsplit(
        zoo.resolve_zoo("portrait_pp_humansegv2_lite_inference_softmax")).path
    files = {n: open(os.path.join(legacy, "v2_lite_softmax", n), "rb").read()
             for n in ("model.pdmodel", "model.pdiparams", "deploy.yaml")}
    env = dict(os.environ, HUMANSEG_CACHE=str(tmp_path / "cache"))
    with FileServer({url_path: _zip(stem, files)}) as server:
        env[zoo.MIRROR_ENV] = server.base
        got = subprocess.run([sys.executable, os.path.join(TOOLS, "model_zoo.py"), "--download",
                              "portrait_pp_humansegv2_lite_inference_softmax"],
                             capture_output=True, text=True, env=env, timeout=120)
    assert got.returncode == 0, got.stderr[-2000:]
    folder = got.stdout.strip()  # the path alone: MODEL_DIR=$(... --download NAME)
    assert os.path.basename(folder) == stem and "deploy/python/video.py" in got.stderr
    out = tmp_path / "out"
    r = subprocess.run([sys.executable, os.path.join(ROOT, "deploy", "python", "infer.py"),
                        "--model_dir", folder, "--image_path", os.path.join(legacy, "image.png"),
                        "--save_dir", str(out), "--backend", "onnx", "--threads", "1"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "checked against Paddle Inference" in r.stderr
    label = np.load(os.path.join(legacy, "v2_lite_softmax_reference.npz"))["label"]
    from PIL import Image
    assert (np.asarray(Image.open(out / "mask" / "image.png")) == label).mean() >= 0.98
