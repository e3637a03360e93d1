# ruff: noqa: E402 - a notebook imports where it first needs a module (see notebooks/make.py)
# %% [markdown]
# # 2 · A network by hand (3-3-3)
#
# Before 784 inputs and 60,000 digits, the book works through a network small
# enough to follow with pencil and paper: 3 inputs, 3 hidden neurons, 3
# outputs. This notebook does the same sums three ways and shows they agree:
#
# 1. by hand, with NumPy matrices, exactly as the book writes them;
# 2. with `ownnet.NeuronNetwork`: every neuron and link is an object you can
#    look at;
# 3. with `ownnet.BookNetwork`, the fast network of the next notebooks.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import expit as sigmoid

import ownnet

QUICK = os.environ.get("OWNNET_QUICK", "0") not in ("", "0")
plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (6, 3.5)})
np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## Forward, by hand
#
# The book's example: inputs `I`, the weights from input to hidden `W_ih` and
# from hidden to output `W_ho`. Row `j` of a weight matrix holds the weights of
# the links *into* neuron `j` of the next layer, so one matrix product gives
# every neuron's combined input at once: `X = W · I`. Each neuron then applies
# the sigmoid, `O = 1 / (1 + e^-X)`.

# %%
inputs = np.array([0.9, 0.1, 0.8])
w_ih = np.array([[0.9, 0.3, 0.4], [0.2, 0.8, 0.2], [0.1, 0.5, 0.6]])
w_ho = np.array([[0.3, 0.7, 0.5], [0.6, 0.5, 0.2], [0.8, 0.1, 0.9]])

x_hidden = w_ih @ inputs
o_hidden = sigmoid(x_hidden)
x_output = w_ho @ o_hidden
o_output = sigmoid(x_output)
print("X_hidden =", x_hidden, " O_hidden =", o_hidden)
print("X_output =", x_output, " O_output =", o_output)

# %% [markdown]
# These are the book's numbers: the first hidden neuron gets
# `0.9×0.9 + 0.3×0.1 + 0.4×0.8 = 1.16` and outputs `sigmoid(1.16) = 0.761`.

# %%
assert np.allclose(x_hidden, [1.16, 0.42, 0.62])
assert np.allclose(o_hidden, [0.761, 0.603, 0.650], atol=5e-4)
assert np.allclose(x_output, [0.975, 0.888, 1.254], atol=1e-3)
assert np.allclose(o_output, [0.726, 0.708, 0.778], atol=1e-3)
print("the book's numbers (the book rounds to 3 decimals as it goes)")

# %% [markdown]
# ## The same network as neurons and links
#
# `ownnet.NeuronNetwork(3, 3, 3)` builds 9 neurons and 18 links. Each link
# carries `input × weight` to its neuron; each neuron adds up what arrives and
# applies the sigmoid. We give it the book's weights and run the same inputs.

# %%
from ownnet.neurons.explain import draw_network

net = ownnet.NeuronNetwork(3, 3, 3, lr=0.3)
net.set_weights([w_ih, w_ho])
print(net)
print("outputs:", net.forward(inputs))
h1 = net.layers[1].neurons[0]
print(f"neuron {h1.name}: total {h1.total:.3f}, output {h1.output:.3f}")
for link in h1.incoming:
    carried = f"{link.source.output} x {link.weight} = {link.signal:.3f}"
    print(f"  {link.source.name} -> {h1.name} carries {carried}")

# %%
fig, ax = plt.subplots(figsize=(8, 4))
draw_network(net, ax, title="the book's 3-3-3 network after one forward pass")
plt.show()

# %% [markdown]
# ## Backward, by hand
#
# Say the right answer was the second output: targets `0.01, 0.99, 0.01`. The
# output errors are `e_o = targets − outputs`. The book splits each output
# error among the hidden neurons in proportion to the link weights, which is
# the transposed weight matrix: `e_h = W_hoᵀ · e_o`. Then each weight changes by
#
# `ΔW = lr × (error × O × (1 − O)) · O_previousᵀ`
#
# where `O × (1 − O)` is the slope of the sigmoid. The hidden errors are
# computed from `W_ho` **before** it changes.

