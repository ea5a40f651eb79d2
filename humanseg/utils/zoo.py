"""PaddleSeg's released PP-HumanSeg models by name: ``zoo:portrait_pp_humansegv2_lite``.

A ``zoo:NAME`` works wherever weights are given (a config's ``pretrained``, ``--model_path``):
:func:`humanseg.utils.download.resolve_weights_path` turns it into PaddleSeg's published URL,
which goes through the download cache like any URL (downloaded and extracted once).

Each release has three entries: ``NAME`` (``kind`` ``train``: the checkpoint, a ``.zip`` with a
folder holding ``model.pdparams``, for fine-tuning, evaluating, exporting), ``NAME_inference``
and ``NAME_inference_softmax`` (``kind`` ``inference``: PaddleSeg's exported model,
``model.pdmodel`` + ``model.pdiparams`` + ``deploy.yaml``, ending in argmax or softmax, for
``deploy/``; :func:`fetch` returns its folder).

Every number is PaddleSeg's, copied from ``contrib/PP-HumanSeg/README.md`` at :data:`SOURCE_COMMIT`
(None where that README gives none). Offline, or to use a copy of the files, set
``HUMANSEG_ZOO_MIRROR`` to a base URL that replaces PaddleSeg's host and keeps the path, e.g.
``HUMANSEG_ZOO_MIRROR=http://127.0.0.1:8000/`` fetches
``http://127.0.0.1:8000/dygraph/pp_humanseg_v2/...`` (``file:///srv/mirror/`` works too).
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass

from humanseg.errors import ConfigError

__all__ = ["ZooEntry", "ZOO", "ZOO_PREFIX", "MIRROR_ENV", "is_zoo", "get_entry", "mirrored",
           "resolve_zoo", "weights_url", "fetch", "is_cached"]

ZOO_PREFIX = "zoo:"
MIRROR_ENV = "HUMANSEG_ZOO_MIRROR"
HOST = "https://paddleseg.bj.bcebos.com/"
SOURCE_COMMIT = "066afb1dd80026d653de2e0332ae1254b34db6b4"
SOURCE = f"PaddleSeg contrib/PP-HumanSeg/README.md@{SOURCE_COMMIT[:7]}"
_ARM = "ARM CPU (Paddle Lite, Xiaomi 9 / Snapdragon 855, 1 thread)"
_GPU = "Nvidia GPU (model not named in README.md)"
_PORTRAIT_DATA = "PP-HumanSeg-14K"
_HUMAN_DATA = "mini Supervisely Person"


@dataclass(frozen=True)
class ZooEntry:
    """One published file.

    Attributes:
        name: The zoo name (``zoo:<name>``).
        kind: ``train`` (checkpoint with ``model.pdparams``) or ``inference`` (exported model).
        url: PaddleSeg's URL.
        config: PaddleSeg's config file of the model (``contrib/PP-HumanSeg/configs/``).
        architecture: The model (and backbone) type that config builds.
        input_size: Best input ``(width, height)`` as published.
        miou: Published mIoU in percent, on ``miou_dataset``; None if not published.
        latency_ms: Published inference time on ``latency_device``; None if not published.
        output: ``argmax`` or ``softmax`` for inference models, None for checkpoints.
        size_mb: Published model size in MB; None if not published.
        source: Where the numbers come from (README, commit, section).
    """

    name: str
    kind: str
    url: str
    config: str
    architecture: str
    input_size: tuple[int, int]
    miou: float | None
    miou_dataset: str
    latency_ms: float | None
    latency_device: str | None
    output: str | None
    size_mb: float | None
    source: str


# (config stem, architecture, (w, h), mIoU, latency ms, latency device, size MB, dataset,
#  README section, folder under dygraph/pp_humanseg_v2/) as in README.md sections 3.1 and 3.2.
_RELEASES = [
    ("portrait_pp_humansegv1_lite", "PPHumanSegLite", (398, 224), 93.60, 29.68, _ARM, 2.3,
     _PORTRAIT_DATA, "3.1", ""),
    ("portrait_pp_humansegv2_lite", "MobileSeg + MobileNetV3_large_x1_0", (256, 144), 96.63,
     15.86, _ARM, 5.4, _PORTRAIT_DATA, "3.1", "portrait_pp_humansegv2_lite_256x144_smaller/"),
    ("human_pp_humansegv1_lite", "PPHumanSegLite", (192, 192), 86.02, 12.3, _ARM, None,
     _HUMAN_DATA, "3.2", ""),
    ("human_pp_humansegv2_lite", "MobileSeg + MobileNetV3_large_x1_0", (192, 192), 92.52, 15.3,
     _ARM, None, _HUMAN_DATA, "3.2", ""),
    ("human_pp_humansegv1_mobile", "FCN + HRNet_W18_Small_V1", (192, 192), 91.64, 2.83, _GPU,
     None, _HUMAN_DATA, "3.2", ""),
    ("human_pp_humansegv2_mobile", "PPLiteSeg + STDC1", (192, 192), 93.13, 2.67, _GPU, None,
     _HUMAN_DATA, "3.2", ""),
    ("human_pp_humansegv1_server", "DeepLabV3P + ResNet50_vd (not in humanseg)", (512, 512),
     96.47, 24.9, _GPU, None, _HUMAN_DATA, "3.2", ""),
]
_FILES = [("", "train", "pretrained", None),
          ("_inference", "inference", "inference_model", "argmax"),
          ("_inference_softmax", "inference", "inference_model_with_softmax", "softmax")]


def _entries() -> dict[str, ZooEntry]:
    table = {}
    for stem, arch, size, miou, ms, device, mb, data, section, folder in _RELEASES:
        archive = f"{stem}_{size[0]}x{size[1]}"
        for suffix, kind, file_suffix, output in _FILES:
            url = f"{HOST}dygraph/pp_humanseg_v2/{folder}{archive}_{file_suffix}.zip"
            table[stem + suffix] = ZooEntry(
                name=stem + suffix, kind=kind, url=url, config=f"{stem}.yml", architecture=arch,
                input_size=size, miou=miou, miou_dataset=data, latency_ms=ms,
                latency_device=device, output=output, size_mb=mb,
                source=f"{SOURCE} section {section}")
    return table


ZOO: dict[str, ZooEntry] = _entries()


def is_zoo(path) -> bool:
    """True for a ``zoo:NAME`` string."""
    return isinstance(path, str) and path.startswith(ZOO_PREFIX)


def get_entry(name: str) -> ZooEntry:
    """The entry called ``name`` (with or without ``zoo:``).

    Raises:
        ConfigError: Unknown name, with the closest known names and the list.
    """
    key = name[len(ZOO_PREFIX):] if is_zoo(name) else name
    if key in ZOO:
        return ZOO[key]
    close = difflib.get_close_matches(key, list(ZOO), n=3, cutoff=0.5)
    hint = f"did you mean {' or '.join(ZOO_PREFIX + c for c in close)}? " if close else ""
    raise ConfigError(f"unknown model zoo name '{ZOO_PREFIX}{key}': {hint}known names: "
                      f"{', '.join(ZOO)} (python tools/model_zoo.py lists them with their "
                      f"published numbers)")


def mirrored(url: str) -> str:
    """``url`` with PaddleSeg's host replaced by ``$HUMANSEG_ZOO_MIRROR`` when it is set."""
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror or not url.startswith(HOST):
        return url
    return mirror.rstrip("/") + "/" + url[len(HOST):]


