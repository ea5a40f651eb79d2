"""Segment images with trained weights: writes mask PNGs, pseudo-colour maps and overlays."""
import argparse
import os

import _bootstrap  # noqa: F401

from humanseg.cli import add_common_args, load_checked_config, run_tool, set_device
from humanseg.cvlibs.builder import SegBuilder
from humanseg.cvlibs.registry import TRANSFORMS, build
from humanseg.engine.predict import list_images, predict
from humanseg.errors import ConfigError
from humanseg.transforms import Compose
from humanseg.utils.weights import load_pretrained


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    add_common_args(p)
    p.add_argument("--model_path", default=None, help="weights (.pdparams or a folder holding one)")
    p.add_argument("--image_path", required=True, help="an image file or a folder of images")
    p.add_argument("--save_dir", default="output/result")
    return p.parse_args(argv)


def eval_transforms(cfg: dict) -> Compose:
    """The export transforms, else the val_dataset's, as PaddleSeg's predict uses them."""
    section = (cfg.get("export") or {}).get("transforms") or \
        (cfg.get("val_dataset") or {}).get("transforms")
    if section is None:
        raise ConfigError("no transforms to preprocess images: add export.transforms or "
                          "val_dataset.transforms to the config.")
    img_channels = (cfg.get("val_dataset") or {}).get("img_channels", 3)
    return Compose(build(section, TRANSFORMS, "val_dataset.transforms"), img_channels=img_channels)


@run_tool
def main(argv=None):
    args = parse_args(argv)
    if not args.model_path:
        raise ConfigError("--model_path is required: give the .pdparams of a trained model.")
    cfg = load_checked_config(args.config, args.opts, required=("model",))
    set_device(args.device)
    model = SegBuilder(cfg).model
    load_pretrained(model, args.model_path)
    images = list_images(args.image_path)
    root = args.image_path if os.path.isdir(args.image_path) else None
    results = predict(model, eval_transforms(cfg), images, args.save_dir, image_root=root)
    print(f"{len(results)} image(s) segmented; results in {os.path.abspath(args.save_dir)} "
          f"(mask/, pseudo_color/, overlay/)")


if __name__ == "__main__":
    main()
