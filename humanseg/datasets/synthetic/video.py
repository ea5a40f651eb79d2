"""A synthetic teleconferencing video with per-frame labels (the video bench's and the demo's clip).

The frames come from humanseg's synthetic portrait generator (people drawn in rooms, with smooth
motion inside a clip); the clips are written one after the other into one mp4 (mp4v), so decoding
is real video decoding, and the labels are kept exactly (uint8, 0 background, 1 person) in a
compressed ``labels.npz`` beside it, with the first frame index of each clip.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass

import cv2
import numpy as np

from humanseg.datasets.io import read_label
from humanseg.datasets.synthetic.humanseg import make_synthetic_humanseg
from humanseg.errors import DataError

FOURCC = "mp4v"


@dataclass
class VideoClip:
    """A generated video and its labels."""
    video_path: str
    labels: np.ndarray         # uint8 [N, H, W]
    clip_starts: list[int]     # first frame index of each synthetic clip
    fps: float

    @property
    def size(self) -> tuple[int, int]:
        """(width, height)"""
        return int(self.labels.shape[2]), int(self.labels.shape[1])

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def make_video_clip(out_dir: str, num_clips: int = 4, frames_per_clip: int = 75,
                    size: tuple[int, int] = (640, 360), seed: int = 1234, fps: float = 30.0) -> VideoClip:
    """Writes (or reuses, when the same parameters made it) ``video.mp4`` + ``labels.npz``.

    Args:
        out_dir: Folder for the video, its labels and the generator's frames.
        num_clips: Synthetic clips (one person and room each), concatenated in order.
        frames_per_clip: Frames per clip; the generator spreads one clip's motion over them.
        size: Frame size (width, height).
        seed: Generator seed (the training set uses 0, so the default 1234 gives unseen clips).
        fps: Frame rate written into the mp4.
    """
    params = {"num_clips": num_clips, "frames_per_clip": frames_per_clip, "size": list(size),
              "seed": seed, "fps": fps, "fourcc": FOURCC, "version": 1}
    video_path = os.path.join(out_dir, "video.mp4")
    labels_path = os.path.join(out_dir, "labels.npz")
    params_path = os.path.join(out_dir, "params.json")
    if os.path.isfile(params_path) and os.path.isfile(labels_path) and os.path.isfile(video_path):
        with open(params_path) as f:
            if json.load(f) == params:
                return load_video_clip(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    frames_dir = os.path.join(out_dir, "frames")
    make_synthetic_humanseg(frames_dir, num_clips=num_clips, frames_per_clip=frames_per_clip,
                            size=size, seed=seed, splits=(0.0, 0.0, 1.0), progress=False)
    with open(os.path.join(frames_dir, "test.txt")) as f:
        pairs = [line.split() for line in f if line.strip()]   # sorted: clip, then frame
    writer = cv2.VideoWriter(video_path, cv2.VideoWriter_fourcc(*FOURCC), fps, tuple(size))
    if not writer.isOpened():
        raise DataError(f"OpenCV cannot write {FOURCC} video to {video_path}: this OpenCV build has "
                        "no such encoder; install opencv-python-headless from PyPI")
    labels, starts, last_clip = [], [], None
    for i, (image, label) in enumerate(pairs):
        clip = os.path.basename(image).rsplit("_", 1)[0]
        if clip != last_clip:
            starts.append(i)
            last_clip = clip
        writer.write(cv2.imread(os.path.join(frames_dir, image), cv2.IMREAD_COLOR))
        labels.append(read_label(os.path.join(frames_dir, label)))
    writer.release()
    np.savez_compressed(labels_path, labels=np.stack(labels).astype(np.uint8),
                        clip_starts=np.asarray(starts, np.int64), fps=np.float64(fps))
    shutil.rmtree(frames_dir)
    with open(params_path, "w") as f:
        json.dump(params, f)
    return load_video_clip(out_dir)


def load_video_clip(out_dir: str) -> VideoClip:
    """Reads a folder written by ``make_video_clip``."""
    data = np.load(os.path.join(out_dir, "labels.npz"))
    return VideoClip(os.path.join(out_dir, "video.mp4"), data["labels"],
                     [int(s) for s in data["clip_starts"]], float(data["fps"]))
