"""Registries of buildable components and the single recursive ``build``.

A component is registered with a decorator next to its class (aliases declared there too)::

    @LOSSES.register(aliases=("CELoss",))
    class CrossEntropyLoss(nn.Layer): ...

Registries are filled lazily: the first lookup imports the modules listed in ``locations``.
"""
from __future__ import annotations

import difflib
import importlib
from typing import Any, Callable

from humanseg.errors import ConfigError


class Registry:
    """A name -> class/function table for one kind of component.

    Args:
        name: Kind of component, used in messages ("model", "loss", ...).
        locations: Modules imported on first lookup; importing them registers their components.
    """

    def __init__(self, name: str, locations: list[str] | None = None):
        self.name = name
        self.locations = list(locations or [])
        self._table: dict[str, Callable] = {}
        self._loaded = False

    def register(self, obj: Callable | None = None, *, name: str | None = None,
                 aliases: tuple[str, ...] = ()):
        """Register ``obj`` under its ``__name__`` (or ``name``) and ``aliases``; usable as a decorator."""

        def _do(o: Callable) -> Callable:
            for key in (name or o.__name__, *aliases):
                if key in self._table and self._table[key] is not o:
                    raise KeyError(f"{self.name} registry: '{key}' is already registered "
                                   f"by {self._table[key]!r}")
                self._table[key] = o
            return o

        return _do(obj) if obj is not None else _do

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self.locations:
                importlib.import_module(module)

    def names(self) -> list[str]:
        self._load()
        return sorted(self._table)

    def __contains__(self, key: str) -> bool:
        self._load()
        return key in self._table

    def get(self, key: str) -> Callable:
        """Return the component registered as ``key``; ConfigError listing close names otherwise."""
        self._load()
        if key not in self._table:
            raise ConfigError(unknown_type_message(key, [self]))
        return self._table[key]


MODELS = Registry("model", ["humanseg.models"])
BACKBONES = Registry("backbone", ["humanseg.models.backbones"])
LOSSES = Registry("loss", ["humanseg.models.losses"])
DATASETS = Registry("dataset", ["humanseg.datasets.dataset", "humanseg.datasets.pp_humanseg14k",
                                "humanseg.datasets.cityscapes", "humanseg.datasets.supervisely",
                                "humanseg.datasets.mixed"])
TRANSFORMS = Registry("transform", ["humanseg.transforms"])
OPTIMIZERS = Registry("optimizer", ["humanseg.optimizers"])
LR_SCHEDULERS = Registry("lr_scheduler", ["humanseg.optimizers"])
ALL_REGISTRIES = [MODELS, BACKBONES, LOSSES, DATASETS, TRANSFORMS, OPTIMIZERS, LR_SCHEDULERS]
# The registry a nested section's ``type`` belongs to, by the key that holds it (a backbone inside
# a model, the transforms and inner datasets of a dataset, the losses of a MixedLoss).
NESTED_REGISTRIES = {"backbone": BACKBONES, "transforms": TRANSFORMS, "datasets": DATASETS,
                     "losses": LOSSES, "types": LOSSES}


def unknown_type_message(key: str, registries: list[Registry]) -> str:
    names = sorted({n for r in registries for n in r.names()})
    close = difflib.get_close_matches(key, names, n=5, cutoff=0.5)
    lowered = [n for n in names if n.lower() == str(key).lower() and n not in close]
    close = lowered + close
    kinds = "/".join(r.name for r in registries)
    hint = f" Did you mean: {', '.join(close)}?" if close else f" Registered: {', '.join(names)}."
    return f"unknown {kinds} type '{key}'.{hint}"


def lookup(key: str, registry: Registry | None = None) -> Callable:
    """Find ``key`` in ``registry`` first, then in every registry (as PaddleSeg searches all managers)."""
    if registry is not None and key in registry:
        return registry.get(key)
    for reg in ALL_REGISTRIES:
        if key in reg:
            return reg.get(key)
    raise ConfigError(unknown_type_message(key, [registry] if registry else ALL_REGISTRIES))


def build(cfg: Any, registry: Registry | None = None, where: str = "config") -> Any:
    """Build ``cfg`` recursively: dicts and list items carrying ``type`` are built, innermost first.

    Args:
        cfg: A dict with ``type``, a list, or a plain value (returned as is).
        registry: Registry searched first for every ``type`` (then all registries); a nested
            section under a key of ``NESTED_REGISTRIES`` (``backbone``, ``transforms``, ...) uses
            that key's registry, which an unknown ``type`` there is reported against.
        where: Config path of ``cfg`` (e.g. ``model.backbone``) used in error messages.

    Raises:
        ConfigError: unknown type, or the constructor rejected its arguments (TypeError or
            ValueError).
    """
    if isinstance(cfg, list):
        return [build(item, registry, f"{where}[{i}]") for i, item in enumerate(cfg)]
    if not isinstance(cfg, dict):
        return cfg
    args = {k: build(v, NESTED_REGISTRIES.get(k, registry), f"{where}.{k}")
            for k, v in cfg.items() if k != "type"}
    if "type" not in cfg:
        return args
    type_name = cfg["type"]
    try:
        component = lookup(type_name, registry)
    except ConfigError as e:
        raise ConfigError(f"{where}.type: {e}") from None
    try:
        return component(**args)
    except TypeError as e:
        raise ConfigError(f"{where}: cannot build {type_name} with arguments "
                          f"{sorted(args)}: {e}") from e
    except ValueError as e:
        raise ConfigError(f"{where} ({type_name}): {e}") from e
