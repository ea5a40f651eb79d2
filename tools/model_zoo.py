"""PaddleSeg's released PP-HumanSeg models, usable by name as zoo:NAME (a config's pretrained,
--model_path): lists them with PaddleSeg's published numbers and whether each is in the local
download cache ($HUMANSEG_CACHE), or downloads one there (--download NAME).

Offline or from a copy of the files: HUMANSEG_ZOO_MIRROR=<base URL> replaces PaddleSeg's host
and keeps the path (e.g. http://127.0.0.1:8000/ or file:///srv/mirror/)."""
import argparse
import sys

import _bootstrap  # noqa: F401

from humanseg.cli import run_tool
from humanseg.utils.download import cache_dir
from humanseg.utils.zoo import MIRROR_ENV, SOURCE, ZOO, fetch, get_entry, is_cached, resolve_zoo

COLUMNS = ("name", "kind", "input", "mIoU %", "latency ms", "cached", "source")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--download", metavar="NAME", default=None,
                   help="download NAME into the cache (extracted) and print its local path")
    p.add_argument("--kind", choices=["train", "inference"], default=None,
                   help="list only checkpoints (train) or exported models (inference)")
    p.add_argument("--urls", action="store_true", help="list the URLs as well")
    return p.parse_args(argv)


def rows(kind: str | None = None) -> list[dict]:
    """One row per entry: the table's columns (published numbers as PaddleSeg gives them)."""
    out = []
    for entry in ZOO.values():
        if kind and entry.kind != kind:
            continue
        device = entry.latency_device.split(" ")[0] if entry.latency_device else ""
        latency = "-" if entry.latency_ms is None else f"{entry.latency_ms:g} {device}"
        out.append({
            "name": entry.name,
            "kind": entry.kind + (f" ({entry.output})" if entry.output else ""),
            "input": f"{entry.input_size[0]}x{entry.input_size[1]}",
            "mIoU %": "-" if entry.miou is None else f"{entry.miou:.2f}",
            "latency ms": latency,
            "cached": "yes" if is_cached(entry.name) else "no",
            "source": entry.source.split("@", 1)[1], "url": resolve_zoo(entry.name)})
    return out


def format_table(table: list[dict], columns=COLUMNS) -> str:
    widths = [max(len(c), *(len(r[c]) for r in table)) for c in columns]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(r[c].ljust(w) for c, w in zip(columns, widths)) for r in table]
    return "\n".join(line.rstrip() for line in lines)


@run_tool
def main(argv=None):
    args = parse_args(argv)
    if args.download:
        entry = get_entry(args.download)
        path = fetch(entry.name, progress=True)
        print(path)  # alone on stdout: MODEL_DIR=$(python tools/model_zoo.py --download NAME)
        if entry.kind == "train":
            hint = f"use it as pretrained: zoo:{entry.name} or --model_path zoo:{entry.name}"
        else:
            hint = (f"run it as it is: python deploy/python/video.py --model_dir {path} "
                    "--camera_id 0 (onnxruntime converts it once; docs/deploy.md)")
        print(f"{entry.name} ({entry.kind}) is in the cache. {hint}", file=sys.stderr)
        return path
    table = rows(args.kind)
    print(format_table(table, COLUMNS + (("url",) if args.urls else ())))
    devices = sorted({e.latency_device for e in ZOO.values() if e.latency_device})
    print(f"\nmIoU and latency as published in {SOURCE} (source column: section); '-' = not "
          f"published. mIoU: portrait models on PP-HumanSeg-14K, human models on mini "
          f"Supervisely Person, at the input size. Latency: "
          + "; ".join(f"{d.split(' ')[0]} = {d}" for d in devices) + ".")
    print(f"cache: {cache_dir()} (set {MIRROR_ENV} to fetch from a mirror)")
    return table


if __name__ == "__main__":
    main()
