"""tools/reproduce.py: --smoke trains every row of both tables for real (2 iterations at 64x32 on
tiny synthetic sets made on the spot, OCRNet-HRNet-W48 included), evaluates each checkpoint and
writes results/<table>.md and .json; --only updates one row, --eval_only re-evaluates the
checkpoints, --gpus 2 goes through paddle.distributed.launch (2 CPU gloo processes), and bad input
ends in one message with exit code 2."""
import json
import os
import sys

import pytest

from support import TOOLS, run_tool

sys.path.insert(0, TOOLS)

CITYSCAPES_ROWS = ["ocrnet_hrnetw48", "ocrnet_hrnetw48_scl", "fcn_hrnetw18", "fcn_hrnetw18_scl",
                   "fastscnn", "fastscnn_scl"]
TELECONF_ROWS = ["lite_398x224", "lite_398x224_scl", "mobile_192x192", "mobile_192x192_scl"]
PAPER = {"ocrnet_hrnetw48": 76.23, "ocrnet_hrnetw48_scl": 78.29, "fcn_hrnetw18": 77.81,
         "fcn_hrnetw18_scl": 78.68, "fastscnn": 56.41, "fastscnn_scl": 57.37}


def reproduce(tmp, *args, timeout=300):
    r = run_tool("reproduce.py", "--output_dir", str(tmp / "out"), "--results_dir",
                 str(tmp / "results"), "--seed", "7", *args, timeout=timeout)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def load(tmp, table):
    with open(tmp / "results" / f"{table}.json") as f:
        doc = json.load(f)
    return doc, (tmp / "results" / f"{table}.md").read_text()


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reproduce")
    reproduce(tmp, "--table", "cityscapes", "--smoke")
    reproduce(tmp, "--table", "teleconf", "--smoke")
    return tmp


def check_common(doc, table, rows):
    assert doc["table"] == table and doc["mode"] == "smoke"
    assert doc["seed"] == 7 and doc["device"] == "cpu" and doc["gpus"] == 1
    hw = doc["hardware"]
    assert hw["cpu_cores"] == os.cpu_count() and hw["gpus"] == 0 and hw["cpu"]
    assert [r["id"] for r in doc["rows"]] == rows
    for r in doc["rows"]:
        ours = r["ours"]
        assert 0 <= ours["miou"] <= 100 and 0 <= ours["connectivity"] <= 100
        assert ours["iters"] == 2 and ours["batch_per_card"] == 2 and ours["gpus"] == 1
        assert os.path.isfile(ours["weights"]) and ours["weights"].endswith(
            os.path.join(r["id"], "iter_2", "model.pdparams"))
        assert r["train_seconds"] > 0 and r["eval_seconds"] > 0
        assert ours["num_images"] >= 1


def test_cityscapes_smoke_trains_every_row_and_reports_the_paper_numbers(smoke):
    doc, md = load(smoke, "cityscapes")
    check_common(doc, "cityscapes", CITYSCAPES_ROWS)
    for r in doc["rows"]:
        assert r["paper"]["miou"] == PAPER[r["id"]]
        assert "contrib/PP-HumanSeg/paper.md" in r["paper"]["source"]
        assert r["config"] == "configs/cityscapes/" + {
            "ocrnet_hrnetw48": "ocrnet_hrnetw48_cityscapes_1024x512_40k",
            "fcn_hrnetw18": "fcn_hrnetw18_cityscapes_1024x512_80k_bs4",
            "fastscnn": "fastscnn_cityscapes_1024x1024_40k"}[r["id"].replace("_scl", "")] + \
            ("_SCL.yml" if r["id"].endswith("_scl") else ".yml")
        assert r["paper"]["gpus"] == 2
        assert len(r["ours"]["class_iou"]) == 19
        # the row trained the row's own model and loss, shrunk
        run_dir = smoke / "out" / "cityscapes" / r["id"]
        log = (run_dir / "train.log").read_text()
        assert "training " + {"ocrnet": "OCRNet", "fcn_hr": "FCN", "fastsc": "FastSCNN"}[
            r["id"][:6]] + " for 2 iterations" in log
        assert ("out0.SemanticConnectivityLoss=" in log) == r["id"].endswith("_scl")
    ocr = (smoke / "out" / "cityscapes" / "ocrnet_hrnetw48" / "config.yml").read_text()
    assert "HRNet_W48" in ocr
    assert "| ocrnet_hrnetw48_scl | OCRNet | HRNet-W48 | SCL | 2 x 2, 40000 | 78.29 [1] |" in md
    assert "| fcn_hrnetw18 | FCN | HRNet-W18 | CE | 2 x 4, 80000 | 77.81 [1] |" in md
    assert "- ocrnet_hrnetw48: ours " in md and "paper +2.06" in md and "paper +0.96" in md
    assert "[1] paper figures: PaddleSeg contrib/PP-HumanSeg/paper.md" in md
    assert "- Seed: 7" in md and "2 cores" in md and "0 GPU(s)" in md


def test_teleconf_smoke_says_the_paper_figure_is_not_published(smoke):
    doc, md = load(smoke, "teleconf")
    check_common(doc, "teleconf", TELECONF_ROWS)
    for r in doc["rows"]:
        assert r["paper"]["miou"] is None and "not retrievable" in r["paper"]["source"]
        assert r["paper"]["closest_public_miou"] == (93.60 if "lite" in r["id"] else 91.64)
        assert "not the paper's protocol" in r["paper"]["closest_public_note"]
        assert len(r["ours"]["class_iou"]) == 2
    assert md.count("n/a (not published in retrievable form)") >= 4
    assert "| 93.60 [2] |" in md and "| 91.64 [3] |" in md
    assert "closest public number (not the paper's figure)" in md
    log = (smoke / "out" / "teleconf" / "mobile_192x192_scl" / "train.log").read_text()
    assert "training FCN for 2 iterations" in log and "out0.SemanticConnectivityLoss=" in log


