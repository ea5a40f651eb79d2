"""Serve the browser page of deploy/web with an exported model: background replacement on the
webcam (or a video file) in the browser, with onnxruntime-web in a Web Worker.

    python tools/serve_web.py --model_dir output/export          # then open the printed URL

The folder must be written by ``tools/export.py --format onnx`` (or both). It is checked before
the server starts (exit code 2 with the file and the fix). The page is served on localhost with
cross-origin isolation headers (WebAssembly threads); what the page reports (a denied camera, a
model error) is printed here. Ctrl-C stops it.
"""
import argparse
import errno
import os
import sys

import _bootstrap  # noqa: F401
from _bootstrap import ROOT

sys.path.insert(0, os.path.join(ROOT, "deploy", "web"))

from server import ServeError, check_model_dir, check_runtime, make_server  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model_dir", required=True,
                   help="exported folder (deploy.yaml + model.onnx) from tools/export.py --format onnx")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: browsers give the camera to "
                        "localhost and https pages only)")
    p.add_argument("--port", type=int, default=8000, help="port (0: any free port)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        check_runtime()
        cfg = check_model_dir(args.model_dir)
    except ServeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        httpd = make_server(args.model_dir, args.host, args.port,
                            log=lambda line: print(line, flush=True))
    except OSError as e:
        why = "is in use: pick another with --port" if e.errno == errno.EADDRINUSE else str(e)
        print(f"error: port {args.port} on {args.host} {why}", file=sys.stderr)
        return 2
    host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::1") else args.host
    net = cfg.network_size()
    print(f"model {cfg.model_dir} ({os.path.basename(cfg.onnx_file)}, {net[0]}x{net[1]}, "
          f"output {cfg.output_op})")
    print(f"serving http://{host}:{httpd.server_address[1]}/  (Ctrl-C stops)", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
