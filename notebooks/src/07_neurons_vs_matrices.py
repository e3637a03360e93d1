# ruff: noqa: E402 - a notebook imports where it first needs a module (see notebooks/make.py)
# %% [markdown]
# # 7 · Neurons and links vs matrices
#
# The book explains backpropagation with one neuron and one link at a time,
# then computes it with matrices, because matrices are fast. Are they really
# the same network? `ownnet.NeuronNetwork` (module `ownnet.neurons`) builds
# the network from `Neuron` and `Link` objects that do only what the pictures
# show:
#
# * **forward:** each link carries `input × weight`; each neuron sums what
#   arrives and applies the sigmoid;
# * **backward:** each neuron's *sensitivity* is its error (`target − output`
#   at the output); its *delta* is the sensitivity times the sigmoid's slope
#   `output × (1 − output)`; each link sends `weight × sensitivity` back to the
#   neuron it comes from, then changes its weight by `lr × delta × input`.
#
# This notebook trains it side by side with the matrix network
# `ownnet.BookNetwork` on MNIST and compares every weight.

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import ownnet
from ownnet.book import book_inputs, book_targets

QUICK = os.environ.get("OWNNET_QUICK", "0") not in ("", "0")
plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (6, 3.5)})

train, test = ownnet.load_mnist()
N_SAME = 50 if QUICK else 200  # samples for the side-by-side comparison
N_RULES = 200 if QUICK else 2000  # samples per run comparing the two rules
SEEDS = [0] if QUICK else [0, 1, 2]

# %% [markdown]
# ## The same start
#
# Both draw their first weights from `normal(0, 1/√inputs)` in the same order,
# so the same seed gives the same network: 784 × 20 + 20 × 10 = 15,880 links.

# %%
slow = ownnet.NeuronNetwork(784, 20, 10, lr=0.1, seed=0)
fast = ownnet.BookNetwork(784, 20, 10, lr=0.1, seed=0)
print(slow)
w_ih, w_ho = slow.weights
print("same first weights:", np.array_equal(w_ih, fast.wih) and np.array_equal(w_ho, fast.who))
link = slow.layers[1].neurons[0].incoming[300]
print(f"{link}: fast.wih[0, 300] = {fast.wih[0, 300]:.6g}")

# %% [markdown]
# ## The same steps
#
# Train both on the same samples in the same order, one `train(inputs,
# targets)` step at a time as the book does, and after every sample measure
# the largest difference between any two corresponding weights. We do it
# without and with bias neurons (a constant 1.0 feeding every neuron of the
# next layer).

# %%
x_all = book_inputs(train.images[:N_SAME]).reshape(N_SAME, 784)  # the book's inputs
t_all = book_targets(train.labels[:N_SAME])  # 0.99 for the label, 0.01 elsewhere
gaps = {}
for bias in (False, True):
    slow = ownnet.NeuronNetwork(784, 20, 10, lr=0.1, bias=bias, seed=0)
    fast = ownnet.BookNetwork(784, 20, 10, lr=0.1, bias=bias, seed=0)
    gap = []
    for x, t in zip(x_all, t_all, strict=True):
        slow.train(x, t)
        fast.train(x, t)
        w_ih, w_ho = slow.weights
        gap.append(max(np.abs(w_ih - fast.wih).max(), np.abs(w_ho - fast.who).max()))
    moved = np.abs(fast.wih - ownnet.BookNetwork(784, 20, 10, bias=bias, seed=0).wih).max()
    gaps[bias] = gap
    print(f"bias={bias}: after {N_SAME} samples the weights moved up to {moved:.3f}; "
          f"the two networks differ by at most {max(gap):.1e}")  # fmt: skip

fig, ax = plt.subplots()
for bias, gap in gaps.items():
    ax.semilogy(np.arange(1, N_SAME + 1), np.maximum(gap, 1e-18), label=f"bias={bias}")
ax.axhline(1e-9, ls=":", color="0.5", label="1e-9 (the test's limit)")
ax.set_xlabel("samples trained")
ax.set_ylabel("largest |weight difference|")
ax.set_title("neurons vs matrices")
ax.legend()
plt.show()

