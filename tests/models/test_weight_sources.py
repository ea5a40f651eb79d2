"""pretrained: archives, file:// URLs, the download cache (reuse, resume, checks), partial
backbone loads and the model-level allow_partial_pretrained key."""
from __future__ import annotations

import hashlib
import io
import logging
import os
import tarfile
import zipfile

import numpy as np
import paddle
import pytest

from humanseg.cvlibs.builder import build_model
from humanseg.errors import ConfigError
from humanseg.models import FastSCNN
from humanseg.models.backbones import HRNet_W18_Small_V1
from humanseg.utils import download
from humanseg.utils.download import resolve_weights_path
from humanseg.utils.weights import load_pretrained
from model_specs import randomize
from support import FileServer


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """A fresh download cache per test (never ~/.cache)."""
    path = tmp_path / "cache"
    monkeypatch.setenv("HUMANSEG_CACHE", str(path))
    return path


@pytest.fixture(scope="module")
def source():
    paddle.seed(3)
    model = FastSCNN(num_classes=2, enable_auxiliary_loss=False)
    randomize(model, seed=3)
    return model


@pytest.fixture(scope="module")
def weights_bytes(source, tmp_path_factory):
    path = tmp_path_factory.mktemp("w") / "model.pdparams"
    paddle.save(source.state_dict(), str(path))
    return path.read_bytes()


def _same(a: paddle.nn.Layer, b: paddle.nn.Layer) -> bool:
    sb = b.state_dict()
    return all(np.array_equal(v.numpy(), sb[k].numpy()) for k, v in a.state_dict().items())


def _archive(kind: str, folder, data: bytes, inner: str = "fastscnn_portrait/model.pdparams"):
    path = folder / f"weights.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(inner, data)
    else:
        with tarfile.open(path, "w:gz" if kind == "tar.gz" else "w") as t:
            info = tarfile.TarInfo(inner)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return path


def _fresh() -> FastSCNN:
    return FastSCNN(num_classes=2, enable_auxiliary_loss=False)


@pytest.mark.parametrize("kind", ["zip", "tar.gz", "tar"])
def test_local_archive(kind, tmp_path, cache, source, weights_bytes):
    archive = _archive(kind, tmp_path, weights_bytes)
    model = _fresh()
    assert load_pretrained(model, str(archive)).ok and _same(source, model)
    assert len(os.listdir(cache / "extracted")) == 1
    load_pretrained(_fresh(), str(archive))  # extracted once, reused
    assert len(os.listdir(cache / "extracted")) == 1


@pytest.mark.parametrize("kind", ["pdparams", "zip", "tar.gz"])
def test_file_url_downloads_once_into_cache(kind, tmp_path, cache, source, weights_bytes,
                                            monkeypatch):
    if kind == "pdparams":
        path = tmp_path / "model.pdparams"
        path.write_bytes(weights_bytes)
    else:
        path = _archive(kind, tmp_path, weights_bytes)
    url = path.as_uri()
    model = build_model({"model": {"type": "FastSCNN", "num_classes": 2,
                                   "enable_auxiliary_loss": False, "pretrained": url}})
    assert _same(source, model)
    downloads = list((cache / "downloads").rglob("*"))
    assert any(p.name == path.name for p in downloads)
    assert not any(p.name.endswith(".part") for p in downloads)

    def no_network(*args, **kwargs):
        raise AssertionError("cache not reused")
    monkeypatch.setattr(download, "_open_url", no_network)
    assert load_pretrained(_fresh(), url).ok


def test_interrupted_download_resumes_from_part(tmp_path, cache, source, weights_bytes,
                                                monkeypatch):
    path = tmp_path / "model.pdparams"
    path.write_bytes(weights_bytes)
    url = path.as_uri()
    target = resolve_weights_path(url)  # learn where it goes, then simulate an interruption
    os.remove(target)
    half = len(weights_bytes) // 2
    with open(target + ".part", "wb") as f:
        f.write(weights_bytes[:half])
    opened = []
    real = download._open_url

    def spy(address, offset):
        opened.append(offset)
        return real(address, offset)
    monkeypatch.setattr(download, "_open_url", spy)
    model = _fresh()
    load_pretrained(model, url)
    assert opened == [half]
    assert _same(source, model)
    assert open(target, "rb").read() == weights_bytes


