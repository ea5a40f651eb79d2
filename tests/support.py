"""Helpers shared by test modules (import as `from support import ...`)."""
import importlib
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOLS = os.path.join(ROOT, "tools")


def tiny_config(root: str, size=(96, 64), **changes) -> dict:
    """PP-HumanSeg-Lite on ``root`` at ``size`` (w, h; 96x64 by default), small enough for a few
    CPU iterations in seconds (bench/bench_engine.py uses it too); ``changes`` replace top-level
    sections."""
    size = list(size)
    train_tf = [{"type": "Resize", "target_size": size}, {"type": "RandomHorizontalFlip"},
                {"type": "RandomDistort"}, {"type": "Normalize"}]
    val_tf = [{"type": "Resize", "target_size": size}, {"type": "Normalize"}]
    cfg = {
        "batch_size": 2, "iters": 4,
        "train_dataset": {"type": "PPHumanSeg14K", "dataset_root": root, "mode": "train",
                          "transforms": train_tf},
        "val_dataset": {"type": "PPHumanSeg14K", "dataset_root": root, "mode": "val",
                        "transforms": val_tf},
        "optimizer": {"type": "sgd", "momentum": 0.9, "weight_decay": 0.0005},
        "lr_scheduler": {"type": "PolynomialDecay", "learning_rate": 0.05, "end_lr": 0,
                         "power": 0.9},
        "loss": {"types": [{"type": "MixedLoss", "losses": [{"type": "CrossEntropyLoss"},
                                                            {"type": "LovaszSoftmaxLoss"}],
                            "coef": [0.8, 0.2]}], "coef": [1]},
        "model": {"type": "PPHumanSegLite", "num_classes": 2, "align_corners": False},
    }
    cfg.update(changes)
    return cfg


ORACLE_INSTALL = "pip install --no-deps paddleseg==2.8.0"


def import_oracle(name: str):
    """Import the PaddleSeg-oracle module ``name`` (e.g. ``"paddleseg.models"``).

    When it cannot be imported: under CI (env ``CI`` set, as for ``test_lock.py``) the caller
    fails, at module level a collection error, so a broken oracle install cannot go green;
    elsewhere it is skipped with the command that installs the oracle.
    """
    try:
        return importlib.import_module(name)
    except ImportError as e:
        message = (f"the PaddleSeg oracle {name} cannot be imported ({e}); install it with "
                   f"`{ORACLE_INSTALL}`")
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: the oracle suites must run)", pytrace=False)
        pytest.skip(message, allow_module_level=True)


WEB_INSTALL = "make web (apt-get install -y chromium; npm ci --prefix deploy/web)"


def require_browser() -> str:
    """Chromium's path, once the page's npm files are installed too (tests/web).

    When either is missing: under CI (env ``CI`` set) the caller fails, so the browser tests
    cannot go green by skipping; elsewhere it is skipped with the install command.
    """
    from humanseg.utils.chromium import find_chromium
    binary = find_chromium()
    ort = os.path.join(ROOT, "deploy", "web", "node_modules", "onnxruntime-web", "package.json")
    missing = ("no Chromium on PATH" if binary is None else
               None if os.path.isfile(ort) else "deploy/web/node_modules is not installed")
    if missing:
        message = f"{missing}: install with `{WEB_INSTALL}`"
        if os.environ.get("CI"):
            pytest.fail(f"{message} (CI is set: the browser tests must run)", pytrace=False)
        pytest.skip(message, allow_module_level=True)
    return binary


def run_tool(tool: str, *args: str, cwd: str | None = None, timeout: int = 300):
    """Run ``tools/<tool>`` in a fresh interpreter; returns the CompletedProcess."""
    return subprocess.run([sys.executable, os.path.join(TOOLS, tool), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def export_untrained_lite(tmp, target_size, *args: str) -> str:
    """Export an untrained PP-HumanSeg-Lite with ``tools/export.py`` (both formats) into
    ``tmp/export``, preprocessing Resize(``target_size``) + Normalize; returns the folder."""
    import yaml
    cfg = os.path.join(str(tmp), "lite.yml")
    with open(cfg, "w") as f:
        yaml.safe_dump({"model": {"type": "PPHumanSegLite", "num_classes": 2},
                        "export": {"transforms": [{"type": "Resize",
                                                   "target_size": list(target_size)},
                                                  {"type": "Normalize"}]}}, f)
    out = os.path.join(str(tmp), "export")
    res = run_tool("export.py", "--config", cfg, "--save_dir", out, "--format", "both", *args)
    assert res.returncode == 0, res.stderr[-2000:]
    return out


class FileServer:
    """A localhost HTTP server (a thread) for tests that download: ``files`` maps URL paths to
    bytes (bytes alone: one file at ``/weights/model.pdparams``, :attr:`url`); other paths
    answer 404. Honours ``Range`` unless ``ranges`` is False; :attr:`requests` records each GET's
    ``(path, Range header)``; :attr:`base` is ``http://127.0.0.1:<port>/``."""

    def __init__(self, files, ranges: bool = True):
        import http.server
        import threading

        if isinstance(files, bytes):
            files = {"/weights/model.pdparams": files}
        self.requests: list = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                header = self.headers.get("Range")
                server.requests.append((self.path, header))
                data = files.get(self.path)
                if data is None:
                    self.send_error(404)
                    return
                start = int(header.split("=")[1].rstrip("-")) if header and ranges else 0
                body = data[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.url = self.base + next(iter(files)).lstrip("/")

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
