"""The dataset validator on deliberately broken datasets: one dataset per kind of fault."""
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from humanseg.datasets import validate as V


@pytest.fixture
def root(tmp_path, synthetic_root):
    """A writable copy of the synthetic portrait set (2 classes, lists train/val/test)."""
    out = tmp_path / "set"
    shutil.copytree(synthetic_root, out)
    return out


def lines(root, split="train"):
    return [x for x in (root / f"{split}.txt").read_text().split("\n") if x]


def write(root, items, split="train"):
    (root / f"{split}.txt").write_text("".join(x + "\n" for x in items))


def run(root, *splits, num_classes=2):
    reports = V.validate([V.split_from_file_list(str(root / f"{s}.txt"), str(root), num_classes)
                          for s in (splits or ("train",))], progress=False)
    return reports


def only(reports, kind):
    """The findings of ``kind`` in the first report, after checking it is the only fault."""
    found = reports[0].findings
    assert set(found) == {kind}, found
    return found[kind]


def test_clean_set_has_no_findings_and_a_full_histogram(root):
    reports = run(root, "train", "val")
    assert not any(r.findings for r in reports) and not any(r.fatal for r in reports)
    r = reports[0]
    with Image.open(root / lines(root)[0].split()[1]) as im:
        w, h = im.size
    assert r.class_pixels.sum() + r.ignore_pixels + r.other_pixels == len(lines(root)) * w * h
    assert r.class_pixels[1] > 0 and "class pixels:" in V.format_report(reports)


def test_bad_line(root):
    write(root, lines(root) + ["images/a.jpg annotations/a.png extra"])
    assert "expected 'image_path label_path'" in only(run(root), "bad_line")[0]


def test_missing_file(root):
    first = lines(root)[0].split()
    os.remove(root / first[1])
    msg = only(run(root), "missing")
    assert len(msg) == 1 and first[1] in msg[0] and "train.txt:1" in msg[0]


def test_unreadable_image(root):
    image = lines(root)[1].split()[0]
    (root / image).write_bytes(b"garbage")
    msg = only(run(root), "unreadable")
    assert image in msg[0] and run(root)[0].fatal


def test_size_mismatch(root):
    label = root / lines(root)[0].split()[1]
    Image.fromarray(np.asarray(Image.open(label))[:-4]).save(label)
    assert "WxH" in only(run(root), "size_mismatch")[0]


def test_multichannel_label(root):
    label = root / lines(root)[0].split()[1]
    rgb = np.zeros(np.asarray(Image.open(label)).shape + (3,), np.uint8)
    rgb[..., 0] = 128 * np.asarray(Image.open(label))
    Image.fromarray(rgb).save(label)
    assert "colours, not class indices" in only(run(root), "multichannel_label")[0]


def test_out_of_range_values(root):
    label = root / lines(root)[0].split()[1]
    arr = np.asarray(Image.open(label)).copy()
    arr[:5, :5] = 7
    Image.fromarray(arr).save(label)
    msg = only(run(root), "out_of_range")
    assert "[7]" in msg[0]


def test_binary_0_255_trap_and_fix_to(root, tmp_path):
    labels = [root / x.split()[1] for x in lines(root)]
    for label in labels:
        Image.fromarray(np.asarray(Image.open(label)) * 255).save(label)
    originals = {p: p.read_bytes() for p in labels}
    reports = run(root)
    assert "0/255" in only(reports, "binary_0_255")[0] and reports[0].fatal
    written = V.fix_to(reports, str(tmp_path / "fixed"))
    assert all(p.read_bytes() == b for p, b in originals.items()), "originals untouched"
    fixed_list = written[0]
    fixed = V.validate([V.split_from_file_list(fixed_list, str(root), 2)], progress=False)
    assert not fixed[0].findings and fixed[0].class_pixels[1] > 0
    with pytest.raises(V.DataError, match="dataset root"):
        V.fix_to(reports, str(root))


def test_duplicate_entries(root):
    write(root, lines(root) + lines(root)[:1])
    reports = run(root)
    assert "listed 2 times" in only(reports, "duplicate")[0] and not reports[0].fatal


def test_image_in_two_splits(root):
    write(root, lines(root, "val") + lines(root, "train")[:1], "val")
    reports = run(root, "train", "val")
    assert not reports[0].findings
    assert "also in train" in only(reports[1:], "in_two_splits")[0]


def test_paths_with_spaces_or_non_ascii(root):
    image, label = lines(root)[0].split()
    new = image.replace(".jpg", "_é.jpg")
    os.rename(root / image, root / new)
    write(root, [f"{new} {label}"] + lines(root)[1:])
    assert "é" in only(run(root), "path_chars")[0]


