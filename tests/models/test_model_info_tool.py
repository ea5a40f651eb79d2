"""tools/model_info.py: params, FLOPs and output shapes; user errors exit 2."""
from __future__ import annotations

import os

from support import ROOT, run_tool


def test_pp_humanseg_lite_matches_published_figures():
    config = os.path.join(ROOT, "configs", "pp_humanseg_lite",
                          "pp_humanseg_lite_synthetic_398x224.yml")
    result = run_tool("model_info.py", "--config", config)  # 398x224 from the config
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "params used:  137,466" in out  # the published 137K
    assert "FLOPs:        266,440,496" in out  # the published 266M
    assert "[[1, 2, 224, 398]]" in out


def test_user_errors_exit_2(tmp_path):
    config = tmp_path / "no_size.yml"
    config.write_text("model:\n  type: FastSCNN\n  num_classes: 2\n")
    result = run_tool("model_info.py", "--config", str(config))
    assert result.returncode == 2 and "--input_size" in result.stderr
    assert "Traceback" not in result.stderr
    result = run_tool("model_info.py", "--config", str(config), "--input_size", "0", "5")
    assert result.returncode == 2 and "positive" in result.stderr
