"""SemanticConnectivityLoss: hand-computed values, exact gradients, optimisation, PaddleSeg 2.8.0
parity (mode 'paddleseg'), MixedLoss in a config, training and export of PP-HumanSeg-Lite."""
from __future__ import annotations

import numpy as np
import paddle
import pytest

from humanseg.cvlibs.registry import LOSSES, build
from humanseg.metrics.connectivity import compute_connectivity as connectivity
from humanseg.models.losses import MixedLoss, SemanticConnectivityLoss
from humanseg.models.losses.semantic_connectivity import backends

IGNORE = 255


def onehot_logits(pred: np.ndarray, num_classes: int, scale: float = 50.0,
                  dtype: str = "float32") -> paddle.Tensor:
    """Logits whose softmax is one-hot in float32 (scale 50: exp(-50) vanishes next to 1)."""
    x = np.eye(num_classes, dtype=dtype)[pred].transpose(0, 3, 1, 2) * scale
    return paddle.to_tensor(x.astype(dtype), stop_gradient=False)


def square(n: int = 1, size: int = 32) -> np.ndarray:
    g = np.zeros((n, size, size), np.int64)
    g[:, 4:12, 4:12] = 1
    return g


def _cases() -> dict:
    """name -> (pred, label, num_classes, paper value, PaddleSeg 2.8.0 value)."""
    g = square()
    speck = g.copy()
    speck[0, 20, 20] = 1
    split = np.zeros_like(g)
    split[0, 4:12, 4:8] = 1
    split[0, 4:12, 9:12] = 1
    disjoint = np.zeros_like(g)
    disjoint[0, 20:28, 20:28] = 1
    two = np.zeros_like(g)
    two[0, 2:12, 2:12] = 1
    two[0, 18:28, 18:28] = 1
    three = g.copy()
    three[0, 20:30, 20:30] = 2
    fp = g.copy()
    fp[0, 20:24, 20:24] = 2
    return {
        "perfect binary": (g, g, 2, 0.0, 0.5),
        "perfect two squares": (two, two, 2, 0.0, 0.5),
        "perfect 3-class": (three, three, 3, 0.0, 0.0),
        # class 1: 1 pair (IoU 1) + 1 lone speck -> 1 - 1/2; class 0: IoU 959/960
        "speck": (speck, g, 2, (0.5 + 1 / 960) / 2, 0.75),
        # class 1: IoUs 32/64 and 24/64 averaged; class 0: 960/968
        "split in two": (split, g, 2, (1 - 0.4375 + 8 / 968) / 2, 0.78125),
        # class 1: missed component (s = 0) and a lone one -> 1; class 0: IoU 896/1024
        "disjoint": (disjoint, g, 2, (1 + 128 / 1024) / 2, 1.0),
        # class 1 missed: 1 + 200/1024; class 0: 824/1024
        "missed class": (np.zeros_like(two), two, 2,
                         (1 + 200 / 1024 + 200 / 1024) / 2, (1 + (1 + 200 / 1024)) / 2),
        # class 2 only predicted: 1 + 16/1024; class 1 perfect; class 0: 944/960
        "false-positive class": (fp, g, 3, (1 + 16 / 1024 + 16 / 960) / 3, 0.5),
    }


CASES = _cases()


@pytest.mark.parametrize("name", list(CASES))
def test_hand_computed_values(name):
    pred, label, ncls, paper, paddleseg = CASES[name]
    logits = onehot_logits(pred, ncls)
    label_t = paddle.to_tensor(label)
    assert float(SemanticConnectivityLoss()(logits, label_t)) == pytest.approx(paper, abs=1e-6)
    ps = SemanticConnectivityLoss(mode="paddleseg")(logits, label_t)
    assert float(ps) == pytest.approx(paddleseg, abs=1e-6)


def test_perfect_prediction_is_exactly_zero():
    _, label, ncls, _, _ = CASES["perfect 3-class"]
    assert float(SemanticConnectivityLoss()(onehot_logits(label, ncls), paddle.to_tensor(label))) == 0.0


def test_soft_value_of_a_correct_but_unsure_prediction():
    """Argmax right everywhere with probability s: every pair's soft IoU is s, so L = 1 - s."""
    g = square()
    z = 1.5
    s = 1 / (1 + np.exp(-z))
    loss = SemanticConnectivityLoss()(onehot_logits(g, 2, scale=z), paddle.to_tensor(g))
    assert float(loss) == pytest.approx(1 - s, abs=1e-6)