# %%
targets = np.array([0.01, 0.99, 0.01])
lr = 0.3
e_output = targets - o_output
e_hidden = w_ho.T @ e_output
new_w_ho = w_ho + lr * np.outer(e_output * o_output * (1 - o_output), o_hidden)
new_w_ih = w_ih + lr * np.outer(e_hidden * o_hidden * (1 - o_hidden), inputs)
print("output errors:", e_output)
print("hidden errors:", e_hidden)
print("new W_ho:\n", new_w_ho)
print("new W_ih:\n", new_w_ih)

# %% [markdown]
# ## The same step, neuron by neuron
#
# `explain` trains the neuron network on one sample and prints what every
# neuron and link did. A neuron's **sensitivity** is its error; its **delta**
# is the sensitivity times the sigmoid's slope. Each link sends
# `weight × sensitivity` back to the neuron it comes from, then changes its
# weight by `lr × delta × input`.

# %%
text = net.explain(inputs, targets)

# %%
print("neurons agree with the matrices:",
      np.allclose(net.weights[0], new_w_ih, atol=1e-15),
      np.allclose(net.weights[1], new_w_ho, atol=1e-15))  # fmt: skip

# %% [markdown]
# ## And the fast network
#
# `ownnet.BookNetwork` is the book's class, with `wih` and `who` as the book
# names them, and its `train` and `query`. Given the same weights, its `train`
# makes the same step.

# %%
fast = ownnet.BookNetwork(3, 3, 3, lr=0.3)
fast.wih[:], fast.who[:] = w_ih, w_ho
print("query:", fast.query(inputs))
fast.train(inputs, targets)
print("largest difference to the hand calculation:",
      max(np.abs(fast.wih - new_w_ih).max(), np.abs(fast.who - new_w_ho).max()))  # fmt: skip

# %% [markdown]
# ## Learning one sample
#
# One step moves the outputs only a little. Repeating it, the outputs walk
# towards the targets and the error `½ Σ (t − o)²` falls.

# %%
steps = 100 if QUICK else 400
net.set_weights([w_ih, w_ho])
outputs, errors = [], []
for _ in range(steps):
    o = net.forward(inputs)
    outputs.append(o)
    errors.append(0.5 * np.sum((targets - o) ** 2))
    net.backward(targets)
outputs = np.array(outputs)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
for k in range(3):
    axes[0].plot(outputs[:, k], label=f"output {k + 1}")
    axes[0].axhline(targets[k], ls=":", color=f"C{k}")
axes[0].set_xlabel("training steps")
axes[0].set_title("outputs (dotted: targets)")
axes[0].legend()
axes[1].semilogy(errors)
axes[1].set_xlabel("training steps")
axes[1].set_title("error ½ Σ (t − o)²")
plt.tight_layout()
plt.show()
print(f"after {steps} steps the outputs are {outputs[-1]}")

# %%
fig, ax = plt.subplots(figsize=(8, 4))
draw_network(net, ax, title=f"after {steps} steps on the one sample")
plt.show()

# %% [markdown]
# ## Two patterns
#
# Learning one sample is easy: the network can just always say "2". Give it
# two different inputs with different answers, taking turns, and it has to use
# its inputs to tell them apart.

# %%
patterns = np.array([[0.9, 0.1, 0.8], [0.1, 0.9, 0.2]])
answers = np.array([[0.01, 0.99, 0.01], [0.99, 0.01, 0.01]])
two = ownnet.NeuronNetwork(3, 3, 3, lr=0.3, seed=1)
history = []
for _ in range(steps):
    for x, t in zip(patterns, answers, strict=True):
        two.train(x, t)
    history.append([two.query(x) for x in patterns])
history = np.array(history)  # (steps, pattern, output)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), sharey=True)
for p, ax in enumerate(axes):
    for k in range(3):
        ax.plot(history[:, p, k], label=f"output {k + 1}")
    ax.set_title(f"pattern {patterns[p]}: wants output {answers[p].argmax() + 1}")
    ax.set_xlabel("rounds")
axes[0].legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Everything in the next notebooks is this, scaled up: 784 inputs (one per
# pixel), 200 hidden neurons, 10 outputs (one per digit) and 60,000 samples.
# Notebook 7 comes back to the neurons and links and shows that on MNIST too
# they make exactly the same network as the matrices.