def test_only_updates_one_row_and_keeps_the_others(smoke):
    before, _ = load(smoke, "teleconf")
    reproduce(smoke, "--table", "teleconf", "--smoke", "--only", "lite_398x224_scl",
              "--seed", "8", "--opts", "iters=3")
    after, md = load(smoke, "teleconf")
    assert [r["id"] for r in after["rows"]] == TELECONF_ROWS
    assert after["seed"] == 8 and "--only lite_398x224_scl" in after["command"]
    changed = [a["id"] for a, b in zip(after["rows"], before["rows"]) if a != b]
    assert changed == ["lite_398x224_scl"]
    assert after["rows"][1]["ours"]["iters"] == 3 and after["rows"][0]["ours"]["iters"] == 2
    assert "- Config overrides (--opts): iters=3" in md
    assert "| lite_398x224_scl | PP-HumanSeg-Lite (ConnectNet) | - | SCL | 1 x 8, 50000 |" in md


def test_eval_only_reproduces_the_metrics_of_the_checkpoints(smoke):
    trained, _ = load(smoke, "cityscapes")
    old = {r["id"]: r for r in trained["rows"]}
    # the two rows' checkpoints give different metrics, so loading the wrong one would show
    assert old["fastscnn"]["ours"]["class_iou"] != old["fastscnn_scl"]["ours"]["class_iou"]
    tmp = smoke / "again"
    reproduce(tmp, "--table", "cityscapes", "--smoke", "--eval_only",
              str(smoke / "out" / "cityscapes"), "--only", "fastscnn_scl", "fastscnn")
    doc, md = load(tmp, "cityscapes")
    assert [r["id"] for r in doc["rows"]] == ["fastscnn", "fastscnn_scl"]
    assert "evaluation of the checkpoints in" in doc["mode_text"]
    for r in doc["rows"]:
        assert r["train_seconds"] is None and r["ours"]["gpus"] == 1
        assert r["ours"]["weights"] == old[r["id"]]["ours"]["weights"]
        for key in ("miou", "connectivity", "class_iou", "num_images"):
            assert r["ours"][key] == old[r["id"]]["ours"][key], key
    assert "| fastscnn_scl | Fast-SCNN | - | SCL | 2 x 4, 40000 | 57.37 [1] |" in md


def test_two_processes_go_through_the_distributed_launcher(tmp_path):
    reproduce(tmp_path, "--table", "teleconf", "--smoke", "--only", "lite_398x224",
              "--gpus", "2")
    doc, _ = load(tmp_path, "teleconf")
    assert doc["gpus"] == 2 and doc["rows"][0]["ours"]["effective_batch"] == 4
    run_dir = tmp_path / "out" / "teleconf" / "lite_398x224"
    log = (run_dir / "train.log").read_text()
    assert "data parallel: 2 rank(s); batch_size 2 per rank, effective batch size 4" in log
    assert "[DIST] trainable parameters identical on all 2 ranks" in log
    assert (run_dir / "launch_log" / "workerlog.1").is_file()


def test_launcher_command_line():
    from humanseg.reproduce.rows import launcher_command
    cmd = launcher_command("c.yml", "/o", 2, 3, "gpu")
    assert cmd[:5] == [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", "2"]
    assert cmd[cmd.index("--config") + 1] == "c.yml" and cmd[cmd.index("--seed") + 1] == "3"
    assert cmd[-2:] == ["--device", "gpu"] and cmd[cmd.index("--save_dir") + 1] == "/o"
    assert launcher_command("c.yml", "/o", 1, 0, "cpu")[:2] == [sys.executable,
                                                                 os.path.join(TOOLS, "train.py")]


@pytest.mark.parametrize("args, needles", [
    (["--table", "imagenet", "--smoke"], ["--table imagenet: unknown table", "cityscapes",
                                          "teleconf"]),
    (["--table", "cityscapes", "--smoke", "--only", "ocrnet_w18"],
     ["--only ocrnet_w18: no such row", "fastscnn_scl"]),
    (["--table", "cityscapes", "--data_root", "/nonexistent/cityscapes"],
     ["--data_root /nonexistent/cityscapes not found", "labelTrainIds"]),
    (["--table", "teleconf", "--only", "lite_398x224"],
     ["PP-HumanSeg14K not found", "--data_root", "--smoke"]),
    (["--table", "cityscapes", "--synthetic"], ["--synthetic applies to --table teleconf"]),
    (["--table", "teleconf", "--gpus", "0"], ["--gpus must be >= 1"]),
    (["--table", "teleconf", "--eval_only", "/nonexistent/ckpt"],
     ["--eval_only /nonexistent/ckpt not found"]),
])
def test_bad_input_exits_2_with_one_message(tmp_path, capsys, args, needles):
    import reproduce as tool
    with pytest.raises(SystemExit) as e:
        tool.main([*args, "--output_dir", str(tmp_path / "out"), "--results_dir",
                   str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith("error: ") and err.count("error: ") == 1, err
    for needle in needles:
        assert needle in err, (needle, err)
    assert not (tmp_path / "results").exists() and not (tmp_path / "out").exists()


def test_eval_only_names_a_missing_row_folder(tmp_path, capsys):
    import reproduce as tool
    (tmp_path / "ckpt").mkdir()
    with pytest.raises(SystemExit) as e:
        tool.main(["--table", "teleconf", "--smoke", "--eval_only", str(tmp_path / "ckpt"),
                   "--results_dir", str(tmp_path / "results")])
    err = capsys.readouterr().err
    assert e.value.code == 2 and str(tmp_path / "ckpt" / "lite_398x224") in err, err