def test_checksum_fragment_checked(tmp_path, weights_bytes):
    path = tmp_path / "model.pdparams"
    path.write_bytes(weights_bytes)
    good = hashlib.sha256(weights_bytes).hexdigest()
    assert load_pretrained(_fresh(), f"{path.as_uri()}#sha256={good}").ok
    bad = f"{(tmp_path / 'model.pdparams').as_uri()}?v=2#sha256={'0' * 64}"
    with pytest.raises(ConfigError, match="corrupt"):
        load_pretrained(_fresh(), bad)


def test_missing_url_file_and_corrupt_archive(tmp_path):
    with pytest.raises(ConfigError, match="cannot download"):
        load_pretrained(_fresh(), (tmp_path / "absent.pdparams").as_uri())
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ConfigError, match="broken.tar.gz"):
        load_pretrained(_fresh(), str(broken))


def test_archive_without_weights(tmp_path):
    path = tmp_path / "empty.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("readme.txt", "no weights")
    with pytest.raises(ConfigError, match="model.pdparams"):
        load_pretrained(_fresh(), str(path))


def test_unsafe_zip_member_refused(tmp_path, weights_bytes):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("../outside/model.pdparams", weights_bytes)
    with pytest.raises(ConfigError, match="outside"):
        load_pretrained(_fresh(), str(path))
    assert not (tmp_path / "cache" / "outside").exists()


def test_backbone_pretrained_is_partial_and_reported(tmp_path, caplog):
    paddle.seed(5)
    imagenet = HRNet_W18_Small_V1()
    randomize(imagenet, seed=5)
    state = dict(imagenet.state_dict())
    state["fc.weight"] = paddle.zeros([2048, 1000])  # an ImageNet classifier the backbone lacks
    del state["conv_layer1_1._conv.weight"]
    path = tmp_path / "hrnet_w18_small_v1_imagenet.pdparams"
    paddle.save(state, str(path))
    with caplog.at_level(logging.WARNING, logger="humanseg"):
        model = build_model({"model": {
            "type": "FCN", "num_classes": 2,
            "backbone": {"type": "HRNet_W18_Small_V1", "pretrained": str(path)}}})
    assert "fc.weight" in caplog.text and "conv_layer1_1._conv.weight" in caplog.text
    np.testing.assert_array_equal(model.backbone.conv_layer1_2._conv.weight.numpy(),
                                  imagenet.conv_layer1_2._conv.weight.numpy())


def test_model_pretrained_strict_unless_allowed(tmp_path, source):
    path = tmp_path / "two_classes.pdparams"
    paddle.save(source.state_dict(), str(path))
    cfg = {"type": "FastSCNN", "num_classes": 5, "enable_auxiliary_loss": False,
           "pretrained": str(path)}
    with pytest.raises(ConfigError, match="allow_partial_pretrained: true"):
        build_model({"model": dict(cfg)})
    model = build_model({"model": dict(cfg, allow_partial_pretrained=True)})
    np.testing.assert_array_equal(
        model.learning_to_downsample.conv_bn_relu._conv.weight.numpy(),
        source.learning_to_downsample.conv_bn_relu._conv.weight.numpy())


@pytest.mark.parametrize("ranges", [True, False], ids=["range", "no_range"])
def test_http_download_resumes_with_range(ranges, cache, source, weights_bytes):
    server = FileServer(weights_bytes, ranges=ranges)
    try:
        folder = cache / "downloads" / download._key(server.url)
        folder.mkdir(parents=True)
        half = len(weights_bytes) // 3
        (folder / "model.pdparams.part").write_bytes(weights_bytes[:half])
        model = _fresh()
        assert load_pretrained(model, server.url).ok and _same(source, model)
        assert server.requests == [("/weights/model.pdparams", f"bytes={half}-")]
        assert (folder / "model.pdparams").read_bytes() == weights_bytes
        assert load_pretrained(_fresh(), server.url).ok
        assert len(server.requests) == 1  # cached
    finally:
        server.close()
