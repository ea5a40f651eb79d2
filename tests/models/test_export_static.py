"""Every model converts with paddle.jit.to_static (dynamic H and W), saves, reloads and gives the
dygraph outputs (the export path of tools/export.py)."""
from __future__ import annotations

import os

import paddle
import pytest

from humanseg.cvlibs.registry import MODELS, build
from model_specs import REGISTERED


# FCN is left out: its HRNet backbone is converted in the OCRNet case (each HRNet case ~30 s), and
# PP-HumanSeg-Lite's export is tested with the export tool.
@pytest.mark.parametrize("name", ["FastSCNN", "MobileSeg", "OCRNet", "PPLiteSeg"])
def test_to_static_save_load(name, tmp_path):
    paddle.seed(0)
    model = build(dict(REGISTERED[name][0]), MODELS, "model")
    model.eval()
    spec = [paddle.static.InputSpec([None, 3, None, None], "float32", "x")]
    static = paddle.jit.to_static(model, input_spec=spec, full_graph=True)
    paddle.jit.save(static, os.path.join(tmp_path, "model"))
    loaded = paddle.jit.load(os.path.join(tmp_path, "model"))
    x = paddle.randn([1, 3, 70, 90])
    expected = model(x)
    got = loaded(x)
    got = list(got) if isinstance(got, (list, tuple)) else [got]
    assert len(got) == len(expected)
    for a, b in zip(expected, got):
        assert a.shape == b.shape == [1, a.shape[1], 70, 90]
        assert float((a - b).abs().max()) < 1e-4
