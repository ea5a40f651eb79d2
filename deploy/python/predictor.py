"""Inference backends (onnxruntime, Paddle Inference) and the ``Predictor`` API.

``Predictor(model_dir, backend, device, threads)`` reads deploy.yaml, preprocesses a BGR image
with the exported transforms, runs the network and maps the output back to the image:
``predict_probs`` gives float32 [C, H, W] probabilities at the original size and
``predict_label`` int32 [H, W]. Its three steps, ``preprocess``, ``run`` and ``postprocess``,
are also callable one by one (the video pipeline times them separately).

Backends are imported lazily: onnxruntime only for ``backend="onnx"``, paddle.inference only for
``backend="paddle"``. A folder with only a Paddle program (PaddleSeg's released folders) runs on
onnxruntime too: it is converted once and cached (onnx_conversion.py, which needs paddle2onnx and
paddlepaddle for that one run).
"""
from __future__ import annotations

import os

import numpy as np

from deploy_config import DeployConfig, load_deploy_config
from preprocess import Preprocessor, reverse, softmax, to_logits

BACKENDS = ("onnx", "paddle")
DEVICES = ("cpu", "gpu")
TRT_PRECISIONS = ("fp32", "fp16")


def default_backend() -> str:
    """'onnx' when onnxruntime is importable (4-9x faster on CPU here), else 'paddle'."""
    try:
        import onnxruntime  # noqa: F401
        return "onnx"
    except ImportError:
        return "paddle"


class OnnxBackend:
    """onnxruntime session on ``model.onnx``.

    Args:
        onnx_file: Path of the ONNX model.
        device: 'cpu', or 'gpu' (CUDAExecutionProvider; an error when onnxruntime-gpu is missing).
        threads: intra-op threads (None: onnxruntime's default, one per core).
        spin: Let idle worker threads spin-wait (onnxruntime's default). Off here by default:
            on a loaded 2-core machine spinning made PP-HumanSeg-Lite 1.3-1.6x slower (measured
            by the bench session, and 110 -> 79 ms with 2 threads in a check of ours).
    """

    name = "onnx"

    def __init__(self, onnx_file: str, device: str = "cpu", threads: int | None = None,
                 spin: bool = False):
        try:
            import onnxruntime as ort
        except ImportError:
            raise RuntimeError("--backend onnx needs onnxruntime: pip install onnxruntime "
                               "(or use --backend paddle)") from None
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = int(threads)
            opts.inter_op_num_threads = 1
        opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3  # paddle2onnx leaves unused initializers: no warning per each
        providers = ["CPUExecutionProvider"]
        if device == "gpu":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise RuntimeError("--device gpu with --backend onnx needs onnxruntime-gpu "
                                   "(CUDAExecutionProvider is not available: pip install "
                                   "onnxruntime-gpu), or use --device cpu")
            providers = ["CUDAExecutionProvider", "CPUExecutionProvider"]
        self.session = ort.InferenceSession(onnx_file, sess_options=opts, providers=providers)
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [o.name for o in self.session.get_outputs()]

    def run(self, x: np.ndarray) -> np.ndarray:
        """First output of the network for the NCHW float32 batch ``x``."""
        return self.session.run(self.output_names[:1], {self.input_name: x})[0]