# %% [markdown]
# The differences are rounding: adding up 784 numbers one at a time (the
# neuron) or in the order a BLAS library chooses (the matrix product) gives
# results that differ in the 16th digit. The arithmetic is the same.
#
# The hidden errors must come from the output weights *before* they change,
# as the book computes `hidden_errors` before updating `who`. In the neuron
# network each layer's links first all send back, then all learn.

# %% [markdown]
# ## One step, neuron by neuron
#
# `explain` trains on one sample and prints every neuron and link. On a
# MNIST network that is 15,880 links, so `limit` keeps the first few rows of
# each table. (The first pixels are the blank top-left corner: inputs 0.01.)

# %%
small = ownnet.NeuronNetwork(784, 20, 10, lr=0.1, seed=0)
text = small.explain(x_all[0], int(train.labels[0]), limit=4)

# %% [markdown]
# ## How slow is slow?
#
# Python objects are easy to follow and slow to run. The matrix network does
# the same arithmetic in a few NumPy calls per sample. Its `fit` trains in
# blocks of 64 samples with a few matrix products per block (and the same
# result), and measures the loss and accuracy as it goes: the blocks pay off
# in networks with more hidden neurons than these 20.
#
# Products this small are done fastest by one thread: `fit` limits NumPy's
# BLAS library to one thread by itself, and we do the same for the loops of
# `train` calls (`threadpoolctl`), so that they are compared fairly. Each
# speed is the best of three passes: a busy computer slows some passes down.

# %%
from threadpoolctl import threadpool_limits


def train_speed(net, passes=3):
    """Samples per second of `net.train` on x_all, one sample at a time (best pass)."""
    best = 0.0
    for _ in range(passes):
        start = time.perf_counter()
        for x, t in zip(x_all, t_all, strict=True):
            net.train(x, t)
        best = max(best, len(x_all) / (time.perf_counter() - start))
    return best


speeds = {}
with threadpool_limits(limits=1, user_api="blas"):
    speeds["NeuronNetwork.train"] = train_speed(ownnet.NeuronNetwork(784, 20, 10, seed=0))
    speeds["BookNetwork.train"] = train_speed(ownnet.BookNetwork(784, 20, 10, seed=0))
part = train.subset(2000 if QUICK else 20000)
history = ownnet.BookNetwork(784, 20, 10, seed=0).fit(part, epochs=3, verbose=0)
speeds["BookNetwork.fit"] = max(history["samples_per_s"])
for name, s in speeds.items():
    print(f"{name:20s} {s:12,.0f} samples/s")
ratio = speeds["BookNetwork.train"] / speeds["NeuronNetwork.train"]
print(f"the matrices are {ratio:,.0f} times faster than the neurons")

fig, ax = plt.subplots(figsize=(5, 3))
ax.bar([k.replace(".", "\n.") for k in speeds], list(speeds.values()), color=["C1", "C0", "C0"])
ax.set_yscale("log")
ax.set_ylabel("samples per second (log)")
ax.set_title("784-20-10, one sample at a time")
plt.show()

# %% [markdown]
# ## The book's rule and true backpropagation
#
# The book sends each output error back as `weight × error`. Calculus says
# the error's slope with respect to a hidden output is `weight × delta`, the
# error *times the output neuron's sigmoid slope*. That is
# `error_split="gradient"` here: every weight then moves by exactly
# `−lr × ∂E/∂w` for `E = ½ Σ (target − output)²` (the tests check it against
# finite differences).
#
# Matt Mazur's well-known worked example (a 2-2-2 network with biases)
# shows the difference. The output weights change the same way under both
# rules; the input weights do not:


# %%
def mazur(split):
    net = ownnet.NeuronNetwork(2, 2, 2, lr=0.5, bias=True, error_split=split)
    net.set_weights([[[0.15, 0.20, 0.35], [0.25, 0.30, 0.35]],
                     [[0.40, 0.45, 0.60], [0.50, 0.55, 0.60]]])  # fmt: skip
    net.train([0.05, 0.10], [0.01, 0.99])
    return net


book, true = mazur("transpose"), mazur("gradient")
np.set_printoptions(precision=8, suppress=True)
print("hidden -> output, both rules:\n", book.weights[1])
print("input -> hidden, the book's rule:\n", book.weights[0])
print("input -> hidden, true gradient (Mazur's w1..w4 = 0.14978072, 0.19956143, ...):\n",
      true.weights[0])  # fmt: skip

