"""Serve deploy/web (the page), its npm runtime files and one exported model folder on localhost.

    python tools/serve_web.py --model_dir output/export      # prints the URL to open

The page's files are served from this folder, the model folder at ``/model/``, with the headers
that make the page cross-origin isolated (COOP ``same-origin`` + COEP ``require-corp``), so
onnxruntime-web may use WebAssembly threads. ``check_model_dir`` validates the folder before the
server starts; what the page reports (camera denied, model errors) is printed on the console via
``POST /log``. Uses deploy/python's ``deploy_config`` (never humanseg).
"""
from __future__ import annotations

import http.server
import json
import os
import sys
import threading
import urllib.parse

WEB_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(WEB_DIR), "python"))

from deploy_config import DeployConfig, DeployConfigError, load_deploy_config  # noqa: E402

ORT_DIST = os.path.join(WEB_DIR, "node_modules", "onnxruntime-web", "dist")
RUNTIME_FILES = (os.path.join(ORT_DIST, "ort.all.min.mjs"),
                 os.path.join(ORT_DIST, "ort-wasm-simd-threaded.wasm"),
                 os.path.join(WEB_DIR, "node_modules", "js-yaml", "dist", "js-yaml.mjs"))
NPM_FIX = "install them with `make web` (runs `npm ci --prefix deploy/web`)"
PAGE_TRANSFORMS = ("Resize", "Normalize")
REEXPORT = ("re-export with `python tools/export.py --config CFG --model_path MODEL --save_dir DIR "
            "--format onnx`")
MIME = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm",
        ".html": "text/html; charset=utf-8", ".css": "text/css", ".json": "application/json",
        ".yaml": "text/yaml; charset=utf-8", ".yml": "text/yaml; charset=utf-8",
        ".onnx": "application/octet-stream", ".png": "image/png", ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg", ".y4m": "application/octet-stream", ".webm": "video/webm",
        ".mp4": "video/mp4", ".tflite": "application/octet-stream",
        ".binarypb": "application/octet-stream", ".data": "application/octet-stream"}


class ServeError(ValueError):
    """The model folder or the page's runtime files are not servable; the message names the file
    and the fix."""


def check_runtime() -> None:
    """The npm files the page imports are installed (``npm ci`` ran)."""
    missing = [p for p in RUNTIME_FILES if not os.path.isfile(p)]
    if missing:
        raise ServeError(f"{missing[0]} is missing: the page's onnxruntime-web / js-yaml files are "
                         f"not installed; {NPM_FIX}")


