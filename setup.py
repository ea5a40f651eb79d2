"""humanseg: PP-HumanSeg and the SC loss on PaddlePaddle, with PaddleSeg-compatible configs."""
import os
import re

from setuptools import find_packages, setup

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "humanseg", "__init__.py"), encoding="utf-8") as f:
    VERSION = re.search(r'__version__ = "([^"]+)"', f.read()).group(1)

INSTALL_REQUIRES = [
    "paddlepaddle==3.3.1",        # paddlepaddle-gpu on CUDA machines (install it instead)
    "numpy>=2,<2.4",              # numpy 2.4 breaks paddle.flops (int() of 1-element tensors)
    "opencv-python-headless",     # image I/O and geometry; the headless build has no GUI deps
    "Pillow",                     # palette ('P') label PNGs read as class indices
    "pyyaml",
    "tqdm",
    "connected-components-3d",    # fast connected-component labelling for the SC loss
    "visualdl==2.5.3",            # optional training dashboards (checked with paddle 3.3.1)
]

EXTRAS_REQUIRE = {
    # paddle2onnx reads Paddle 3's model.json directly; onnxruntime checks each export and is the
    # default CPU backend of deploy/ (4-9x faster than Paddle Inference for the portrait models).
    # ml_dtypes: onnxruntime.quantization imports it (tools/quantize_onnx.py).
    "export": ["paddle2onnx==2.1.0", "onnxruntime", "ml_dtypes"],
    # paddleseg==2.8.0 is the parity oracle of the tests; install it with `pip install --no-deps
    # paddleseg==2.8.0` (its own pins pull an opencv built for numpy 1). These are its imports.
    "test": ["pytest", "six", "scipy", "filelock", "prettytable", "scikit-learn", "matplotlib"],
    # the figures of the SCL experiment (tools/experiments/plot_scl_teleconf.py); visualdl
    # already pulls matplotlib in, this names it for the one place that imports it.
    "experiments": ["matplotlib>=3.5"],
}

setup(
    name="humanseg",
    version=VERSION,
    description=__doc__.strip(),
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["humanseg", "humanseg.*"]),
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
)