# %%
links = [f"{link.source.name}->{link.target.name}" for link in book.layers[1].links]
start = np.array([[0.15, 0.20, 0.35], [0.25, 0.30, 0.35]]).ravel()
fig, ax = plt.subplots(figsize=(7, 3))
x = np.arange(len(links))
ax.bar(x - 0.2, book.weights[0].ravel() - start, 0.4, label="the book's rule")
ax.bar(x + 0.2, true.weights[0].ravel() - start, 0.4, label="true gradient")
ax.set_xticks(x, links)
ax.set_ylabel("weight change")
ax.set_title("input -> hidden changes after one step")
ax.legend()
plt.show()

# %% [markdown]
# Does it matter on MNIST? Both rules move the weights downhill. As the
# slope `output × (1 − output)` is at most 0.25, the book's rule sends back
# errors at least 4 times larger than the gradient's: for the hidden layer it
# is like a larger learning rate. Train a 784-20-10 network each way on the
# same samples (a few seeds, for error bars), and the gradient once more with
# 4 times the learning rate. The neuron network has the same `fit` as every
# ownnet network; here each seed also shuffles the samples into its own order
# (`shuffle=True, seed=seed`).

# %%
part = train.subset(N_RULES)
check = test.subset(200 if QUICK else 1000)
variants = {
    "book's rule\nlr 0.1": ("transpose", 0.1),
    "true gradient\nlr 0.1": ("gradient", 0.1),
    "true gradient\nlr 0.4": ("gradient", 0.4),
}
scores = {}
for name, (split, lr) in variants.items():
    scores[name] = []
    for seed in SEEDS:
        net = ownnet.NeuronNetwork(784, 20, 10, lr=lr, error_split=split, seed=seed)
        net.fit(part, epochs=1, shuffle=True, seed=seed, verbose=0)
        scores[name].append(net.score(check))
    accs = scores[name]
    label = name.replace("\n", ", ")
    print(
        f"{label:22s}: test accuracy {np.mean(accs):.1%} ± {np.std(accs):.1%} ({len(accs)} seeds)"
    )

fig, ax = plt.subplots(figsize=(5, 3))
ax.bar(list(scores), [np.mean(v) * 100 for v in scores.values()],
       yerr=[np.std(v) * 100 for v in scores.values()], capsize=6)  # fmt: skip
ax.set_ylabel("test accuracy (%)")
ax.set_ylim(50, 100)
ax.set_title(f"784-20-10, {N_RULES:,} samples, 1 epoch")
plt.show()

# %% [markdown]
# ## Both ways round
#
# `ownnet.convert.classic_to_neurons` and `neurons_to_classic` convert with
# every weight intact.
# A matrix network trained on all 60,000 digits can be opened up as neurons:
# the 784 links into one hidden neuron, laid out as a 28×28 picture, show
# which pixels excite it (red) or hold it back (blue).

# %%
from ownnet.convert import classic_to_neurons, neurons_to_classic

book_net = ownnet.BookNetwork(784, 20, 10, lr=0.1, seed=0)
book_net.fit(train.subset(2000) if QUICK else train, epochs=1, verbose=0)
opened = classic_to_neurons(book_net)
few = check.subset(200 if QUICK else 1000)
print(f"test accuracy on {len(few)} digits: matrices {book_net.score(few):.1%}, "
      f"neurons {opened.score(few):.1%}")  # fmt: skip
back = neurons_to_classic(opened)
print("back to matrices, same weights:", np.array_equal(back.wih, book_net.wih))

fig, axes = plt.subplots(2, 10, figsize=(10, 2.4))
for neuron, ax in zip(opened.layers[1].neurons, axes.flat, strict=True):
    w = np.array([link.weight for link in neuron.incoming]).reshape(28, 28)
    m = np.abs(w).max()
    ax.imshow(w, cmap="RdBu_r", vmin=-m, vmax=m)
    ax.set_title(neuron.name, fontsize=9)
    ax.set_axis_off()
plt.suptitle("incoming weights of the 20 hidden neurons")
plt.tight_layout()
plt.show()

# %% [markdown]
# The neurons make the idea visible; the matrices make it fast; and the
# tests (`tests/test_neurons.py`) hold them to the same weights to 1e-9.
# Notebook 8 goes beyond the book: many layers, other activations and
# losses, and convolutions.