def test_ignore_pixels_are_excluded():
    g = square()
    label = g.copy()
    label[0, :, 8] = IGNORE          # splits the square in two label components
    label[0, 20:26, 20:26] = IGNORE  # a wrong prediction under ignore pixels
    pred = g.copy()
    pred[0, 20:26, 20:26] = 1
    loss = SemanticConnectivityLoss()(onehot_logits(pred, 2), paddle.to_tensor(label))
    assert float(loss) == 0.0
    # An image with only ignore pixels does not count in the batch mean.
    pred2 = np.concatenate([CASES["speck"][0], pred])
    label2 = np.concatenate([g, np.full_like(g, IGNORE)])
    loss2 = SemanticConnectivityLoss()(onehot_logits(pred2, 2), paddle.to_tensor(label2))
    assert float(loss2) == pytest.approx(CASES["speck"][3], abs=1e-6)


def test_loss_is_one_minus_connectivity_when_classes_match():
    rng = np.random.default_rng(0)
    label = rng.integers(0, 3, (2, 12, 12))
    pred = label.copy()
    pred[rng.random(pred.shape) < 0.2] = 1
    loss = SemanticConnectivityLoss()(onehot_logits(pred, 3), paddle.to_tensor(label))
    comp = connectivity(pred, label, 3)
    per_image = [1 - np.mean([connectivity(pred[b], label[b], 3)["class_connectivity"][c]
                              for c in range(3)]) for b in range(2)]
    assert comp["connectivity"] > 0
    assert float(loss) == pytest.approx(np.mean(per_image), abs=1e-6)


def _margin_logits(pred: np.ndarray, num_classes: int, rng: np.random.Generator
                   ) -> np.ndarray:
    """float64 logits whose argmax is ``pred`` with a margin >= 0.4 (finite differences keep it)."""
    noise = rng.uniform(-0.8, 0.8, (*pred.shape, num_classes))
    x = np.eye(num_classes)[pred] * 2.0 + noise
    return x.transpose(0, 3, 1, 2).copy()


@pytest.fixture(params=["host", "device"])
def softmax_path(request, monkeypatch):
    """Both probability passes of more than two classes: on host (CPU logits, the default here)
    and the fused cross-entropy kernel (the path of GPU logits), forced on CPU."""
    if request.param == "device":
        monkeypatch.setattr(backends, "for_logits", backends.DeviceSoftmaxProbability)
    return request.param


def test_every_probability_backend_provides_the_protocol():
    binary, more = paddle.randn([2, 2, 4, 5]), paddle.randn([2, 5, 4, 5])
    made = [backends.BinaryProbability(binary), backends.HostSoftmaxProbability(more),
            backends.DeviceSoftmaxProbability(more), backends.for_logits(more)]
    for backend in made:
        assert isinstance(backend, backends.ProbabilityBackend)
        assert backend.pred.shape == (2, 4, 5) and backend.s_pred.shape == (40,)


@pytest.mark.parametrize("seed", range(6))
def test_host_and_device_paths_agree_in_value_and_gradient(monkeypatch, seed):
    x0, label = _random_case(np.random.default_rng(seed), 5)
    labels = paddle.to_tensor(label)
    results = []
    for probability in (backends.for_logits, backends.DeviceSoftmaxProbability):
        monkeypatch.setattr(backends, "for_logits", probability)
        x = paddle.to_tensor(x0, stop_gradient=False)
        loss = SemanticConnectivityLoss()(x, labels)
        (grad,) = paddle.grad(loss, x)
        results.append((float(loss), grad.numpy()))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-5)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4, atol=1e-8)
    assert np.abs(results[0][1]).sum() > 0


