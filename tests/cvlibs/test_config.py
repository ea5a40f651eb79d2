"""YAML loading: _base_ chains, deep merge, _inherited_, --opts and clear errors."""
import textwrap

import pytest

from humanseg.cvlibs.config import apply_opts, load_config, merge_config_dicts, parse_value
from humanseg.errors import ConfigError


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_base_merge_dicts_recursively_and_lists_replace(tmp_path):
    write(tmp_path / "base" / "a.yml", """
        batch_size: 4
        model: {type: M, num_classes: 2, backbone: {type: B, width: 18}}
        train_dataset: {transforms: [{type: Resize}, {type: Normalize}]}
    """)
    cfg = load_config(write(tmp_path / "c.yml", """
        _base_: base/a.yml
        model: {backbone: {width: 48}}
        train_dataset: {transforms: [{type: Normalize}]}
    """))
    assert cfg["batch_size"] == 4
    assert cfg["model"] == {"type": "M", "num_classes": 2, "backbone": {"type": "B", "width": 48}}
    assert cfg["train_dataset"]["transforms"] == [{"type": "Normalize"}]


def test_base_list_earlier_base_wins_and_file_wins_over_all(tmp_path):
    write(tmp_path / "a.yml", "x: a\ny: a\nz: a\n")
    write(tmp_path / "b.yml", "x: b\ny: b\nw: b\n")
    cfg = load_config(write(tmp_path / "c.yml", "_base_: [a.yml, b.yml]\nx: c\n"))
    assert cfg == {"x": "c", "y": "a", "z": "a", "w": "b"}


def test_nested_bases_are_relative_to_each_file(tmp_path):
    write(tmp_path / "d1" / "d2" / "root.yml", "iters: 5\n")
    write(tmp_path / "d1" / "mid.yml", "_base_: d2/root.yml\nbatch_size: 2\n")
    cfg = load_config(write(tmp_path / "top.yml", "_base_: d1/mid.yml\n"))
    assert cfg == {"iters": 5, "batch_size": 2}


def test_inherited_false_replaces_the_section(tmp_path):
    write(tmp_path / "a.yml", "optimizer: {type: sgd, momentum: 0.9, weight_decay: 0.0005}\n")
    cfg = load_config(write(tmp_path / "c.yml", """
        _base_: a.yml
        optimizer: {_inherited_: False, type: adam}
    """))
    assert cfg["optimizer"] == {"type": "adam"}


def test_opts_are_yaml_typed_and_address_nested_keys_and_list_items():
    cfg = {"a": {"b": 1}, "losses": [{"coef": 1}], "s": "x"}
    out = apply_opts(cfg, ["a.b=2.5", "a.c=[1, 2]", "losses.0.coef=0.3", "s=hello",
                           "flag=False", "lr=1e-3", "new.key=none"])
    assert out["a"] == {"b": 2.5, "c": [1, 2]}
    assert out["losses"][0]["coef"] == 0.3
    assert out["s"] == "hello" and out["flag"] is False and out["lr"] == 0.001
    assert out["new"] == {"key": "none"}
    assert cfg["a"] == {"b": 1}, "apply_opts must not modify its input"


def test_opts_errors_name_the_item():
    with pytest.raises(ConfigError, match="not key=value"):
        apply_opts({}, ["batch_size"])
    with pytest.raises(ConfigError, match="not a valid index"):
        apply_opts({"l": [1]}, ["l.3=2"])
    with pytest.raises(ConfigError, match="is a value"):
        apply_opts({"a": 1}, ["a.b=2"])


def test_parse_value():
    assert parse_value("3") == 3 and parse_value("[398, 224]") == [398, 224]
    assert parse_value("data/x y") == "data/x y" and parse_value("5e-4") == 0.0005


def test_missing_file_and_yaml_error_and_missing_base(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(str(tmp_path / "nope.yml"))
    bad = write(tmp_path / "bad.yml", "model:\n  type: X\n   num_classes: 2\n")
    with pytest.raises(ConfigError) as e:
        load_config(bad)
    assert "bad.yml" in str(e.value) and "line" in str(e.value)
    with pytest.raises(ConfigError, match="_base_ file not found"):
        load_config(write(tmp_path / "c.yml", "_base_: missing.yml\n"))
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_config(write(tmp_path / "l.yml", "- a\n- b\n"))


def test_base_cycle_is_reported(tmp_path):
    write(tmp_path / "a.yml", "_base_: b.yml\n")
    write(tmp_path / "b.yml", "_base_: a.yml\n")
    with pytest.raises(ConfigError, match="cycle"):
        load_config(tmp_path / "a.yml")


def test_merge_does_not_modify_inputs():
    base, child = {"a": {"b": 1}}, {"a": {"c": 2}}
    assert merge_config_dicts(child, base) == {"a": {"b": 1, "c": 2}}
    assert base == {"a": {"b": 1}} and child == {"a": {"c": 2}}
