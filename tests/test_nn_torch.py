"""The matrix engine against PyTorch autograd and torch.optim (float64), where torch is
installed (``pip install -e .[bench]``)."""

from __future__ import annotations

import numpy as np
import pytest

from ownnet.nn import SGD, Adam, Dense, Network, PReLU, RMSprop

torch = pytest.importorskip("torch", reason="PyTorch is not installed (extra 'bench')")
F = torch.nn.functional


def build(spec: list, n_in: int, loss: str, seed: int = 0) -> tuple[Network, torch.nn.Module]:
    """The same network in ownnet and torch, with ownnet's initial weights copied over."""
    layers, mods = [], []
    n = n_in
    for kind, arg in spec:
        if kind == "dense":
            units, act = arg
            layers.append(Dense(units, act))
            mods.append(torch.nn.Linear(n, units, dtype=torch.float64))
            if act in ("tanh", "sigmoid", "relu"):
                mods.append(
                    {"tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU}[
                        act
                    ]()
                )
            elif act == "leaky_relu":
                mods.append(torch.nn.LeakyReLU(0.01))
            elif act == "softmax" and loss != "cross_entropy":
                mods.append(torch.nn.Softmax(dim=1))
            n = units
        else:  # prelu
            layers.append(PReLU(0.2))
            mods.append(torch.nn.PReLU(n, init=0.2, dtype=torch.float64))
    net = Network(layers, input_shape=(n_in,), loss=loss, dtype="float64", seed=seed)
    rng = np.random.default_rng(seed + 1)
    linear = [m for m in mods if isinstance(m, torch.nn.Linear)]
    prelu = [m for m in mods if isinstance(m, torch.nn.PReLU)]
    with torch.no_grad():
        for layer, lin in zip([x for x in net.layers if isinstance(x, Dense)], linear, strict=True):
            layer.params["b"][...] = rng.normal(0, 0.2, layer.units)
            lin.weight.copy_(torch.from_numpy(layer.params["W"].T.copy()))
            lin.bias.copy_(torch.from_numpy(layer.params["b"]))
        for layer, p in zip([x for x in net.layers if isinstance(x, PReLU)], prelu, strict=True):
            layer.params["alpha"][...] = rng.uniform(0.05, 0.4, layer.params["alpha"].shape)
            p.weight.copy_(torch.from_numpy(layer.params["alpha"]))
    return net, torch.nn.Sequential(*mods)


def torch_loss(model, x, y, loss: str):
    out = model(x)
    if loss == "cross_entropy":
        return out, -(y * F.log_softmax(out, dim=1)).sum(dim=1).mean()
    return out, 0.5 * ((out - y) ** 2).sum(dim=1).mean()


def torch_grads(model) -> list[np.ndarray]:
    """Gradients in ownnet's order and layout (W transposed)."""
    grads = []
    for m in model:
        if isinstance(m, torch.nn.Linear):
            grads += [m.weight.grad.numpy().T, m.bias.grad.numpy()]
        elif isinstance(m, torch.nn.PReLU):
            grads.append(m.weight.grad.numpy())
    return grads


CASES = {
    "tanh-leaky-softmax-ce": (
        [("dense", (7, "tanh")), ("dense", (6, "leaky_relu")), ("dense", (4, "softmax"))],
        "cross_entropy",
    ),
    "sigmoid-quadratic": ([("dense", (7, "sigmoid")), ("dense", (4, "sigmoid"))], "quadratic"),
    "relu-prelu-softmax-quadratic": (
        [("dense", (6, "relu")), ("dense", (5, None)), ("prelu", None), ("dense", (4, "softmax"))],
        "quadratic",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_outputs_loss_and_gradients_equal_torch_autograd(case):
    spec, loss = CASES[case]
    net, model = build(spec, 5, loss)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(9, 5))
    y = np.eye(4)[rng.integers(0, 4, 9)]
    value, gx = net.loss_and_grads(x, y)
    ours = net.forward(x).copy()

    tx = torch.tensor(x, requires_grad=True)
    out, tl = torch_loss(model, tx, torch.tensor(y), loss)
    tl.backward()
    expected_out = F.softmax(out, dim=1) if loss == "cross_entropy" else out
    np.testing.assert_allclose(ours, expected_out.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert value == pytest.approx(tl.item(), rel=1e-12)
    for p, g in zip(net.params(), torch_grads(model), strict=True):
        np.testing.assert_allclose(p.grad, g, rtol=1e-10, atol=1e-13, err_msg=p.name)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-10, atol=1e-13)


def torch_optimizer(name: str, model, lr: float, wd: float):
    decay = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    rest = [p for p in model.parameters() if all(p is not d for d in decay)]
    groups = [{"params": decay, "weight_decay": wd}, {"params": rest, "weight_decay": 0.0}]
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9)
    if name == "nesterov":
        return torch.optim.SGD(groups, lr=lr, momentum=0.9, nesterov=True)
    if name == "rmsprop":
        return torch.optim.RMSprop(groups, lr=lr, alpha=0.9, eps=1e-7)
    return torch.optim.Adam(groups, lr=lr, eps=1e-7)


def ownnet_optimizer(name: str, lr: float, wd: float):
    return {
        "sgd": lambda: SGD(lr, weight_decay=wd),
        "momentum": lambda: SGD(lr, momentum=0.9, weight_decay=wd),
        "nesterov": lambda: SGD(lr, momentum=0.9, nesterov=True, weight_decay=wd),
        "rmsprop": lambda: RMSprop(lr, rho=0.9, eps=1e-7, weight_decay=wd),
        "adam": lambda: Adam(lr, eps=1e-7, weight_decay=wd),
    }[name]()


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "rmsprop", "adam"])
def test_optimizer_steps_equal_torch_optim(name):
    spec, loss = CASES["tanh-leaky-softmax-ce"]
    net, model = build(spec, 5, loss, seed=4)
    lr, wd = 0.05, 0.01
    opt = ownnet_optimizer(name, lr, wd)
    topt = torch_optimizer(name, model, lr, wd)
    rng = np.random.default_rng(5)
    for _ in range(5):
        x = rng.normal(size=(8, 5))
        y = np.eye(4)[rng.integers(0, 4, 8)]
        net.loss_and_grads(x, y)
        opt.step(net.params())
        topt.zero_grad()
        _, tl = torch_loss(model, torch.tensor(x), torch.tensor(y), loss)
        tl.backward()
        topt.step()
    lin = [m for m in model if isinstance(m, torch.nn.Linear)]
    for layer, m in zip([x for x in net.layers if isinstance(x, Dense)], lin, strict=True):
        np.testing.assert_allclose(layer.params["W"], m.weight.detach().numpy().T, rtol=1e-9)
        np.testing.assert_allclose(layer.params["b"], m.bias.detach().numpy(), rtol=1e-9)