def test_gradient_matches_central_differences(softmax_path):
    """Every branch: pairs, lone and missed components, a missed class, a false-positive class
    and ignore pixels; components are fixed because no finite step changes the argmax."""
    rng = np.random.default_rng(1)
    label = np.zeros((2, 9, 10), np.int64)
    label[:, 1:5, 1:5] = 1
    label[:, 6:9, 6:10] = 1          # missed in image 0 (a label component with no pair)
    label[1, 0:3, 6:9] = 3           # class 3 never predicted: missed class
    label[:, 8, 0:3] = IGNORE
    pred = np.zeros_like(label)
    pred[:, 1:5, 1:3] = 1
    pred[:, 2:4, 4] = 1              # a second prediction component on the same square
    pred[0, 7, 1] = 1                # lone speck
    pred[:, 5:7, 0:2] = 2            # class 2 predicted, absent from the label
    pred[1, 6:9, 6:8] = 1
    pred[:, 8, 0] = 2                # under an ignore pixel
    x0 = _margin_logits(pred, 4, rng)
    labels = paddle.to_tensor(label)
    loss_fn = SemanticConnectivityLoss()
    x = paddle.to_tensor(x0, stop_gradient=False)
    (grad,) = paddle.grad(loss_fn(x, labels), x)
    grad = grad.numpy()

    def f(arr: np.ndarray) -> float:
        return float(loss_fn(paddle.to_tensor(arr), labels))

    eps = 1e-6
    flat = rng.choice(x0.size, 120, replace=False)
    numeric = []
    for k in flat:
        plus, minus = x0.copy().reshape(-1), x0.copy().reshape(-1)
        plus[k] += eps
        minus[k] -= eps
        numeric.append((f(plus.reshape(x0.shape)) - f(minus.reshape(x0.shape))) / (2 * eps))
    np.testing.assert_allclose(grad.reshape(-1)[flat], numeric, rtol=1e-5, atol=1e-8)
    assert np.abs(grad).sum() > 0
    assert np.all(grad[:, :, 8, 0] == 0)  # ignore pixel
    assert np.abs(grad[1, 3, 0:3, 6:9]).sum() > 0  # the missed class pulls toward the label


def test_binary_gradient_matches_central_differences():
    """Two classes take their own path (probabilities and gradient on host): same check, with a
    missed component, a lone speck, ignore pixels and a loss scaled before backward."""
    rng = np.random.default_rng(3)
    label = np.zeros((2, 9, 10), np.int64)
    label[:, 1:5, 1:6] = 1
    label[0, 6:9, 6:10] = 1          # missed in image 0
    label[1, 7:9, 0:3] = IGNORE
    pred = np.zeros_like(label)
    pred[:, 1:5, 1:3] = 1
    pred[:, 2:4, 4:6] = 1
    pred[0, 7, 1] = 1                # lone speck
    pred[1, 6:9, 7:9] = 1            # a false positive on background
    pred[1, 8, 0] = 1                # under an ignore pixel
    x0 = _margin_logits(pred, 2, rng)
    labels = paddle.to_tensor(label)
    loss_fn = SemanticConnectivityLoss()
    x = paddle.to_tensor(x0, stop_gradient=False)
    (grad,) = paddle.grad(3.0 * loss_fn(x, labels), x)
    grad = grad.numpy()

    def f(arr: np.ndarray) -> float:
        return 3.0 * float(loss_fn(paddle.to_tensor(arr), labels))

    eps = 1e-6
    numeric = []
    for k in range(x0.size):
        plus, minus = x0.copy().reshape(-1), x0.copy().reshape(-1)
        plus[k] += eps
        minus[k] -= eps
        numeric.append((f(plus.reshape(x0.shape)) - f(minus.reshape(x0.shape))) / (2 * eps))
    np.testing.assert_allclose(grad.reshape(-1), numeric, rtol=1e-5, atol=1e-8)
    assert np.all(grad[1, :, 7:9, 0:3] == 0)  # ignore pixels
    assert np.all(grad[0, 1, 6:9, 6:10] < 0)  # the missed component pulls toward class 1


def _count_components(pred: np.ndarray) -> int:
    import cc3d
    return int(sum(cc3d.connected_components((pred[b] + 1).astype(np.uint16), connectivity=8,
                                             return_N=True)[1] for b in range(len(pred))))


def test_descent_on_the_sc_loss_removes_speckles():
    rng = np.random.default_rng(2)
    label = square(1, 24)
    label[0, 14:20, 14:22] = 1
    pred = label.copy()
    flip = rng.random(pred.shape) < 0.04
    pred[flip] = 1 - pred[flip]
    x = paddle.to_tensor(_margin_logits(pred, 2, rng).astype("float32") * 0.5,
                         stop_gradient=False)
    labels = paddle.to_tensor(label)
    loss_fn = SemanticConnectivityLoss()
    opt = paddle.optimizer.Adam(learning_rate=0.1, parameters=[x])
    start_loss = float(loss_fn(x, labels))
    start_conn = connectivity(pred, label, 2)["connectivity"]
    for _ in range(40):
        loss = loss_fn(x, labels)
        loss.backward()
        opt.step()
        opt.clear_grad()
    final = paddle.argmax(x, axis=1).numpy()
    assert _count_components(final) < _count_components(pred)
    assert connectivity(final, label, 2)["connectivity"] > start_conn
    assert float(loss_fn(x, labels)) < start_loss


# ---------------------------------------------------------------------------------------------
# mode 'paddleseg' against PaddleSeg 2.8.0 itself