def resolve_zoo(name: str) -> str:
    """The URL to download for ``name`` (``zoo:`` optional), through the mirror if one is set."""
    return mirrored(get_entry(name).url)


def weights_url(name: str) -> str:
    """The URL of a ``train`` entry, for loading as weights.

    Raises:
        ConfigError: Unknown name, or an inference model (no ``model.pdparams`` in it).
    """
    entry = get_entry(name)
    if entry.kind != "train":
        base = entry.name.split("_inference")[0]
        raise ConfigError(f"'{ZOO_PREFIX}{entry.name}' is an inference model (model.pdmodel + "
                          f"model.pdiparams for deploy/), not weights a model can load: use "
                          f"'{ZOO_PREFIX}{base}' (its training checkpoint), or "
                          f"tools/model_zoo.py --download {entry.name} to get the folder")
    return mirrored(entry.url)


def is_cached(name: str) -> bool:
    """Whether ``name``'s archive (from the current mirror setting) is in the download cache."""
    from humanseg.utils.download import cached_path
    return os.path.isfile(cached_path(resolve_zoo(name)))


def fetch(name: str, progress: bool | None = None) -> str:
    """Download ``name`` into the cache once (extracted there) and return the local path: the
    ``model.pdparams`` of a ``train`` entry, the folder holding ``deploy.yaml`` of an
    ``inference`` entry.

    Raises:
        ConfigError: Unknown name, failed download, or an archive of an unexpected layout.
    """
    from humanseg.utils.download import download, extract_cached, resolve_weights_path
    entry = get_entry(name)
    if entry.kind == "train":
        return resolve_weights_path(ZOO_PREFIX + entry.name, progress=progress)
    root = extract_cached(download(resolve_zoo(entry.name), progress=progress))
    found = [folder for folder, _, files in os.walk(root)
             if "deploy.yaml" in files and "model.pdiparams" in files]
    if len(found) != 1:
        raise ConfigError(f"'{ZOO_PREFIX}{entry.name}' ({entry.url}): expected one folder with "
                          f"deploy.yaml and model.pdiparams in the archive, found {len(found)} "
                          f"(extracted in {root})")
    return found[0]
