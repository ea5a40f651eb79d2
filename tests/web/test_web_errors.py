"""Bad input gets a clear message: tools/serve_web.py refuses a missing, malformed or non-ONNX
folder, or an ONNX model that is no segmentation network (exit 2, the file and the fix); the page
served such a folder anyway shows the error in a visible element and reports it to the server's
console; a denied or absent camera is explained in the page."""
import os
import shutil

import numpy as np
import pytest

from support import run_tool


def _copy(web_model, tmp_path, name="bad"):
    dst = tmp_path / name
    shutil.copytree(web_model, dst)
    return dst


def _classifier_onnx(path):
    """A valid ONNX model that is not a segmentation network: [1, 3, H, W] -> [1, 3]."""
    import onnx
    from onnx import TensorProto, helper
    graph = helper.make_graph(
        [helper.make_node("GlobalAveragePool", ["x"], ["p"]),
         helper.make_node("Flatten", ["p"], ["y"])], "classifier",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 64, 96])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def _serve(folder):
    return run_tool("serve_web.py", "--model_dir", str(folder), "--port", "0", timeout=60)


def _bad_folders(web_model, tmp_path):
    """name -> (folder, words the message must hold)."""
    out = {"missing": (tmp_path / "nope", ["nope", "no such folder", "tools/export.py"])}
    d = _copy(web_model, tmp_path, "yaml")
    (d / "deploy.yaml").write_text("Deploy: [unclosed\n")
    out["bad_yaml"] = (d, ["deploy.yaml", "not valid YAML"])
    d = _copy(web_model, tmp_path, "no_onnx")
    text = (d / "deploy.yaml").read_text().replace("  onnx: model.onnx\n", "")
    (d / "deploy.yaml").write_text(text)
    out["no_onnx"] = (d, ["Deploy.onnx", "--format onnx"])
    d = _copy(web_model, tmp_path, "garbage")
    (d / "model.onnx").write_bytes(b"not a model")
    out["garbage"] = (d, ["model.onnx", "not a valid ONNX model", "--format onnx"])
    d = _copy(web_model, tmp_path, "classifier")
    _classifier_onnx(d / "model.onnx")
    out["classifier"] = (d, ["model.onnx", "not a segmentation model"])
    d = _copy(web_model, tmp_path, "transform")
    text = (d / "deploy.yaml").read_text().replace("keep_ratio: false", "keep_ratio: true")
    (d / "deploy.yaml").write_text(text)
    out["keep_ratio"] = (d, ["Deploy.transforms[0]", "Resize"])
    return out


def test_serve_web_refuses_bad_folders(web_model, tmp_path):
    for name, (folder, words) in _bad_folders(web_model, tmp_path).items():
        res = _serve(folder)
        assert res.returncode == 2, (name, res.stdout, res.stderr)
        assert res.stderr.startswith("error: "), (name, res.stderr)
        for word in words:
            assert word in res.stderr, (name, word, res.stderr)
        assert "Traceback" not in res.stderr, name


def test_serve_web_names_missing_npm_files(monkeypatch):
    import server
    monkeypatch.setattr(server, "RUNTIME_FILES", ("/nonexistent/ort.all.min.mjs",))
    with pytest.raises(server.ServeError, match="ort.all.min.mjs.*make web"):
        server.check_runtime()


def _page_error(browser, url, timeout=60):
    page = browser.open(url)
    try:
        return page.wait_for("document.getElementById('error').classList.contains('visible') && "
                             "document.getElementById('error').textContent", timeout=timeout)
    finally:
        page.close()


@pytest.mark.parametrize("name,words", [
    ("bad_yaml", ["deploy.yaml", "not valid YAML"]),
    ("no_onnx", ["Deploy.onnx", "--format onnx"]),
    ("garbage", ["model.onnx", "cannot load it"]),
    ("classifier", ["model.onnx", "[1, 3]", "not a segmentation model"]),
    ("keep_ratio", ["Deploy.transforms[0]", "keep_ratio"]),
])
def test_page_shows_model_errors(browser, web_model, tmp_path, name, words):
    """The page itself checks what it loads (a static host does not run serve_web's checks)."""
    from server import BackgroundServer
    folder, _ = _bad_folders(web_model, tmp_path)[name]
    with BackgroundServer(str(folder)) as srv:
        text = _page_error(browser, srv.url + "?source=none")
        for word in words:
            assert word in text, (word, text)
        assert any(word in line for line in srv.lines for word in words[:1]), srv.lines


def test_page_without_deploy_yaml(browser, tmp_path):
    from server import BackgroundServer
    with BackgroundServer(str(tmp_path)) as srv:
        text = _page_error(browser, srv.url + "?source=none")
    assert "deploy.yaml" in text and "HTTP 404" in text and "serve_web.py" in text


@pytest.mark.parametrize("deny", [True, False])
def test_page_explains_denied_or_absent_camera(chromium_binary, server, deny):
    from humanseg.utils.chromium import Chromium
    with Chromium(chromium_binary, deny_camera=deny) as b:
        text = _page_error(b, server.url)
    assert ("camera permission denied" if deny else "no camera found") in text, text
    assert any("camera" in line for line in server.lines), server.lines


def test_server_sends_isolation_headers_on_get_and_head(web_model):
    """COOP/COEP on every response (threads need cross-origin isolation); HEAD is GET without a
    body, and a missing file is a 404 for both."""
    import urllib.error
    import urllib.request

    from server import BackgroundServer
    with BackgroundServer(web_model) as srv:
        with urllib.request.urlopen(srv.url) as r:
            body = r.read()
            assert r.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
            assert r.headers["Cross-Origin-Opener-Policy"] == "same-origin"
        head = urllib.request.Request(srv.url, method="HEAD")
        with urllib.request.urlopen(head) as r:
            assert r.read() == b"" and int(r.headers["Content-Length"]) == len(body)
            assert r.headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        for method in ("GET", "HEAD"):
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(urllib.request.Request(srv.url + "nope.js", method=method))
            assert e.value.code == 404
