"""``results/<table>.json`` and ``.md``: our mIoU and connectivity next to the paper's figure for
each row, with the figure's source, the hardware, the time taken and the seed."""
from __future__ import annotations

import json
import os
import platform
import time

from humanseg.reproduce.tables import NOT_PUBLISHED, Row, Table
from humanseg.utils.atomic import write_json_atomically, write_text_atomically

_METRICS = ("miou", "connectivity", "boundary_f", "acc", "num_images")


def hardware() -> dict:
    """CPU model and cores, GPUs Paddle sees, Paddle version, humanseg git commit."""
    import paddle
    from humanseg.utils.env import env_info
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    gpus = paddle.device.cuda.device_count() if paddle.device.is_compiled_with_cuda() else 0
    info = env_info()
    return {"cpu": cpu, "cpu_cores": os.cpu_count(), "gpus": gpus, "paddle": info["paddle"],
            "python": info["python"], "platform": info["platform"],
            "git_commit": info["git_commit"]}


def row_record(row: Row, *, metrics: dict, weights: str, config: str, gpus: int,
               batch_per_card: int, iters: int, train_seconds: float | None,
               eval_seconds: float) -> dict:
    """The JSON record of one measured row."""
    ours = {k: metrics.get(k) for k in _METRICS}
    for k in ("miou", "connectivity", "boundary_f"):
        if ours[k] is not None:
            ours[k] = round(100 * ours[k], 2)  # percent, as the paper reports mIoU
    return {
        "id": row.id, "model": row.model, "backbone": row.backbone, "strategy": row.strategy,
        "config": config,
        "paper": {"miou": row.paper_miou, "source": row.paper_source,
                  "gpus": row.gpus, "batch_per_card": row.batch_per_card, "iters": row.iters,
                  "closest_public_miou": row.public_miou, "closest_public_note": row.public_note},
        "ours": {**ours, "gpus": gpus, "batch_per_card": batch_per_card,
                 "effective_batch": gpus * batch_per_card, "iters": iters,
                 "weights": weights, "class_iou": metrics.get("class_iou"),
                 "class_connectivity": metrics.get("class_connectivity")},
        "train_seconds": None if train_seconds is None else round(train_seconds, 1),
        "eval_seconds": round(eval_seconds, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def load_previous(path: str, header: dict) -> list[dict]:
    """The rows of an earlier run of the same table and mode, so ``--only`` updates a table."""
    if not os.path.isfile(path):
        return []
    try:
        with open(path, encoding="utf-8") as f:
            old = json.load(f)
    except (OSError, ValueError):
        return []
    if old.get("table") != header["table"] or old.get("mode") != header["mode"]:
        return []
    return old.get("rows", [])


def merge_rows(table: Table, previous: list[dict], new: list[dict]) -> list[dict]:
    """Rows in table order; a new record replaces an earlier one of the same id."""
    by_id = {r["id"]: r for r in previous}
    by_id.update({r["id"]: r for r in new})
    return [by_id[r.id] for r in table.rows if r.id in by_id]


def write(results_dir: str, table: Table, header: dict, rows: list[dict]) -> tuple[str, str]:
    """Write ``<table>.json`` and ``<table>.md``; returns their paths."""
    os.makedirs(results_dir, exist_ok=True)
    js = os.path.join(results_dir, f"{table.name}.json")
    md = os.path.join(results_dir, f"{table.name}.md")
    doc = {**header, "rows": rows}
    write_json_atomically(js, doc)
    write_text_atomically(md, markdown(table, doc))
    return md, js


def _num(v, digits=2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def _paper_cell(r: dict) -> str:
    p = r["paper"]
    return NOT_PUBLISHED if p["miou"] is None else f"{p['miou']:.2f} [1]"


def _public_cell(r: dict, notes: dict) -> str:
    p = r["paper"]
    if p["closest_public_miou"] is None:
        return "-"
    n = notes.setdefault(p["closest_public_note"], len(notes) + 2)
    return f"{p['closest_public_miou']:.2f} [{n}]"


def _seconds(s) -> str:
    if s is None:
        return "-"
    return f"{s:.0f} s" if s < 3600 else f"{s / 3600:.1f} h"


def markdown(table: Table, doc: dict) -> str:
    hw = doc["hardware"]
    rows = doc["rows"]
    has_public = any(r["paper"]["closest_public_miou"] is not None for r in rows)
    lines = [f"# {table.title}", "",
             f"Written by `{doc['command']}` on {doc['written']}.", "",
             f"- Mode: {doc['mode_text']}",
             f"- Data: {doc['data']}",
             f"- Seed: {doc['seed']}",
             *([f"- Config overrides (--opts): {' '.join(doc['opts'])}"]
               if doc.get("opts") else []),
             f"- Hardware: {hw['cpu']} ({hw['cpu_cores']} cores), {hw['gpus']} GPU(s) visible "
             f"to Paddle {hw['paddle']}; device {doc['device']}, {doc['gpus']} training "
             f"process(es)",
             f"- humanseg commit: {hw['git_commit'] or 'unknown'}", "",
             "mIoU, connectivity and boundary F in %. Time = training + evaluation wall time.", ""]
    head = ["Row", "Model", "Backbone", "Strategy", table.setting_label, "Paper mIoU"]
    head += ["Closest public mIoU"] if has_public else []
    head += ["Our mIoU", "Our connectivity", "Our BF", "Ours: procs x batch, iters", "Time"]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    notes: dict[str, int] = {}
    for r in rows:
        p, o = r["paper"], r["ours"]
        cells = [r["id"], r["model"], r["backbone"], r["strategy"],
                 f"{p['gpus']} x {p['batch_per_card']}, {p['iters']}", _paper_cell(r)]
        cells += [_public_cell(r, notes)] if has_public else []
        total = (r["train_seconds"] or 0) + r["eval_seconds"]
        cells += [_num(o["miou"]), _num(o["connectivity"]), _num(o["boundary_f"]),
                  f"{o['gpus']} x {o['batch_per_card']}, {o['iters']}", _seconds(total)]
        lines.append("| " + " | ".join(cells) + " |")
    gains = _gains(rows)
    if gains:
        lines += ["", "SCL minus CE (mIoU points):", ""]
        lines += [f"- {g}" for g in gains]
    lines += ["", "Sources:", ""]
    sources = sorted({r["paper"]["source"] for r in rows if r["paper"]["miou"] is not None})
    if sources:
        lines += [f"- [1] paper figures: {'; '.join(sources)}"]
    for r in rows:
        if r["paper"]["miou"] is None:
            lines += [f"- Paper figure {NOT_PUBLISHED}: {r['paper']['source']}."]
            break
    lines += [f"- [{n}] closest public number (not the paper's figure): {note}"
              for note, n in sorted(notes.items(), key=lambda kv: kv[1])]
    lines += ["", "Configs and weights:", ""]
    lines += [f"- {r['id']}: `{r['config']}` -> `{r['ours']['weights']}`" for r in rows]
    return "\n".join(lines) + "\n"


def _gains(rows: list[dict]) -> list[str]:
    by_id = {r["id"]: r for r in rows}
    out = []
    for r in rows:
        base = by_id.get(r["id"][:-4]) if r["id"].endswith("_scl") else None
        if base is None or r["ours"]["miou"] is None or base["ours"]["miou"] is None:
            continue
        ours = r["ours"]["miou"] - base["ours"]["miou"]
        paper = (f"{r['paper']['miou'] - base['paper']['miou']:+.2f}"
                 if r["paper"]["miou"] is not None and base["paper"]["miou"] is not None
                 else NOT_PUBLISHED)
        out.append(f"{base['id']}: ours {ours:+.2f}, paper {paper}")
    return out


__all__ = ["hardware", "load_previous", "markdown", "merge_rows", "row_record", "write"]