def check_onnx(path: str, output_op: str) -> None:
    """``path`` loads in onnxruntime (when installed) as a segmentation network: one NCHW image
    input with 3 channels, a first output [N, C, H, W] ([N, H, W] labels for argmax)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return  # the page checks the output itself at its first run
    try:
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        sess = ort.InferenceSession(path, sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - any load failure means: not a usable ONNX model
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ServeError(f"{path} is not a valid ONNX model ({first[:200]}); {REEXPORT}") from None
    inp, out = sess.get_inputs()[0], sess.get_outputs()[0]
    channels = inp.shape[1] if len(inp.shape) == 4 else None
    if len(inp.shape) != 4 or (isinstance(channels, int) and channels != 3):
        raise ServeError(f"{path}: its input {inp.name} has shape {inp.shape}, not an image "
                         f"[N, 3, H, W]: this is not a segmentation model; {REEXPORT}")
    ranks = (3, 4) if output_op == "argmax" else (4,)
    if len(out.shape) not in ranks:
        raise ServeError(f"{path}: its output {out.name} has shape {out.shape}, not a segmentation "
                         f"map [N, C, H, W]: this is not a segmentation model; {REEXPORT}")


def check_model_dir(model_dir: str) -> DeployConfig:
    """Validate an exported folder for the page: deploy.yaml (deploy/python's rules), an ONNX
    model that is a segmentation network, and transforms the page runs.

    Raises:
        ServeError: with the file, the key and the fix.
    """
    if not os.path.isdir(model_dir):
        raise ServeError(f"--model_dir {model_dir}: no such folder; give a folder written by "
                         "tools/export.py --format onnx (it holds deploy.yaml and model.onnx)")
    try:
        cfg = load_deploy_config(model_dir)
    except DeployConfigError as e:
        raise ServeError(str(e)) from None
    if cfg.onnx_file is None:
        raise ServeError(f"{cfg.path}: `Deploy.onnx` is missing: the page runs ONNX models; "
                         f"{REEXPORT}")
    for i, t in enumerate(cfg.transforms):
        if t["type"] not in PAGE_TRANSFORMS or (t["type"] == "Resize" and (
                t["keep_ratio"] or t["size_divisor"] or t["interp"] != "LINEAR")):
            raise ServeError(f"{cfg.path}: `Deploy.transforms[{i}]` ({t['type']}) is not one the "
                             "web page runs: it runs a fixed Resize (LINEAR, no keep_ratio) and "
                             "Normalize; export with those")
    if cfg.network_size() is None:
        raise ServeError(f"{cfg.path}: no fixed network size (a Resize target_size or a fixed "
                         "input_shape): the page letterboxes frames to it; export with a Resize")
    check_onnx(cfg.onnx_file, cfg.output_op)
    return cfg


def _inside(root: str, rel: str) -> str | None:
    """``root/rel`` when it stays inside ``root`` and is a file."""
    path = os.path.realpath(os.path.join(root, rel))
    if path != root and not path.startswith(os.path.realpath(root) + os.sep):
        return None
    return path if os.path.isfile(path) else None


def make_server(model_dir: str, host: str = "127.0.0.1", port: int = 8000,
                mounts: dict[str, str] | None = None, log=print):
    """A ``ThreadingHTTPServer`` (not started) for the page and ``model_dir`` at ``/model/``.

    Args:
        model_dir: The exported folder (not validated here: see ``check_model_dir``).
        mounts: More URL prefixes -> folders (e.g. ``{"/frames/": dir}`` for tests).
        log: Called with each line the page reports through ``POST /log``.
    """
    routes = {"/model/": os.path.realpath(model_dir), **{k: os.path.realpath(v)
                                                          for k, v in (mounts or {}).items()}}

    class Handler(http.server.BaseHTTPRequestHandler):
        def _headers(self, status: int, ctype: str, length: int) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(length))
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()

        def _resolve(self, url_path: str) -> str | None:
            for prefix, root in routes.items():
                if url_path.startswith(prefix):
                    return _inside(root, url_path[len(prefix):])
            rel = url_path.lstrip("/") or "index.html"
            return _inside(WEB_DIR, rel) if not rel.endswith(".py") else None

        def do_GET(self, send_body: bool = True):  # noqa: N802 (http.server's name)
            url_path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            path = self._resolve(url_path)
            if path is None:
                body = f"{url_path}: not found".encode()
                self._headers(404, "text/plain; charset=utf-8", len(body))
            else:
                with open(path, "rb") as f:
                    body = f.read()
                ext = os.path.splitext(path)[1].lower()
                self._headers(200, MIME.get(ext, "application/octet-stream"), len(body))
            if send_body:
                self.wfile.write(body)

        def do_HEAD(self):  # noqa: N802  (curl -I, link checkers: GET's headers, no body)
            self.do_GET(send_body=False)

        def do_POST(self):  # noqa: N802
            if urllib.parse.urlsplit(self.path).path != "/log":
                self._headers(404, "text/plain", 0)
                return
            raw = self.rfile.read(min(int(self.headers.get("Content-Length", 0)), 1 << 16))
            try:
                entry = json.loads(raw)
                line = f"page {entry.get('level', 'info')}: {entry.get('message', '')}"
            except (ValueError, AttributeError):
                line = f"page: {raw[:500]!r}"
            log(line)
            self._headers(204, "text/plain", 0)

        def log_message(self, *args):
            pass

    return http.server.ThreadingHTTPServer((host, port), Handler)


class BackgroundServer:
    """``make_server`` on a free port in a daemon thread (tests, bench); ``url`` is the page's
    address, ``lines`` what the page reported."""

    def __init__(self, model_dir: str, mounts: dict[str, str] | None = None):
        self.lines: list[str] = []
        self.httpd = make_server(model_dir, port=0, mounts=mounts, log=self.lines.append)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