class PaddleBackend:
    """Paddle Inference predictor on ``model.json`` + ``model.pdiparams``.

    On CPU oneDNN is enabled. For a Paddle 3 program (``model.json``) without the
    ``onednn_placement_pass``: Paddle 3.3's oneDNN placement crashes on its interpolate ops
    (reference: ecosystem.md §1). A legacy ``model.pdmodel`` keeps every pass. One thread is the
    default (two were slower on a 2-core machine). On GPU, ``use_trt`` turns on the TensorRT
    subgraph engine in ``trt_precision``; its dynamic-shape range is the network size when
    deploy.yaml fixes it (``trt_shape``, (h, w)), else 32..2048 px per side (opt 512). That path is
    written to Paddle's documented API but untested here (no GPU).
    """

    name = "paddle"

    def __init__(self, model_file: str, params_file: str, device: str = "cpu",
                 threads: int | None = None, use_trt: bool = False,
                 trt_precision: str = "fp32", input_name: str = "x",
                 trt_shape: tuple[int, int] | None = None):
        try:
            import paddle.inference as pi
        except ImportError:
            raise RuntimeError("--backend paddle needs paddlepaddle: pip install paddlepaddle "
                               "(or use --backend onnx with model.onnx)") from None
        config = pi.Config(model_file, params_file)
        if device == "gpu":
            config.enable_use_gpu(256, 0)
            if use_trt:
                precision = {"fp32": pi.PrecisionType.Float32,
                             "fp16": pi.PrecisionType.Half}[trt_precision]
                config.enable_tensorrt_engine(workspace_size=1 << 30, max_batch_size=1,
                                              min_subgraph_size=3, precision_mode=precision,
                                              use_static=False, use_calib_mode=False)
                if trt_shape:
                    fixed = {input_name: [1, 3, int(trt_shape[0]), int(trt_shape[1])]}
                    config.set_trt_dynamic_shape_info(fixed, fixed, fixed)
                else:
                    config.set_trt_dynamic_shape_info({input_name: [1, 3, 32, 32]},
                                                      {input_name: [1, 3, 2048, 2048]},
                                                      {input_name: [1, 3, 512, 512]})
        else:
            if use_trt:
                raise RuntimeError("--use_trt needs --device gpu (TensorRT runs on NVIDIA GPUs)")
            config.disable_gpu()
            config.enable_onednn()
            if not model_file.endswith(".pdmodel"):
                # Paddle 3 programs only: the placement pass crashes on their interpolate ops.
                # A legacy (Paddle 2.x) program needs it: without it the oneDNN fuse passes
                # break it ("fused_elementwise_add" broadcast mismatch on PP-HumanSeg-Lite,
                # "oneDNN activation fuses require use_onednn=True" on MobileSeg). With every
                # pass it matches Paddle 2.6 within 1.2e-6 (docs/deploy.md).
                config.delete_pass("onednn_placement_pass")
            config.set_cpu_math_library_num_threads(int(threads or 1))
        config.disable_glog_info()
        config.switch_ir_optim(True)
        self.predictor = pi.create_predictor(config)
        self.input_handle = self.predictor.get_input_handle(self.predictor.get_input_names()[0])
        self.output_handle = self.predictor.get_output_handle(
            self.predictor.get_output_names()[0])

    def run(self, x: np.ndarray) -> np.ndarray:
        """First output of the network for the NCHW float32 batch ``x``."""
        self.input_handle.reshape(list(x.shape))
        self.input_handle.copy_from_cpu(np.ascontiguousarray(x))
        self.predictor.run()
        return self.output_handle.copy_to_cpu()


def add_backend_args(parser) -> None:
    """The runtime flags shared by infer.py and video.py (``--backend --device --threads --spin
    --use_trt --trt_precision``)."""
    parser.add_argument("--backend", choices=("onnx", "paddle"), default=None,
                        help="onnx (onnxruntime; default when installed) or paddle (Paddle "
                             "Inference)")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads of the backend")
    parser.add_argument("--spin", action="store_true",
                        help="let onnxruntime's idle threads spin-wait (faster only on idle "
                             "cores)")
    parser.add_argument("--use_trt", action="store_true",
                        help="TensorRT with --backend paddle --device gpu (untested here)")
    parser.add_argument("--trt_precision", choices=("fp32", "fp16"), default="fp32")


def converted_onnx(cfg: DeployConfig, threads: int | None = None) -> str:
    """The cached ONNX conversion of a folder that holds only a Paddle program, checked once
    against Paddle Inference (onnx_conversion.py)."""
    from onnx_conversion import cached_onnx
    return cached_onnx(
        cfg, reference=lambda x: PaddleBackend(cfg.model_file, cfg.params_file).run(x),
        run_onnx=lambda path, x: OnnxBackend(path, threads=threads).run(x))