def test_splits_from_a_config(root, cityscapes_root):
    cfg = {"train_dataset": {"type": "PPHumanSeg14K", "dataset_root": str(root), "mode": "train"},
           "val_dataset": {"type": "MixedDataset", "datasets": [
               {"type": "Cityscapes", "dataset_root": cityscapes_root, "mode": "val"}]}}
    splits = V.splits_from_config(cfg)
    assert [s.name for s in splits] == ["train_dataset (train)", "val_dataset.datasets[0] (val)"]
    assert splits[1].num_classes == 19 and splits[1].class_names[0] == "road"
    reports = V.validate(splits, progress=False)
    assert not any(r.findings for r in reports)
    assert "road" in V.format_report(reports)


def test_grey_label_saved_as_rgb_is_fixed_and_workers_agree(root, tmp_path):
    label = root / lines(root)[0].split()[1]
    arr = np.asarray(Image.open(label))
    Image.fromarray(np.stack([arr] * 3, axis=-1)).save(label)
    reports = V.validate([V.split_from_file_list(str(root / "train.txt"), str(root), 2)],
                         num_workers=2, progress=False)
    assert "all equal" in only(reports, "multichannel_label")[0]
    assert reports[0].grey_rgb == [str(label)]
    serial = run(root)
    np.testing.assert_array_equal(serial[0].class_pixels, reports[0].class_pixels)
    fixed_list = V.fix_to(reports, str(tmp_path / "fixed"))[0]
    fixed = V.validate([V.split_from_file_list(fixed_list, str(root), 2)], progress=False)
    assert not fixed[0].findings
    assert np.asarray(Image.open(label)).ndim == 3, "original untouched"


def test_cityscapes_image_without_trainids_label(cityscapes_root, tmp_path):
    import glob
    copy = tmp_path / "city"
    shutil.copytree(cityscapes_root, copy)
    victim = sorted(glob.glob(str(copy / "gtFine" / "val" / "*" / "*_labelTrainIds.png")))[0]
    os.remove(victim)
    cfg = {"val_dataset": {"type": "Cityscapes", "dataset_root": str(copy), "mode": "val"}}
    reports = V.validate(V.splits_from_config(cfg), progress=False)
    msg = only(reports, "missing")
    assert "cityscapes_to_trainids" in msg[0] and os.path.basename(victim) in msg[0]


def mixed_masks(root, n=12, odd=(5,), ignore_border=False):
    """A generated 2-class set: ``n`` small 0/1 masks, those at ``odd`` saved as 0/255."""
    rng = np.random.default_rng(0)
    (root / "img").mkdir(parents=True)
    (root / "ann").mkdir()
    items = []
    for i in range(n):
        mask = np.zeros((12, 16), np.uint8)
        mask[2:9, 3 + i % 5:11] = 1
        if ignore_border:
            mask[0] = 255
        if i in odd:
            mask = np.where(mask == 1, 255, mask).astype(np.uint8)
            if ignore_border:  # a background image with an ignore region
                mask[1:] = 0
        Image.fromarray(rng.integers(0, 255, (12, 16, 3), np.uint8)).save(root / f"img/{i}.png")
        Image.fromarray(mask).save(root / f"ann/{i}.png")
        items.append(f"img/{i}.png ann/{i}.png")
    write(root, items)
    return [root / f"ann/{i}.png" for i in range(n)]


def test_one_0_255_mask_among_0_1_masks_is_named_and_fixed(tmp_path):
    root = tmp_path / "mixed"
    labels = mixed_masks(root)
    reports = run(root)
    msgs = only(reports, "binary_0_255")
    assert len(msgs) == 1 and str(labels[5]) in msgs[0] and "train.txt:6" in msgs[0]
    assert reports[0].fatal and reports[0].fixable == [str(labels[5])]
    fixed_list = V.fix_to(reports, str(tmp_path / "fixed"))[0]
    listed = [x.split() for x in open(fixed_list).read().split("\n") if x]
    new_labels = [lab for _, lab in listed]
    assert new_labels[:5] + new_labels[6:] == [str(p) for p in labels[:5] + labels[6:]]
    assert new_labels[5].startswith(str(tmp_path / "fixed"))
    np.testing.assert_array_equal(np.asarray(Image.open(new_labels[5])),
                                  np.asarray(Image.open(labels[5])) // 255)
    assert np.asarray(Image.open(labels[5])).max() == 255, "original untouched"
    assert not V.validate([V.split_from_file_list(fixed_list, str(root), 2)],
                          progress=False)[0].findings


def test_background_with_ignore_in_a_set_using_ignore_is_a_warning_not_fixed(tmp_path):
    root = tmp_path / "ignore"
    labels = mixed_masks(root, ignore_border=True)
    reports = run(root)
    msgs = only(reports, "maybe_0_255")
    assert len(msgs) == 1 and str(labels[5]) in msgs[0]
    assert not reports[0].fatal and not reports[0].fixable
