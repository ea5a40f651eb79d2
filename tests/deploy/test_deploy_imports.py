"""deploy/python ships on its own: it imports only numpy, cv2, yaml, the standard library, its
own modules and (lazily) the chosen backend, and paddle2onnx for a one-time conversion - never
humanseg."""
import ast
import os
import subprocess
import sys

from deploy_helpers import DEPLOY

ALLOWED = {"numpy", "cv2", "yaml", "onnxruntime", "paddle", "paddle2onnx"}
OWN = {os.path.splitext(f)[0] for f in os.listdir(DEPLOY) if f.endswith(".py")}


def test_source_imports_only_allowed_modules():
    assert {"infer", "video", "predictor", "preprocess", "compositing", "smoothing",
            "deploy_config"} <= OWN
    stdlib = sys.stdlib_module_names
    for name in sorted(OWN):
        path = os.path.join(DEPLOY, name + ".py")
        tree = ast.parse(open(path, encoding="utf-8").read(), path)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [(node.module or "").split(".")[0]]
            else:
                continue
            for mod in mods:
                assert mod in ALLOWED | OWN or mod in stdlib, f"{path}:{node.lineno} imports {mod}"
                assert mod != "humanseg"
    # the backends are imported inside functions only (lazily)
    for name in sorted(OWN):
        tree = ast.parse(open(os.path.join(DEPLOY, name + ".py"), encoding="utf-8").read())
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mod = (node.names[0].name if isinstance(node, ast.Import)
                       else node.module or "").split(".")[0]
                assert mod not in ("onnxruntime", "paddle", "paddle2onnx"), \
                    f"{name}.py imports {mod} at top"


def test_runs_from_a_copy_without_humanseg_or_paddle(exported, tmp_path):
    """Copy the folder elsewhere and run it with humanseg and paddle made unimportable."""
    import shutil
    copy = tmp_path / "app"
    shutil.copytree(DEPLOY, copy, ignore=shutil.ignore_patterns("__pycache__"))
    code = f"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in ('humanseg', 'paddle', 'paddleseg'):
            raise ImportError('blocked ' + name)
sys.meta_path.insert(0, Block())
sys.path.insert(0, {str(copy)!r})
import numpy as np
import infer, video
p = infer.Predictor({exported!r}, backend='onnx')
probs = p.predict_probs(np.zeros((50, 70, 3), np.uint8))
assert probs.shape == (2, 50, 70)
assert not any(m.split('.')[0] in ('humanseg', 'paddle') for m in sys.modules)
print('ok')
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(tmp_path), timeout=120)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr
