"""Segment images with trained weights: writes mask PNGs, pseudo-colour maps and overlays."""
import argparse
import os

import _bootstrap  # noqa: F401

from humanseg.cli import add_common_args, load_checked_config, run_tool, set_device
from humanseg.cvlibs.builder import SegBuilder
from humanseg.engine.predict import list_images, predict
from humanseg.errors import ConfigError


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    add_common_args(p)
    p.add_argument("--model_path", default=None,
                   help="weights: .pdparams, a folder holding one, an archive, a URL or zoo:NAME")
    p.add_argument("--image_path", required=True, help="an image file or a folder of images")
    p.add_argument("--save_dir", default="output/result")
    return p.parse_args(argv)


@run_tool
def main(argv=None):
    args = parse_args(argv)
    if not args.model_path:
        raise ConfigError("--model_path is required: give the .pdparams of a trained model.")
    cfg = load_checked_config(args.config, args.opts, required=("model",))
    set_device(args.device)
    builder = SegBuilder(cfg, weights=args.model_path)
    transforms = builder.eval_transforms  # preprocessing mistakes before the weights load
    images = list_images(args.image_path)
    root = args.image_path if os.path.isdir(args.image_path) else None
    results = predict(builder.model, transforms, images, args.save_dir, image_root=root)
    print(f"{len(results)} image(s) segmented; results in {os.path.abspath(args.save_dir)} "
          f"(mask/, pseudo_color/, overlay/)")


if __name__ == "__main__":
    main()
