"""Registry lookups, aliases, lazy loading and the recursive build()."""
import pytest

from humanseg.cvlibs.registry import LOSSES, MODELS, Registry, build
from humanseg.errors import ConfigError


def make_registry():
    reg = Registry("thing")

    @reg.register(aliases=("leaf",))
    class Leaf:
        def __init__(self, value=1):
            self.value = value

    @reg.register
    class Node:
        def __init__(self, children, child=None, scale=1.0):
            self.children, self.child, self.scale = children, child, scale

    return reg, Leaf, Node


def test_build_recurses_into_dicts_and_list_items_first():
    reg, Leaf, Node = make_registry()
    obj = build({"type": "Node", "children": [{"type": "Leaf", "value": 2}, 3],
                 "child": {"type": "leaf"}, "scale": 0.5}, reg)
    assert isinstance(obj, Node) and obj.scale == 0.5
    assert isinstance(obj.children[0], Leaf) and obj.children[0].value == 2
    assert obj.children[1] == 3
    assert isinstance(obj.child, Leaf) and obj.child.value == 1


def test_unknown_type_lists_close_names():
    reg, _, _ = make_registry()
    with pytest.raises(ConfigError) as e:
        build({"type": "Nod", "children": []}, reg, where="model")
    assert "model.type" in str(e.value) and "'Nod'" in str(e.value) and "Node" in str(e.value)


def test_unknown_argument_names_the_component_and_key():
    reg, _, _ = make_registry()
    with pytest.raises(ConfigError) as e:
        build({"type": "Leaf", "valeu": 3}, reg, where="loss.types[0]")
    assert "loss.types[0]" in str(e.value) and "Leaf" in str(e.value) and "valeu" in str(e.value)


def test_duplicate_registration_is_refused():
    reg, Leaf, _ = make_registry()
    with pytest.raises(KeyError):
        reg.register(type("Other", (), {}), name="Leaf")
    reg.register(Leaf)  # registering the same object again is harmless


def test_lazy_registries_find_project_components():
    assert "PPHumanSegLite" in MODELS.names()
    assert {"CrossEntropyLoss", "LovaszSoftmaxLoss", "MixedLoss"} <= set(LOSSES.names())


def test_case_mismatch_is_suggested():
    with pytest.raises(ConfigError) as e:
        LOSSES.get("crossentropyloss")
    assert "CrossEntropyLoss" in str(e.value)


def test_unknown_backbone_lists_the_backbone_registry():
    from humanseg.cvlibs.registry import MODELS, build
    with pytest.raises(ConfigError) as e:
        build({"type": "FCN", "num_classes": 2, "backbone": {"type": "HRNet_W81"}}, MODELS,
              "model")
    message = str(e.value)
    assert message.startswith("model.backbone.type: unknown backbone type 'HRNet_W81'")
    assert "HRNet_W18" in message and "PPHumanSegLite" not in message and "FCN" not in message


def test_unknown_transform_lists_the_transform_registry():
    from humanseg.cvlibs.registry import DATASETS, build
    with pytest.raises(ConfigError, match="unknown transform type 'Resise'. Did you mean: Resize"):
        build({"type": "Dataset", "transforms": [{"type": "Resise"}]}, DATASETS, "train_dataset")
