"""Replace the background of a video file or a webcam stream with an exported portrait model.

    python deploy/python/video.py --model_dir output/export --video_path in.mp4 \\
        --save_path out.mp4 --background beach.jpg --smooth ema

API: ``VideoPipeline`` runs one frame through stages that are public methods, so a benchmark can
time each one (these names are stable):

    pipe = VideoPipeline("output/export", background="green", smooth="ema", infer_every=1)
    pipe.open_source(video_path="in.mp4")        # or camera_id=0
    frame = pipe.read()                           # decode: HxWx3 uint8 BGR, None at the end
    prep = pipe.preprocess(frame)                 # letterbox + deploy.yaml transforms (Prepared)
    alpha = pipe.infer(prep)                      # network + back to the frame: HxW float32 0..1
    alpha = pipe.smooth(alpha, frame)             # temporal smoothing (--smooth)
    out = pipe.composite(frame, alpha)            # background replacement (+ fps overlay)
    pipe.write(out)                               # encode (after pipe.open_writer(path, fps))
    pipe.process(frame) -> out                    # preprocess .. composite in one call
    pipe.run(max_frames) -> stats                 # the whole loop, each stage timed
    pipe.reset()                                  # forget the temporal state; pipe.close()

``pipe.last_inferred`` tells whether the last ``infer`` ran the network (with ``infer_every=K``
the network runs on every K-th frame; between, the last alpha is carried along DIS optical flow).
Frames are letterboxed (padded evenly, grey) to the network's aspect ratio before the
transforms, so portrait and landscape frames are not distorted; the padding is cut from the alpha.
The fps printed at the end is end to end: decode, preprocess, inference, smoothing, composite and
encode of every frame, over wall-clock time.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from compositing import alpha_from_output, composite, letterbox, parse_background  # noqa: E402
from deploy_config import add_model_args, model_from_args  # noqa: E402
from predictor import Predictor, add_backend_args, default_backend  # noqa: E402
from preprocess import reverse  # noqa: E402
from smoothing import SMOOTH_MODES, DISFlow, make_smoother  # noqa: E402

def unletterbox_chw(arr: np.ndarray, pads: tuple[int, int, int, int]) -> np.ndarray:
    """``unletterbox`` for a [C, H, W] array."""
    top, bottom, left, right = pads
    return arr[:, top:arr.shape[1] - bottom, left:arr.shape[2] - right]


STAGES = ("read", "preprocess", "infer", "smooth", "composite", "write")


@dataclass
class Prepared:
    """What ``preprocess`` hands to ``infer``: the network input (None when the network is
    skipped for this frame), trans_info, the letterbox padding and the frame size."""

    x: np.ndarray | None
    trans_info: list
    pads: tuple[int, int, int, int]
    frame_shape: tuple[int, int]


def display_available() -> bool:
    """Whether a window can be shown (a display on Linux; always assumed on macOS/Windows)."""
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


class VideoPipeline:
    """Background replacement, one frame at a time.

    Args:
        model_dir: Exported model folder (deploy.yaml), or a ready ``Predictor``.
        background: ``--background`` spec (image, video, blur[:K], green, #RRGGBB) or an object
            with ``get(frame)``.
        smooth: 'none', 'ema' or 'flow'.
        smooth_weight: Weight of the new alpha where the picture is still (lag vs flicker).
        infer_every: Run the network on every K-th frame, carrying the alpha by flow between.
        backend, device, threads, onnx_path, use_trt, trt_precision, spin: Passed to
            ``Predictor``.
        use_letterbox: Pad frames to the network's aspect ratio (when it has a fixed one).
        show_fps: Draw the measured fps on the output frames.
    """

    def __init__(self, model_dir, background="green", smooth: str = "ema",
                 smooth_weight: float = 0.1, infer_every: int = 1, backend: str | None = None,
                 device: str = "cpu", threads: int | None = None, onnx_path: str | None = None,
                 use_letterbox: bool = True, show_fps: bool = False, use_trt: bool = False,
                 trt_precision: str = "fp32", spin: bool = False):
        if not isinstance(infer_every, int) or infer_every < 1:
            raise ValueError(f"--infer_every must be an int >= 1; got {infer_every!r}")
        if isinstance(model_dir, Predictor):
            self.predictor = model_dir
        else:
            self.predictor = Predictor(model_dir, backend or default_backend(), device, threads,
                                       use_trt, trt_precision, onnx_path, spin)
        self.background = (parse_background(background) if isinstance(background, str)
                           else background)
        net = self.predictor.config.network_size()
        self.aspect = net[0] / net[1] if (net and use_letterbox) else None
        self.infer_every = infer_every
        self.show_fps = show_fps
        self.flow = None
        if smooth == "flow" or infer_every > 1:
            try:
                self.flow = DISFlow()
            except RuntimeError as e:
                print(f"warning: {e}; --infer_every repeats the last mask instead of moving it",
                      file=sys.stderr)
        self.smoother = make_smoother(smooth, smooth_weight, flow=self.flow)
        self.cap = None
        self.writer = None
        self._writer_path: str | None = None
        self._writer_size: tuple[int, int] | None = None
        self.source_fps = 30.0
        self.reset()

    # -- state
    def reset(self) -> None:
        """Start over: no previous alpha, frame, flow or fps."""
        self.frame_index = -1
        self.last_alpha: np.ndarray | None = None
        self.last_inferred = False
        self._flow_index = -2
        self._flow_value = None
        self._last_time: float | None = None
        self.fps = 0.0
        self.smoother.reset()
        if self.flow is not None:
            self.flow.reset()

    # -- source and sink
    def open_source(self, video_path: str | None = None, camera_id: int | None = None) -> None:
        """Open a video file or a webcam; clear errors when it cannot be opened."""
        if (video_path is None) == (camera_id is None):
            raise ValueError("give exactly one of --video_path and --camera_id")
        if video_path is not None:
            if not os.path.isfile(video_path):
                raise FileNotFoundError(f"--video_path {video_path}: no such file")
            cap = cv2.VideoCapture(video_path)
            if not cap.isOpened():
                raise RuntimeError(f"--video_path {video_path}: OpenCV cannot decode this video")
        else:
            cap = cv2.VideoCapture(int(camera_id))
            if not cap.isOpened():
                raise RuntimeError(f"cannot open camera {camera_id} (--camera_id {camera_id}): "
                                   "check it is connected and not used by another program, or "
                                   "try another id")
        self.cap = cap
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.source_fps = fps if fps and 1 <= fps <= 240 else 30.0

    def open_writer(self, path: str, fps: float | None = None) -> None:
        """Write the output frames to ``path`` (mp4v); the file opens at the first frame."""
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        self._writer_path, self._writer_fps = path, fps or self.source_fps

    def read(self) -> np.ndarray | None:
        """Decode the next frame (HxWx3 uint8 BGR), None at the end of the stream."""
        ok, frame = self.cap.read()
        return frame if ok else None

    def write(self, out: np.ndarray) -> None:
        """Encode one output frame (resized to the first frame's size if the stream changes size:
        a video file has one frame size)."""
        if self._writer_path is None:
            raise RuntimeError("call open_writer(path) before write()")
        if self.writer is None:
            h, w = out.shape[:2]
            self._writer_size = (w, h)
            self.writer = cv2.VideoWriter(self._writer_path, cv2.VideoWriter_fourcc(*"mp4v"),
                                          self._writer_fps, (w, h))
            if not self.writer.isOpened():
                raise RuntimeError(f"--save_path {self._writer_path}: OpenCV cannot write this "
                                   "video (use a .mp4 or .avi path in a writable folder)")
        if (out.shape[1], out.shape[0]) != self._writer_size:
            out = cv2.resize(out, self._writer_size, interpolation=cv2.INTER_AREA)
        self.writer.write(out)

    def close(self) -> None:
        """Release the source, the writer and a video background."""
        for obj in (self.cap, self.writer):
            if obj is not None:
                obj.release()
        self.cap = self.writer = None
        if hasattr(self.background, "close"):
            self.background.close()

    # -- per-frame stages
    def _frame_flow(self, frame: np.ndarray):
        """This frame's flow back to the previous one, computed at most once per frame."""
        if self.flow is None:
            return None
        if self._flow_index != self.frame_index:
            self._flow_index = self.frame_index
            try:
                self._flow_value = self.flow.step(frame)
            except cv2.error as e:
                print(f"warning: optical flow failed ({e}); continuing without it",
                      file=sys.stderr)
                self.flow = None
                self._flow_value = None
        return self._flow_value

    def _track_frame(self, frame: np.ndarray) -> None:
        """On a network frame: the flow smoother needs this frame's flow; otherwise only the
        next propagated frame needs this one as its previous frame, so no flow is computed
        (with --infer_every 2 and ema smoothing that halves the DIS calls)."""
        if self.flow is None or self._flow_index == self.frame_index:
            return
        if self.smoother.name == "flow":
            self._frame_flow(frame)
            return
        self._flow_index, self._flow_value = self.frame_index, None
        self.flow.observe(frame)

    def preprocess(self, frame: np.ndarray) -> Prepared:
        """Letterbox and transform ``frame``; skips the transforms on frames the network skips."""
        self.frame_index += 1
        shape = frame.shape[:2]
        run = (self.frame_index % self.infer_every == 0 or self.last_alpha is None
               or self.last_alpha.shape != shape)
        if not run:
            return Prepared(None, [], (0, 0, 0, 0), shape)
        padded, pads = letterbox(frame, self.aspect)
        x, info = self.predictor.preprocess(padded)
        return Prepared(x, info, pads, shape)

    def infer(self, prep: Prepared, frame: np.ndarray | None = None) -> np.ndarray:
        """Foreground alpha (HxW float32 in [0, 1]) at the frame size, before smoothing.

        Runs the network when ``prep.x`` is set; otherwise moves the last alpha along the optical
        flow of ``frame`` (or repeats it without flow)."""
        if prep.x is None:
            self.last_inferred = False
            flow = self._frame_flow(frame) if frame is not None else None
            alpha = self.last_alpha if flow is None else DISFlow.warp(self.last_alpha, flow)
        else:
            self.last_inferred = True
            if frame is not None:
                self._track_frame(frame)
            out = self.predictor.run(prep.x)[0]
            alpha = alpha_from_output(out, self.predictor.config.output_op,
                                      lambda a: unletterbox_chw(
                                          reverse(a, prep.trans_info, input_hw=prep.x.shape[2:]),
                                          prep.pads))
            alpha = np.ascontiguousarray(alpha)
        self.last_alpha = alpha
        return alpha

    def smooth(self, alpha: np.ndarray, frame: np.ndarray) -> np.ndarray:
        """Temporal smoothing of the alpha (``--smooth``); skipped on propagated frames."""
        if not self.last_inferred and self.frame_index > 0:
            self.smoother.observe(alpha, frame)
            return alpha
        if self.smoother.name == "flow":
            return self.smoother(alpha, frame, flow=self._frame_flow(frame))
        return self.smoother(alpha, frame)

    def composite(self, frame: np.ndarray, alpha: np.ndarray) -> np.ndarray:
        """The frame over the background with ``alpha``, and the fps overlay if asked."""
        out = composite(frame, alpha, self.background.get(frame))
        now = time.perf_counter()
        if self._last_time is not None:
            inst = 1.0 / max(now - self._last_time, 1e-6)
            self.fps = inst if self.fps == 0 else 0.9 * self.fps + 0.1 * inst
        self._last_time = now
        if self.show_fps:
            cv2.putText(out, f"{self.fps:.1f} fps", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8,
                        (255, 255, 255), 2, cv2.LINE_AA)
        return out

    def process(self, frame: np.ndarray) -> np.ndarray:
        """preprocess -> infer -> smooth -> composite for one frame."""
        alpha = self.infer(self.preprocess(frame), frame)
        return self.composite(frame, self.smooth(alpha, frame))

    # -- the loop
    def run(self, max_frames: int | None = None, window: bool = False) -> dict:
        """Process the opened source until it ends (or ``max_frames``), timing every stage.

        Returns ``{'frames', 'seconds', 'fps', 'stage_ms': {stage: mean ms per frame}}``.
        """
        totals = dict.fromkeys(STAGES, 0.0)
        frames = 0
        clock = time.perf_counter
        start = clock()
        while max_frames is None or frames < max_frames:
            t0 = clock()
            frame = self.read()
            t1 = clock()
            if frame is None:
                break
            prep = self.preprocess(frame)
            t2 = clock()
            alpha = self.infer(prep, frame)
            t3 = clock()
            alpha = self.smooth(alpha, frame)
            t4 = clock()
            out = self.composite(frame, alpha)
            t5 = clock()
            if self._writer_path is not None:
                self.write(out)
            t6 = clock()
            for name, a, b in zip(STAGES, (t0, t1, t2, t3, t4, t5), (t1, t2, t3, t4, t5, t6)):
                totals[name] += b - a
            frames += 1
            if window:
                cv2.imshow("humanseg", out)
                if cv2.waitKey(1) & 0xFF in (27, ord("q")):
                    break
        seconds = clock() - start
        return {"frames": frames, "seconds": seconds, "fps": frames / seconds if seconds else 0.0,
                "stage_ms": {k: 1000 * v / max(frames, 1) for k, v in totals.items()}}


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_model_args(p)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--video_path", help="input video file")
    src.add_argument("--camera_id", type=int, help="webcam index (0 = the default camera)")
    p.add_argument("--save_path", help="output video (.mp4); optional for a webcam")
    p.add_argument("--background", default="green",
                   help="image file, video file (looped), blur, blur:K, green or '#RRGGBB'")
    p.add_argument("--smooth", default="ema", choices=SMOOTH_MODES,
                   help="temporal smoothing of the mask (default ema)")
    p.add_argument("--smooth_weight", type=float, default=0.1,
                   help="weight of the new mask where the picture is still: lower = less "
                        "flicker, more lag (default 0.1)")
    p.add_argument("--infer_every", type=int, default=1,
                   help="run the network every K-th frame, moving the mask by optical flow "
                        "between (default 1)")
    add_backend_args(p)
    p.add_argument("--no_letterbox", action="store_true",
                   help="resize frames to the network size without padding (distorts)")
    p.add_argument("--headless", action="store_true",
                   help="no preview window (the default when no display is available)")
    p.add_argument("--max_frames", type=int, default=None, help="stop after N frames")
    p.add_argument("--show_fps", action="store_true", help="draw the fps on the output")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.video_path and not args.save_path:
            raise ValueError("--save_path is required with --video_path (e.g. out.mp4)")
        if args.max_frames is not None and args.max_frames < 1:
            raise ValueError("--max_frames must be >= 1")
        window = not args.headless and display_available()
        pipe = VideoPipeline(model_from_args(args), args.background, args.smooth,
                             args.smooth_weight, args.infer_every, args.backend, args.device,
                             args.threads,
                             use_letterbox=not args.no_letterbox, show_fps=args.show_fps,
                             use_trt=args.use_trt, trt_precision=args.trt_precision,
                             spin=args.spin)
        pipe.open_source(args.video_path, args.camera_id)
        if args.save_path:
            pipe.open_writer(args.save_path)
        if window:
            try:
                cv2.namedWindow("humanseg")
            except cv2.error:
                print("note: this OpenCV build has no GUI (opencv-python-headless); running "
                      "headless", file=sys.stderr)
                window = False
        if not window and not args.save_path:
            raise ValueError("without a window, give --save_path to keep the output")
        try:
            stats = pipe.run(args.max_frames, window)
        finally:
            pipe.close()
            if window:
                cv2.destroyAllWindows()
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    stages = ", ".join(f"{k} {v:.1f}" for k, v in stats["stage_ms"].items())
    print(f"backend {pipe.predictor.backend_name}, smooth {args.smooth}, infer_every "
          f"{args.infer_every}; ms per frame: {stages}")
    if args.save_path:
        print(f"saved {args.save_path}")
    print(f"frames {stats['frames']}, seconds {stats['seconds']:.2f}, fps {stats['fps']:.1f} "
          "(end to end: decode, preprocess, inference, smoothing, composite, encode)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
