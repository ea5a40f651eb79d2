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


@pytest.mark.parametrize("typo, meant", [("batch_sise", "batch_size"), ("nan_polcy", "nan_policy"),
                                         ("lr_schedular", "lr_scheduler")])
def test_unknown_top_level_key_names_the_close_match(typo, meant):
    c = cfg()
    c[typo] = 2
    with pytest.raises(ConfigError, match=f"unknown top-level key '{typo}'. Did you mean {meant}"):
        check_config(c)


def test_unknown_key_without_a_close_match_lists_the_known_keys():
    with pytest.raises(ConfigError, match="Known keys: batch_size, iters, model"):
        check_config(cfg(completely_else=1))


@pytest.mark.parametrize("changes, needle", [
    ({"nan_policy": "ignore"}, "nan_policy: expected stop or skip"),
    ({"sync_bn": "yes"}, "sync_bn: expected auto, true or false"),
    ({"sync_bn": 1}, "sync_bn: expected auto, true or false"),
    ({"test_config": {"is_slid": True}}, "test_config: unknown key"),
    ({"test_config": {"is_slide": True}}, "is_slide needs crop_size"),
    ({"test_config": [1]}, "test_config must be a mapping"),
    ({"save_interval": 0}, "save_interval must be a positive integer"),
    ({"to_static_training": True}, "to_static_training: true is not supported"),
])
def test_engine_keys_are_checked_with_the_config(changes, needle):
    """Rules the engine used to apply on the fly, now raised by check_config itself."""
    with pytest.raises(ConfigError, match=needle):
        check_config(cfg(**changes))


def test_engine_keys_pass_when_valid():
    check_config(cfg(nan_policy="skip", sync_bn=False, save_interval=5, to_static_training=False,
                     test_config={"aug_eval": True, "scales": [0.75, 1.0]}))


def test_later_paddleseg_runtime_sections_say_where_their_keys_go():
    """PaddleSeg after 2.8 moved test_config into a `test:` section; ignoring it would evaluate
    at the wrong scales without a word."""
    with pytest.raises(ConfigError, match="'test' is a section of PaddleSeg releases after 2.8.*"
                                          "under test_config"):
        check_config(cfg(test={"aug_eval": True, "scales": 0.5}))
