"""One run of the study in one process: ``tools/train.py`` (in-process), then the final
weights copied to ``final/`` and evaluated frame by frame, so a run pays for one interpreter
and one Paddle import.

    python -m humanseg.experiments.scl_study.child SPEC_JSON

SPEC_JSON holds ``train_argv`` (tools/train.py's arguments), ``weights`` (the checkpoint the
training ends with), ``final`` (where it is copied), ``eval`` (config, split and output JSON, or
null) and ``timing`` (where the train and eval seconds are written).
"""
from __future__ import annotations

import json
import os
import runpy
import shutil
import sys
import time

from humanseg.utils.atomic import write_json_atomically

TRAIN_TOOL = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))), "tools", "train.py")


def main(argv: list[str] | None = None) -> int:
    (spec_path,) = argv if argv is not None else sys.argv[1:]
    with open(spec_path) as f:
        spec = json.load(f)
    start = time.time()
    sys.path.insert(0, os.path.dirname(TRAIN_TOOL))  # tools/_bootstrap
    runpy.run_path(TRAIN_TOOL, run_name="scl_study_child")["main"](spec["train_argv"])
    timing = {"train_seconds": round(time.time() - start, 1)}
    if spec.get("final"):
        os.makedirs(os.path.dirname(spec["final"]), exist_ok=True)
        shutil.copyfile(spec["weights"], spec["final"] + ".tmp")
        os.replace(spec["final"] + ".tmp", spec["final"])
    if spec.get("eval"):
        from humanseg.experiments.scl_study import frames
        start = time.time()
        e = spec["eval"]
        frames.main([e["config"], spec["final"], e["split"], e["out"]])
        timing["eval_seconds"] = round(time.time() - start, 1)
    write_json_atomically(spec["timing"], timing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
