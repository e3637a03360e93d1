# ruff: noqa: E402 - a notebook imports where it first needs a module (see notebooks/make.py)
# %% [markdown]
# # 5 · Back query: what does the network think a digit looks like?
#
# A trained network turns a picture into an answer. The book's last idea runs
# it the other way: start from an answer ("this is a 3": 0.99 at output 3,
# 0.01 elsewhere) and push it backwards through the network to the inputs.
# The picture that comes out shows what the network has learned to look for.
#
# Each layer is run backwards in three steps:
#
# 1. undo the sigmoid with its inverse, the *logit* `log(y / (1 − y))`;
# 2. send the result back through the transposed weights, `Wᵀ · x`;
# 3. rescale to 0.01..0.99, so that the next logit is defined.

# %%
import io
import os

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display
from scipy.special import logit

import ownnet
from ownnet.inspect.backquery import backquery, backquery_digits, backquery_figure, rescale

QUICK = os.environ.get("OWNNET_QUICK", "0") not in ("", "0")
plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (6, 3.5)})


def show(fig):
    """Show a figure made without pyplot, as ownnet's picture functions make them."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=72)
    display(Image(buf.getvalue()))


train, test = ownnet.load_mnist()
if QUICK:
    train, test = train.subset(5000), test.subset(1000)
EPOCHS = 1 if QUICK else 5

net = ownnet.BookNetwork(784, 200, 10, lr=0.1)
net.fit(train, epochs=EPOCHS, verbose=0)
print(f"784-200-10 after {EPOCHS} epoch(s) on {len(train):,} digits: "
      f"test accuracy {net.score(test):.2%}")  # fmt: skip

# %% [markdown]
# ## Every digit, backwards

# %%
result = backquery_digits(net)
show(backquery_figure(result, title="back query of each digit"))
print(f"fed forward again, {result.n_correct} of 10 pictures are read as the digit they came from")

# %% [markdown]
# Dark is ink the network wants to see, light is where it wants no ink, grey
# it does not care about. The 0 has a dark ring and a light middle; the 1 a
# dark upright stroke and light on both sides. These are not digits anyone
# writes: they are the *evidence* the network weighs.

# %% [markdown]
# ## The same thing, by hand
#
# For the digit 3, step by step with the network's own weight matrices
# `who` (10 × 200) and `wih` (200 × 784):

# %%
targets = np.full(10, 0.01)
targets[3] = 0.99
hidden = rescale(net.who.T @ logit(targets))  # output -> hidden
inputs = rescale(net.wih.T @ logit(hidden))  # hidden -> input
print("hidden values:", hidden.shape, f"{hidden.min():.2f}..{hidden.max():.2f}")
print("same as backquery():", np.allclose(inputs, backquery(net, targets[None])[0]))

fig, axes = plt.subplots(1, 3, figsize=(9, 3))
axes[0].bar(range(10), targets)
axes[0].set_title("start: the answer 3")
axes[1].plot(hidden, ".", markersize=3)
axes[1].set_title("the 200 hidden values")
axes[2].imshow(inputs.reshape(28, 28), cmap="Greys")
axes[2].set_title("the 784 inputs")
axes[2].set_axis_off()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Asking for two digits at once
#
# The answer does not have to be one digit. Half 3 and half 8 (0.5 at both)
# gives a picture with the strokes the two share, and half 1 and half 7 a
# picture of what tells them apart from the rest.

# %%
pairs = [(3, 8), (1, 7), (4, 9), (5, 6)]
mixed = np.full((len(pairs), 10), 0.01)
for row, (a, b) in enumerate(pairs):
    mixed[row, [a, b]] = 0.5
pictures = backquery(net, mixed)
answers = net.query(pictures)  # the book's query: the pictures are inputs 0.01..0.99, not pixels
fig, axes = plt.subplots(1, len(pairs), figsize=(9, 2.6))
for ax, (a, b), picture, out in zip(axes, pairs, pictures, answers, strict=True):
    ax.imshow(picture.reshape(28, 28), cmap="Greys")
    ax.set_title(f"{a} and {b}: read {out.argmax()}")
    ax.set_axis_off()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Does training change the picture?
#
# Back-query a network before it has seen any digit, after a few hundred, and
# after the full training above. The untrained network's "digits" are noise:
# what the pictures show is learnt.

# %%
stages = {"untrained": ownnet.BookNetwork(784, 200, 10, lr=0.1)}
early = ownnet.BookNetwork(784, 200, 10, lr=0.1)
early.fit(train.subset(300), verbose=0)
stages["after 300 digits"] = early
stages[f"after {EPOCHS} epoch(s)"] = net
fig, axes = plt.subplots(len(stages), 10, figsize=(10, 3.4))
for row, (name, model) in zip(axes, stages.items(), strict=True):
    for digit, ax in enumerate(row):
        ax.imshow(backquery_digits(model).images[digit], cmap="Greys")
        ax.set_axis_off()
    row[0].set_title(name, loc="left", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# The back query only works because every layer is a sigmoid, which can be
# undone. Notebook 8's networks use relu and softmax, which throw information
# away; for those, pictures of what a neuron wants are found by *activation
# maximisation* instead (changing the input until the neuron fires most).
