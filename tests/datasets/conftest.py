"""A small converted synthetic Cityscapes set shared by the dataset tests."""
import pytest


@pytest.fixture(scope="session")
def cityscapes_root(tmp_path_factory):
    """4 train + 2 val street scenes at 256x128, labelIds converted to trainIds, lists written."""
    from humanseg.datasets.cityscapes_labels import convert_dataset
    from humanseg.datasets.synthetic.cityscapes import make_synthetic_cityscapes
    root = tmp_path_factory.mktemp("cityscapes") / "set"
    make_synthetic_cityscapes(root, num_train=4, num_val=2, size=(256, 128), seed=1, progress=False)
    convert_dataset(str(root), progress=False)
    return str(root)
