"""Make a synthetic teleconferencing video (mp4) with exact per-frame person labels (labels.npz):
consecutive clips of people drawn in rooms, for trying deploy/python/video.py and for the video
bench. Frames come from the same generator as the training set, with another seed by default."""
import argparse
import os

import _bootstrap  # noqa: F401
from _bootstrap import ROOT

from humanseg.cli import run_tool
from humanseg.datasets.synthetic.video import make_video_clip
from humanseg.errors import ConfigError


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out_dir", default=os.path.join(ROOT, "data", "synthetic_video"),
                   help="folder for video.mp4, labels.npz and params.json")
    p.add_argument("--num_clips", type=int, default=4)
    p.add_argument("--frames_per_clip", type=int, default=75)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=360)
    p.add_argument("--seed", type=int, default=1234,
                   help="generator seed (the training set uses 0, so 1234 gives unseen people)")
    p.add_argument("--fps", type=float, default=30.0)
    return p.parse_args(argv)


@run_tool
def main(argv=None):
    args = parse_args(argv)
    for name in ("num_clips", "frames_per_clip", "width", "height"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name} must be >= 1, got {getattr(args, name)}")
    clip = make_video_clip(args.out_dir, num_clips=args.num_clips,
                           frames_per_clip=args.frames_per_clip, size=(args.width, args.height),
                           seed=args.seed, fps=args.fps)
    print(f"{len(clip)} frames of {clip.size[0]}x{clip.size[1]} at {clip.fps:g} fps: "
          f"{clip.video_path} (labels: {os.path.join(args.out_dir, 'labels.npz')})")


if __name__ == "__main__":
    main()
