"""Reproduce the paper's tables: train every row (through paddle.distributed.launch when
--gpus N > 1), evaluate it, and write results/<table>.md and .json with our mIoU and
connectivity next to the paper's figure, its source, the hardware, the time and the seed.

    python tools/reproduce.py --table cityscapes --data_root data/cityscapes --gpus 2
    python tools/reproduce.py --table teleconf --data_root data/PP-HumanSeg14K
    python tools/reproduce.py --table teleconf --synthetic          # the synthetic set
    python tools/reproduce.py --table cityscapes --smoke            # 2 tiny iterations per row
    python tools/reproduce.py --table cityscapes --eval_only output/reproduce/cityscapes

Rows: cityscapes = ocrnet_hrnetw48[_scl], fcn_hrnetw18[_scl], fastscnn[_scl];
teleconf = lite_398x224[_scl], mobile_192x192[_scl]. See docs/reproduce.md.
"""
import argparse
import os

import _bootstrap  # noqa: F401

from humanseg.cli import run_tool
from humanseg.reproduce.driver import ROOT, Request, command_line, run
from humanseg.reproduce.tables import TABLES


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--table", required=True, help=f"one of: {', '.join(TABLES)}")
    p.add_argument("--data_root", default=None,
                   help="the dataset folder (default: each config's dataset_root)")
    p.add_argument("--gpus", type=int, default=1,
                   help="training processes, one per GPU (CPU: gloo processes); > 1 runs "
                        "paddle.distributed.launch. batch_size in the configs is per process")
    p.add_argument("--only", nargs="+", default=None, metavar="ROW", help="run only these rows")
    p.add_argument("--eval_only", default=None, metavar="CKPT_DIR",
                   help="no training: evaluate CKPT_DIR/<row>/ (best_model or newest iter_N)")
    p.add_argument("--smoke", action="store_true",
                   help="every row for 2 iterations at 64x32 on tiny synthetic data")
    p.add_argument("--synthetic", action="store_true",
                   help="teleconf: the synthetic-set configs instead of the PP-HumanSeg14K ones")
    p.add_argument("--opts", nargs="+", default=None, metavar="KEY=VALUE",
                   help="override keys of every row's config, e.g. "
                        "model.backbone.pretrained=/path/hrnet_w18_ssld (no download)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu"])
    p.add_argument("--output_dir", default=os.path.join(ROOT, "output", "reproduce"),
                   help="runs go to OUTPUT_DIR/<table>/<row>/ (default: output/reproduce)")
    p.add_argument("--results_dir", default=os.path.join(ROOT, "results"),
                   help="where <table>.md and <table>.json go (default: results/)")
    return p.parse_args(argv)


@run_tool
def main(argv=None):
    args = parse_args(argv)
    absolute = lambda p: None if p is None else os.path.abspath(p)  # noqa: E731
    req = Request(table=args.table, data_root=absolute(args.data_root), gpus=args.gpus,
                  only=args.only, eval_only=absolute(args.eval_only), smoke=args.smoke,
                  synthetic=args.synthetic, opts=args.opts, seed=args.seed, device=args.device,
                  output_dir=absolute(args.output_dir), results_dir=absolute(args.results_dir),
                  command=command_line(argv))
    md, js = run(req)
    print(f"results written to {md} and {js}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