def create_backend(cfg: DeployConfig, backend: str = "onnx", device: str = "cpu",
                   threads: int | None = None, use_trt: bool = False,
                   trt_precision: str = "fp32", spin: bool = False):
    """The backend object for an exported folder; clear errors for unknown names. A folder
    without model.onnx is converted for ``backend='onnx'`` on first use (``converted_onnx``)."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {list(BACKENDS)}; got {backend!r}")
    if device not in DEVICES:
        raise ValueError(f"device must be one of {list(DEVICES)}; got {device!r}")
    if trt_precision not in TRT_PRECISIONS:
        raise ValueError(f"trt_precision must be one of {list(TRT_PRECISIONS)}; "
                         f"got {trt_precision!r}")
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive int; got {threads!r}")
    if backend == "onnx":
        if use_trt:
            raise ValueError("--use_trt applies to --backend paddle only")
        if cfg.onnx_file is None:  # a Paddle-only folder (PaddleSeg's releases)
            cfg.onnx_file = converted_onnx(cfg, threads)
        return OnnxBackend(cfg.onnx_file, device, threads, spin)
    net = cfg.network_size()
    return PaddleBackend(cfg.model_file, cfg.params_file, device, threads, use_trt,
                         trt_precision, cfg.input_name, (net[1], net[0]) if net else None)


class Predictor:
    """An exported model ready to segment BGR images.

    Args:
        model_dir: Folder holding deploy.yaml (written by tools/export.py or PaddleSeg).
        backend: 'onnx' (onnxruntime; needs model.onnx) or 'paddle' (Paddle Inference).
        device: 'cpu' or 'gpu'.
        threads: CPU threads (None: onnxruntime's default; 1 for Paddle Inference).
        use_trt: TensorRT for Paddle Inference on GPU (untested here).
        trt_precision: 'fp32' or 'fp16' with ``use_trt``.
        onnx_path: Use this ONNX file instead of deploy.yaml's (e.g. a quantized copy).
        spin: onnxruntime worker threads spin-wait when idle (off by default: see OnnxBackend).
    """

    def __init__(self, model_dir: str, backend: str = "onnx", device: str = "cpu",
                 threads: int | None = None, use_trt: bool = False, trt_precision: str = "fp32",
                 onnx_path: str | None = None, spin: bool = False):
        self.config = load_deploy_config(model_dir)
        if onnx_path is not None:
            if not os.path.isfile(onnx_path):
                raise FileNotFoundError(f"onnx_path {onnx_path} does not exist")
            self.config.onnx_file = onnx_path
        self.backend_name = backend
        self.backend = create_backend(self.config, backend, device, threads, use_trt,
                                      trt_precision, spin)
        self.preprocessor = Preprocessor(self.config.transforms, self.config.color_order)
        self.num_classes = self.config.num_classes

    # -- stages
    def preprocess(self, image_bgr: np.ndarray) -> tuple[np.ndarray, list]:
        """[1, C, H, W] float32 network input and trans_info for an HxWx3 uint8 BGR image."""
        if not isinstance(image_bgr, np.ndarray) or image_bgr.ndim not in (2, 3):
            raise ValueError(f"expected an HxWx3 BGR image array; got {type(image_bgr)}")
        return self.preprocessor(image_bgr)

    def run(self, x: np.ndarray) -> np.ndarray:
        """Raw network output for the batch ``x`` (probabilities, labels or logits); labels
        as [N, 1, h, w] (PaddleSeg 2.x's argmax export gives [N, h, w])."""
        out = self.backend.run(x)
        if self.config.output_op == "argmax" and out.ndim == 3:
            out = out[:, None]
        return out

    def postprocess(self, output: np.ndarray, trans_info: list,
                    input_hw: tuple[int, int] | None = None) -> np.ndarray:
        """float32 [C, H, W] probabilities at the original size from one raw output [C|1, h, w].

        ``input_hw``: the network input's (h, w), needed when the output is smaller than the
        input (an export with ``--skip_final_resize``) and the transforms pad."""
        op = self.config.output_op
        same = input_hw is None or tuple(output.shape[-2:]) == tuple(input_hw)
        if op == "argmax":
            label = reverse(output.astype(np.float32), trans_info, nearest=True,
                            input_hw=input_hw)[0]
            label = np.rint(label).astype(np.int64)
            n = self.num_classes or max(2, int(label.max()) + 1)  # PaddleSeg folders lack it
            return (np.arange(n)[:, None, None] == label[None]).astype(np.float32)
        out = output.astype(np.float32, copy=False)
        if op == "softmax" and same and not any(kind == "resize" for kind, _ in trans_info):
            return reverse(out, trans_info)  # crops only: the probabilities as they are
        # as dygraph: resize, softmax
        return softmax(reverse(to_logits(out, op), trans_info, input_hw=input_hw))

    # -- API
    def predict_probs(self, image_bgr: np.ndarray) -> np.ndarray:
        """float32 [C, H, W] class probabilities at the size of ``image_bgr`` (HxWx3 uint8 BGR);
        one-hot for models exported with argmax."""
        x, info = self.preprocess(image_bgr)
        return self.postprocess(self.run(x)[0], info, x.shape[2:])

    def predict_label(self, image_bgr: np.ndarray) -> np.ndarray:
        """int32 [H, W] class indices at the size of ``image_bgr``."""
        x, info = self.preprocess(image_bgr)
        out, hw = self.run(x)[0], x.shape[2:]
        if self.config.output_op == "argmax":
            return np.rint(reverse(out.astype(np.float32), info, nearest=True,
                                   input_hw=hw)[0]).astype(np.int32)
        if self.config.output_op == "none":  # softmax is monotonic: argmax of the logits
            return np.argmax(reverse(out.astype(np.float32, copy=False), info, input_hw=hw),
                             0).astype(np.int32)
        return np.argmax(self.postprocess(out, info, hw), axis=0).astype(np.int32)