def _paddleseg_loss(**kwargs):
    from paddleseg.models.losses import SemanticConnectivityLoss as PaddleSegSCL
    return PaddleSegSCL(**kwargs)


def _random_case(rng: np.random.Generator, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    n, h, w = int(rng.integers(1, 3)), int(rng.integers(6, 20)), int(rng.integers(6, 20))
    coarse = rng.integers(0, num_classes, (n, (h + 3) // 4, (w + 3) // 4))
    label = np.repeat(np.repeat(coarse, 4, 1), 4, 2)[:, :h, :w]
    pred = label.copy()
    noise = rng.random(pred.shape) < rng.uniform(0.0, 0.5)
    pred[noise] = rng.integers(0, num_classes, int(noise.sum()))
    label[rng.random(label.shape) < rng.uniform(0.0, 0.2)] = IGNORE
    logits = rng.normal(0, 1, (n, num_classes, h, w)).astype("float32")
    logits += np.eye(num_classes, dtype="float32")[pred].transpose(0, 3, 1, 2) * 3
    return logits, label


@pytest.mark.parametrize("num_classes", [2, 3, 5])
def test_paddleseg_mode_equals_paddleseg(num_classes):
    rng = np.random.default_rng(num_classes)
    ours, ref = SemanticConnectivityLoss(mode="paddleseg"), _paddleseg_loss()
    for _ in range(20):  # 60 random cases in all
        logits, label = _random_case(rng, num_classes)
        x, y = paddle.to_tensor(logits), paddle.to_tensor(label)
        assert float(ours(x, y)) == pytest.approx(float(ref(x, y)), abs=1e-6)


def test_paddleseg_mode_cap_and_options_equal_paddleseg():
    rng = np.random.default_rng(7)
    label = square(1, 40)
    pred = label.copy()
    pred[0, 20:40:3, 0:40:3] = 1  # 98 specks after the square in raster order: the cap drops
    logits = onehot_logits(pred, 2, scale=4.0)
    y = paddle.to_tensor(label)
    for cap in (1, 3, 10):
        ours = SemanticConnectivityLoss(max_pred_num_conn=cap, mode="paddleseg")(logits, y)
        ref = _paddleseg_loss(max_pred_num_conn=cap)(logits, y)
        assert float(ours) == pytest.approx(float(ref), abs=1e-6)
    maps = paddle.to_tensor(rng.integers(0, 2, (2, 16, 16)).astype("float32"))
    labels = paddle.to_tensor(rng.integers(0, 2, (2, 16, 16)))
    ours = SemanticConnectivityLoss(use_argmax=False, mode="paddleseg")(maps, labels)
    assert float(ours) == pytest.approx(float(_paddleseg_loss(use_argmax=False)(maps, labels)),
                                        abs=1e-6)


def test_paddleseg_mode_has_no_gradient_paper_mode_has():
    logits, label = _random_case(np.random.default_rng(3), 3)
    x = paddle.to_tensor(logits, stop_gradient=False)
    assert SemanticConnectivityLoss(mode="paddleseg")(x, paddle.to_tensor(label)).stop_gradient
    loss = SemanticConnectivityLoss()(x, paddle.to_tensor(label))
    (grad,) = paddle.grad(loss, x)
    assert float(paddle.abs(grad).sum()) > 0


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="mode"):
        SemanticConnectivityLoss(mode="fast")
    with pytest.raises(ValueError, match="max_pred_num_conn"):
        SemanticConnectivityLoss(max_pred_num_conn=0)
    with pytest.raises(ValueError, match="use_argmax"):
        SemanticConnectivityLoss(use_argmax=False)
    x = paddle.zeros([1, 2, 4, 4])
    with pytest.raises(ValueError, match="labels"):
        SemanticConnectivityLoss()(x, paddle.zeros([1, 5, 4], dtype="int64"))
    with pytest.raises(ValueError, match="label has class ids outside"):
        SemanticConnectivityLoss()(x, paddle.full([1, 4, 4], 7, dtype="int64"))


# ---------------------------------------------------------------------------------------------
# in a config, in training, and next to an exported model


SCL_MIXED = {"type": "MixedLoss", "coef": [1, 0.1],
             "losses": [{"type": "CrossEntropyLoss"}, {"type": "SemanticConnectivityLoss"}]}


def test_built_from_a_paddleseg_style_config():
    mixed = build(SCL_MIXED, LOSSES)
    assert isinstance(mixed, MixedLoss)
    assert isinstance(mixed.losses[1], SemanticConnectivityLoss) and mixed.losses[1].mode == "paper"
    ps = build({"type": "SemanticConnectivityLoss", "mode": "paddleseg", "max_pred_num_conn": 5},
               LOSSES)
    assert ps.mode == "paddleseg" and ps.max_pred_num_conn == 5
    logits, label = _random_case(np.random.default_rng(4), 2)
    x = paddle.to_tensor(logits, stop_gradient=False)
    terms = mixed.terms(x, paddle.to_tensor(label))
    assert list(terms) == ["CrossEntropyLoss", "SemanticConnectivityLoss"]
    (grad,) = paddle.grad(sum(terms.values()), x)
    assert np.isfinite(grad.numpy()).all()


def test_trains_pp_humanseg_lite_and_the_model_exports(synthetic_root, tmp_path):
    from support import tiny_config
    from humanseg.cvlibs.builder import SegBuilder
    from humanseg.cvlibs.checks import check_config
    from humanseg.datasets.loader import build_train_loader
    from humanseg.engine.trainer import Trainer

    paddle.seed(0)
    cfg = check_config(tiny_config(synthetic_root, iters=3,
                                   loss={"types": [SCL_MIXED], "coef": [1]}))
    b = SegBuilder(cfg)
    sampler, loader = build_train_loader(b.train_dataset, cfg["batch_size"], seed=0)
    trainer = Trainer(b.model, b.loss, b.optimizer, b.lr_scheduler, sampler, loader, 3, [])
    before = {k: v.numpy().copy() for k, v in b.model.state_dict().items()}
    trainer.train()
    terms = trainer.state["terms"]
    assert set(terms) == {"out0.CrossEntropyLoss", "out0.SemanticConnectivityLoss"}
    assert all(np.isfinite(float(v)) for v in terms.values())
    assert 0 < float(terms["out0.SemanticConnectivityLoss"]) <= 0.2
    assert any(not np.array_equal(before[k], v.numpy()) for k, v in b.model.state_dict().items())

    model = b.model
    model.eval()

    class Export(paddle.nn.Layer):
        def __init__(self, net):
            super().__init__()
            self.net = net

        def forward(self, x):
            return paddle.argmax(self.net(x)[0], axis=1)

    wrapper = Export(model)
    spec = [paddle.static.InputSpec([None, 3, 64, 96], "float32", name="x")]
    path = str(tmp_path / "model")
    paddle.jit.save(paddle.jit.to_static(wrapper, input_spec=spec, full_graph=True), path)
    loaded = paddle.jit.load(path)
    img = paddle.randn([1, 3, 64, 96])
    np.testing.assert_array_equal(loaded(img).numpy(), wrapper(img).numpy())


def _train_lite(synthetic_root, loss: dict) -> dict:
    from support import tiny_config
    from humanseg.cvlibs.builder import SegBuilder
    from humanseg.cvlibs.checks import check_config
    from humanseg.datasets.loader import build_train_loader
    from humanseg.engine.trainer import Trainer

    paddle.seed(0)
    cfg = check_config(tiny_config(synthetic_root, iters=3, loss=loss))
    b = SegBuilder(cfg)
    sampler, loader = build_train_loader(b.train_dataset, cfg["batch_size"], seed=0)
    Trainer(b.model, b.loss, b.optimizer, b.lr_scheduler, sampler, loader, 3, []).train()
    return {k: v.numpy().copy() for k, v in b.model.state_dict().items()}


def test_paddleseg_mode_trains_exactly_like_the_loss_without_it(synthetic_root):
    """PaddleSeg's SC loss adds no gradient: CE + SCL(mode paddleseg) gives bit-identical weights
    to CE alone (why the experiment's paddleseg arm equals its baseline), paper mode does not."""
    ce = {"type": "CrossEntropyLoss"}
    with_scl = {"type": "MixedLoss", "losses": [ce, {"type": "SemanticConnectivityLoss",
                                                      "mode": "paddleseg"}], "coef": [1, 0.5]}
    baseline = _train_lite(synthetic_root, {"types": [{"type": "MixedLoss", "losses": [ce],
                                                        "coef": [1]}], "coef": [1]})
    paddleseg = _train_lite(synthetic_root, {"types": [with_scl], "coef": [1]})
    with_scl["losses"][1]["mode"] = "paper"
    paper = _train_lite(synthetic_root, {"types": [with_scl], "coef": [1]})
    assert all(np.array_equal(baseline[k], paddleseg[k]) for k in baseline)
    assert any(not np.array_equal(baseline[k], paper[k]) for k in baseline)
