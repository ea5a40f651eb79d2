"""The paper's experiments as tables of rows: the config that runs each row, the paper's setting
(GPUs, batch per card, iterations) and the published number with its source.

Numbers and sources: /work/shared/reference/paper-and-paddleseg.md §2 (Cityscapes: the authors'
page ``contrib/PP-HumanSeg/paper.md``; the teleconferencing tables of the paper are not
retrievable, so those rows carry the closest public numbers, labelled as such).
"""
from __future__ import annotations

from dataclasses import dataclass

from humanseg.errors import ConfigError

PAPER_MD = ("PaddleSeg contrib/PP-HumanSeg/paper.md, \"Performance on Cityscapes\" "
            "(the authors' page for the paper; Cityscapes val, single scale)")
NOT_PUBLISHED = "n/a (not published in retrievable form)"
PP_HUMANSEG_README = "PaddleSeg contrib/PP-HumanSeg/README.md (PP-HumanSeg V1/V2 model zoo)"


@dataclass(frozen=True)
class Row:
    """One experiment of a table.

    Attributes:
        id: Short name used by ``--only`` and as the run folder.
        model, backbone, strategy: What the row is ('CE' or 'SCL' for the strategy).
        config: The config that runs it on the real data, relative to the repository root.
        gpus, batch_per_card, iters: The paper's (or the recipe's) setting.
        paper_miou: The paper's mIoU in %, or None when not published in retrievable form.
        paper_source: Where ``paper_miou`` comes from (or why there is none).
        public_miou, public_note: The closest public number (mIoU %) when the paper's is missing,
            with what it is (model, data, source); None if there is none.
        synthetic_config: The same row on the synthetic set (teleconferencing table only).
        pair: The id of the row this one is compared with (SCL row -> its CE twin).
    """

    id: str
    model: str
    backbone: str
    strategy: str
    config: str
    gpus: int
    batch_per_card: int
    iters: int
    paper_miou: float | None
    paper_source: str
    public_miou: float | None = None
    public_note: str | None = None
    synthetic_config: str | None = None
    pair: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    rows: tuple[Row, ...]
    synthetic_root: str          # where the synthetic stand-in is made (relative to the repo)
    real_data_hint: str
    setting_label: str           # what the rows' gpus x batch, iters are

    def row(self, row_id: str) -> Row:
        for r in self.rows:
            if r.id == row_id:
                return r
        raise ConfigError(f"--only {row_id}: no such row in table '{self.name}'; rows: "
                          f"{', '.join(r.id for r in self.rows)}.")


def _cityscapes_rows() -> tuple[Row, ...]:
    spec = [  # id, model, backbone, config stem, batch/card, iters, CE mIoU, SCL mIoU
        ("ocrnet_hrnetw48", "OCRNet", "HRNet-W48", "ocrnet_hrnetw48_cityscapes_1024x512_40k", 2,
         40000, 76.23, 78.29),
        ("fcn_hrnetw18", "FCN", "HRNet-W18", "fcn_hrnetw18_cityscapes_1024x512_80k_bs4", 4,
         80000, 77.81, 78.68),
        ("fastscnn", "Fast-SCNN", "-", "fastscnn_cityscapes_1024x1024_40k", 4, 40000, 56.41,
         57.37),
    ]
    rows = []
    for rid, model, backbone, stem, bs, iters, ce, scl in spec:
        rows.append(Row(rid, model, backbone, "CE", f"configs/cityscapes/{stem}.yml", 2, bs, iters,
                        ce, PAPER_MD))
        rows.append(Row(f"{rid}_scl", model, backbone, "SCL",
                        f"configs/cityscapes/{stem}_SCL.yml", 2, bs, iters, scl, PAPER_MD,
                        pair=rid))
    return tuple(rows)


_LITE_PUBLIC = ("PP-HumanSegV1-Lite 398x224 on PP-HumanSeg-14K, " + PP_HUMANSEG_README +
                "; a released model, not the paper's protocol, trained without SCL")
_MOBILE_PUBLIC = ("PP-HumanSegV1-Mobile 192x192 on mini_supervisely (a general human model "
                  "trained on internal data), " + PP_HUMANSEG_README +
                  "; not the paper's protocol, trained without SCL")
_TELECONF_SOURCE = ("the paper's teleconferencing tables are not retrievable (only the abstract "
                    "and paper.md are public); see docs/reproduce.md")


def _teleconf_rows() -> tuple[Row, ...]:
    rows = []
    for rid, model, backbone, stem, syn, public, note in [
            ("lite_398x224", "PP-HumanSeg-Lite (ConnectNet)", "-",
             "pp_humanseg_lite_pphumanseg14k_398x224", "pp_humanseg_lite_synthetic_398x224",
             93.60, _LITE_PUBLIC),
            ("mobile_192x192", "PP-HumanSeg-Mobile (FCN)", "HRNet-W18-Small-V1",
             "pp_humanseg_mobile_pphumanseg14k_192x192", "pp_humanseg_mobile_synthetic_192x192",
             91.64, _MOBILE_PUBLIC)]:
        for suffix, strategy in (("", "CE"), ("_SCL", "SCL")):
            rows.append(Row(rid + suffix.lower(), model, backbone, strategy,
                            f"configs/pp_humanseg/{stem}{suffix}.yml", 1, 8, 50000, None,
                            _TELECONF_SOURCE, public, note,
                            synthetic_config=f"configs/pp_humanseg/{syn}{suffix}.yml",
                            pair=rid if suffix else None))
    return tuple(rows)


TABLES: dict[str, Table] = {
    "cityscapes": Table(
        "cityscapes", "SC loss on Cityscapes (paper: 'Performance on Cityscapes')",
        _cityscapes_rows(), "data/synthetic_cityscapes",
        "Cityscapes with *_gtFine_labelTrainIds.png (tools/data/cityscapes_to_trainids.py; "
        "see data/README.md)", "Paper: GPUs x batch/GPU, iters"),
    "teleconf": Table(
        "teleconf", "PP-HumanSeg models with and without SCL on teleconferencing data",
        _teleconf_rows(), "data/synthetic_humanseg",
        "PP-HumanSeg14K (train.txt/val.txt lists; see data/README.md), or --synthetic for the "
        "synthetic teleconferencing set (tools/data/make_synthetic_humanseg.py)",
        "14K recipe (paper's unknown): GPUs x batch, iters"),
}


def get_table(name: str) -> Table:
    if name not in TABLES:
        raise ConfigError(f"--table {name}: unknown table; choose one of {', '.join(TABLES)}.")
    return TABLES[name]


def select_rows(table: Table, only: list[str] | None) -> list[Row]:
    """The rows named by ``--only`` (in table order), or all rows."""
    if not only:
        return list(table.rows)
    wanted = {table.row(r).id for r in only}
    return [r for r in table.rows if r.id in wanted]
