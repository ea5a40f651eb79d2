"""Shared fixtures: a small synthetic teleconferencing set and a tiny training config for it."""
import pytest
import yaml

from support import tiny_config


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory):
    """8 clips x 3 frames at 160x96, in the PP-HumanSeg14K layout."""
    from humanseg.datasets.synthetic.humanseg import make_synthetic_humanseg
    out = tmp_path_factory.mktemp("synthetic") / "set"
    make_synthetic_humanseg(str(out), num_clips=8, frames_per_clip=3, size=(160, 96), seed=3,
                            progress=False)
    return str(out)


@pytest.fixture
def tiny_config_file(tmp_path, synthetic_root):
    def write(**changes) -> str:
        path = tmp_path / "tiny.yml"
        path.write_text(yaml.safe_dump(tiny_config(synthetic_root, **changes)))
        return str(path)
    return write
