"""Paddle Inference pass settings on PaddleSeg 2.x (Paddle 2.6) inference folders, and their ONNX
conversion: which settings run, how close each is to Paddle 2.6's own outputs, and how fast.

    python bench/bench_legacy_inference.py [--repeats 20] [--folders v1_lite_softmax,...]

Runs on the fixtures of tests/data/legacy_inference (their saved Paddle 2.6.2 outputs are the
reference). Every setting runs in a child process, because a broken setting can abort it. The
settings:
- ``onednn``: oneDNN with every pass (what deploy/python uses for a ``.pdmodel``);
- ``onednn-no-placement``: oneDNN without ``onednn_placement_pass`` (what a Paddle 3 program
  needs; legacy programs break with it);
- ``no-onednn``: oneDNN disabled, the other IR passes on;
- ``ir-off``: IR optimisation switched off;
- ``onnxruntime``: the cached paddle2onnx conversion (deploy/python/onnx_conversion.py).
Prints the max |difference| to Paddle 2.6, the median latency (1 thread) and its ratio to
``no-onednn`` measured in the same run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "tests", "data", "legacy_inference")
DEPLOY = os.path.join(ROOT, "deploy", "python")
SETTINGS = ("onednn", "onednn-no-placement", "no-onednn", "ir-off", "onnxruntime")
FOLDERS = ("v1_lite_softmax", "v1_lite_argmax", "v2_lite_softmax", "v2_lite_argmax")

_CHILD = r"""
import json, os, sys, time
import numpy as np
sys.path.insert(0, sys.argv[4])
folder, setting, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
ref = np.load(folder + "_reference.npz")
def build():
    if setting == "onnxruntime":
        from predictor import Predictor
        return Predictor(folder, backend="onnx", threads=1).backend.run
    import paddle.inference as pi
    c = pi.Config(os.path.join(folder, "model.pdmodel"), os.path.join(folder, "model.pdiparams"))
    c.disable_gpu(); c.set_cpu_math_library_num_threads(1); c.disable_glog_info()
    if setting == "no-onednn":
        c.disable_onednn()
    elif setting == "ir-off":
        c.disable_onednn(); c.switch_ir_optim(False)
    else:
        c.enable_onednn()
        if setting == "onednn-no-placement":
            c.delete_pass("onednn_placement_pass")
    p = pi.create_predictor(c)
    h = p.get_input_handle(p.get_input_names()[0])
    o = p.get_output_handle(p.get_output_names()[0])
    def run(x):
        h.reshape(list(x.shape)); h.copy_from_cpu(x); p.run(); return o.copy_to_cpu()
    return run
try:
    run = build()
    out = run(ref["x"])
except Exception as e:
    print("RESULT " + json.dumps({"error": str(e).strip().splitlines()[-1][:160]})); sys.exit()
times = []
for _ in range(repeats):
    t = time.perf_counter(); run(ref["x"]); times.append(time.perf_counter() - t)
diff = float(np.abs(out.reshape(ref["out"].shape).astype(np.float64) - ref["out"]).max())
print("RESULT " + json.dumps({"max_diff": diff, "ms": 1000 * sorted(times)[len(times) // 2]}))
"""


def run_setting(folder: str, setting: str, repeats: int, cache: str) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", HUMANSEG_CACHE=cache)
    r = subprocess.run([sys.executable, "-c", _CHILD, folder, setting, str(repeats), DEPLOY],
                       capture_output=True, text=True, env=env, timeout=900)
    for line in r.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"error": f"aborted (exit {r.returncode})"}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=20)
    p.add_argument("--folders", default=",".join(FOLDERS))
    p.add_argument("--out", default=None, help="also write the results as JSON here")
    args = p.parse_args(argv)
    results = {}
    with tempfile.TemporaryDirectory() as cache:
        for name in args.folders.split(","):
            folder = os.path.join(DATA, name)
            results[name] = {s: run_setting(folder, s, args.repeats, cache) for s in SETTINGS}
    print(f"load average {os.getloadavg()[0]:.2f}; 1 thread; median of {args.repeats}; "
          "diff = max |output - Paddle 2.6.2's|")
    print(f"| folder | {' | '.join(SETTINGS)} |")
    print("|---" * (len(SETTINGS) + 1) + "|")
    for name, row in results.items():
        base = row["no-onednn"].get("ms")
        cells = []
        for s in SETTINGS:
            r = row[s]
            if "error" in r:
                cells.append(f"fails: {r['error']}")
            else:
                ratio = f", {base / r['ms']:.2f}x" if base else ""
                cells.append(f"{r['max_diff']:.1e}, {r['ms']:.1f} ms{ratio}")
        print(f"| {name} | {' | '.join(cells)} |")
    print("(ratio: no-onednn's latency / this setting's, same run; > 1 is faster)")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"time": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                       "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
