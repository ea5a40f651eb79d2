"""YAML configs with PaddleSeg's semantics: ``_base_``, deep merge, ``_inherited_`` and ``--opts``."""
from __future__ import annotations

import copy
import os
from typing import Any

import yaml

from humanseg.errors import ConfigError

BASE_KEY = "_base_"
INHERIT_KEY = "_inherited_"
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def resolve_data_path(path: str) -> str:
    """A relative data path as given (from the current directory) if it exists there, else from
    the project root, so configs' ``data/...`` paths work from any working directory."""
    if os.path.isabs(path) or os.path.exists(path):
        return path
    candidate = os.path.join(PROJECT_ROOT, path)
    return candidate if os.path.exists(candidate) else path


def _read_yaml(path: str) -> dict:
    if not os.path.isfile(path):
        raise ConfigError(f"config file not found: {path}. Check the path given to --config "
                          f"(relative paths are taken from the current directory, {os.getcwd()}).")
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(f"{path}: YAML syntax error{where}: {problem}. Fix the YAML "
                          f"(indentation with spaces, 'key: value' pairs).") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level of a config must be a mapping of keys "
                          f"(batch_size, model, ...), got {type(data).__name__}.")
    return data


def merge_config_dicts(child: dict, base: dict) -> dict:
    """Return ``base`` updated by ``child``: dicts merge recursively, other values (lists) replace.

    A child dict holding ``_inherited_: False`` replaces the base's dict instead of merging into it.
    """
    child = dict(child)
    if not child.pop(INHERIT_KEY, True):
        return child
    merged = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_config_dicts(value, merged[key])
        else:
            merged[key] = value
    return merged


def _strip_inherit_keys(cfg: Any) -> Any:
    if isinstance(cfg, dict):
        return {k: _strip_inherit_keys(v) for k, v in cfg.items() if k != INHERIT_KEY}
    if isinstance(cfg, list):
        return [_strip_inherit_keys(v) for v in cfg]
    return cfg


def load_config(path: str, _chain: tuple[str, ...] = ()) -> dict:
    """Load a YAML config and its ``_base_`` files (a path or a list, relative to the file).

    Bases are merged in order like PaddleSeg: the file overrides its bases, and an earlier base
    overrides a later one.
    """
    path = os.path.abspath(path)
    if path in _chain:
        raise ConfigError(f"{path}: _base_ cycle: {' -> '.join(_chain + (path,))}")
    cfg = _read_yaml(path)
    bases = cfg.pop(BASE_KEY, [])
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, list) or not all(isinstance(b, str) for b in bases):
        raise ConfigError(f"{path}: _base_ must be a path or a list of paths, got {bases!r}.")
    for base in bases:
        base_path = os.path.join(os.path.dirname(path), base)
        if not os.path.isfile(base_path):
            raise ConfigError(f"{path}: _base_ file not found: {base} (looked for {base_path}). "
                              f"_base_ paths are relative to the config file.")
        cfg = merge_config_dicts(cfg, load_config(base_path, _chain + (path,)))
    return cfg if _chain else _strip_inherit_keys(cfg)


def parse_value(text: str) -> Any:
    """Parse an override value as YAML (``1e-3`` -> float, ``[1, 2]`` -> list, ``a`` -> 'a')."""
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    if isinstance(value, str) and "e" in value.lower():
        try:  # YAML 1.1 reads "1e-3" as a string; users mean a number
            return float(value)
        except ValueError:
            pass
    return value


def apply_opts(cfg: dict, opts: list[str] | None) -> dict:
    """Apply ``key.sub=value`` overrides; list items are addressed by index (``losses.0.coef``).

    Missing intermediate dicts are created, so an override may add a new key.
    """
    cfg = copy.deepcopy(cfg)
    for item in opts or []:
        if "=" not in item:
            raise ConfigError(f"--opts item '{item}' is not key=value; write e.g. "
                              f"--opts batch_size=4 train_dataset.dataset_root=data/x")
        key, text = item.split("=", 1)
        keys = key.strip().split(".")
        node: Any = cfg
        for i, sub in enumerate(keys[:-1]):
            node = _child(node, sub, keys[: i + 1], create=True)
        last = keys[-1]
        value = parse_value(text)
        if isinstance(node, list):
            node[_index(node, last, keys)] = value
        elif isinstance(node, dict):
            node[last] = value
        else:
            raise ConfigError(f"--opts {key}: '{'.'.join(keys[:-1])}' is a value, not a mapping.")
    return cfg


def _index(node: list, sub: str, keys: list[str]) -> int:
    if not sub.lstrip("-").isdigit() or not -len(node) <= int(sub) < len(node):
        raise ConfigError(f"--opts {'.'.join(keys)}: '{sub}' is not a valid index into a list "
                          f"of {len(node)} items.")
    return int(sub)


def _child(node: Any, sub: str, keys: list[str], create: bool) -> Any:
    if isinstance(node, list):
        return node[_index(node, sub, keys)]
    if not isinstance(node, dict):
        raise ConfigError(f"--opts {'.'.join(keys)}: '{'.'.join(keys[:-1])}' is a value, "
                          f"not a mapping.")
    if sub not in node and create:
        node[sub] = {}
    return node[sub]


def dump_config(cfg: dict) -> str:
    """The resolved config as YAML text (keys in insertion order)."""
    return yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None, allow_unicode=True)
