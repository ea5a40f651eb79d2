"""Config rules: required keys, loss broadcast, num_classes and ignore_index consistency."""
import copy

import pytest

from humanseg.cvlibs.checks import EVAL_KEYS, check_config
from humanseg.errors import ConfigError

BASE = {
    "batch_size": 2, "iters": 10,
    "train_dataset": {"type": "Dataset", "num_classes": 2, "mode": "train"},
    "val_dataset": {"type": "Dataset", "num_classes": 2, "mode": "val"},
    "optimizer": {"type": "sgd"}, "lr_scheduler": {"type": "PolynomialDecay", "learning_rate": 0.1},
    "loss": {"types": [{"type": "CrossEntropyLoss"}], "coef": [1]},
    "model": {"type": "PPHumanSegLite", "num_classes": 2},
}


def cfg(**changes):
    c = copy.deepcopy(BASE)
    c.update(changes)
    return c


def test_valid_config_passes_and_fills_ignore_index():
    out = check_config(cfg())
    assert out["loss"]["types"][0]["ignore_index"] == 255


def test_missing_required_key_is_named():
    c = cfg()
    del c["optimizer"]
    with pytest.raises(ConfigError, match="optimizer"):
        check_config(c)
    check_config({"model": BASE["model"], "val_dataset": BASE["val_dataset"]}, EVAL_KEYS)


def test_section_without_type():
    with pytest.raises(ConfigError, match="model: must be a mapping with a 'type'"):
        check_config(cfg(model={"num_classes": 2}))


def test_single_loss_type_is_repeated_for_each_coef():
    out = check_config(cfg(loss={"types": [{"type": "CrossEntropyLoss"}], "coef": [1, 0.4]}))
    assert len(out["loss"]["types"]) == 2
    out["loss"]["types"][0]["x"] = 1
    assert "x" not in out["loss"]["types"][1], "repeated types must be independent copies"


def test_loss_types_coef_mismatch():
    with pytest.raises(ConfigError, match="loss.types has 2 entries but loss.coef has 3"):
        check_config(cfg(loss={"types": [{"type": "CrossEntropyLoss"}] * 2, "coef": [1, 1, 1]}))
    with pytest.raises(ConfigError, match="'types'"):
        check_config(cfg(loss={"coef": [1]}))


def test_num_classes_inconsistent_and_filled():
    with pytest.raises(ConfigError, match="num_classes is not consistent"):
        check_config(cfg(model={"type": "PPHumanSegLite", "num_classes": 3}))
    out = check_config(cfg(model={"type": "PPHumanSegLite"}))
    assert out["model"]["num_classes"] == 2


def test_named_dataset_constant_is_used():
    c = cfg(train_dataset={"type": "PPHumanSeg14K", "mode": "train"},
            val_dataset={"type": "PPHumanSeg14K", "mode": "val"},
            model={"type": "PPHumanSegLite", "num_classes": 19})
    with pytest.raises(ConfigError, match="num_classes"):
        check_config(c)


def test_ignore_index_rules():
    with pytest.raises(ConfigError, match="ignore_index is not consistent"):
        check_config(cfg(val_dataset={"type": "Dataset", "num_classes": 2, "ignore_index": 0}))
    mixed = {"types": [{"type": "MixedLoss", "coef": [0.8, 0.2], "losses": [
        {"type": "CrossEntropyLoss"}, {"type": "LovaszSoftmaxLoss", "ignore_index": 0}]}],
        "coef": [1]}
    with pytest.raises(ConfigError, match=r"losses\[1\].ignore_index=0"):
        check_config(cfg(loss=mixed))
    mixed["types"][0]["losses"][1]["ignore_index"] = 255
    out = check_config(cfg(loss=mixed))
    assert out["loss"]["types"][0]["losses"][0]["ignore_index"] == 255
    assert "ignore_index" not in out["loss"]["types"][0], "MixedLoss takes no ignore_index"


def test_iters_must_be_positive_int():
    with pytest.raises(ConfigError, match="iters"):
        check_config(cfg(iters=0))
