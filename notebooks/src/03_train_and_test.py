# ruff: noqa: E402 - a notebook imports where it first needs a module (see notebooks/make.py)
# %% [markdown]
# # 3 · Train and test the book's network
#
# The network of the book: 784 inputs (one per pixel), a hidden layer of
# sigmoid neurons, 10 outputs (one per digit). It learns one sample at a time:
# forward, compare with the target, send the errors back, nudge every weight.
# `ownnet.BookNetwork` does exactly the book's arithmetic, only faster.
#
# With `OWNNET_QUICK=1` this notebook trains on a few thousand samples; the
# saved outputs come from the full 60,000.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import ownnet

QUICK = os.environ.get("OWNNET_QUICK", "0") not in ("", "0")
plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (6, 3.5)})

train, test = ownnet.load_mnist()
if QUICK:
    train, test = train.subset(3000), test.subset(1000)
EPOCHS = 1 if QUICK else 5
print(f"training on {len(train):,} digits, testing on {len(test):,}")

# %% [markdown]
# ## The book's first network
#
# 100 hidden neurons, learning rate 0.3, one pass (one *epoch*) over the
# training data, in the file's order. The book reports about 95% of the test
# digits right.
#
# `fit` prints one line per epoch, as Keras does: the samples, the seconds,
# and the loss (the book's error `½ Σ (t − o)²`) and accuracy on the training
# digits, each measured just before the network learnt from it. `score` then
# gives the fraction of the test digits it reads right.

# %%
first = ownnet.BookNetwork(784, 100, 10, lr=0.3)
history = first.fit(train, epochs=1)
print(f"test accuracy: {first.score(test):.2%}")

# %% [markdown]
# ## Asking it about one digit
#
# `outputs` gives the 10 outputs for one image (the book's `query`, which
# takes the pixels already scaled). The largest one is the network's answer,
# `predict`; the others show what else it half-believes.

# %%
image, label = test.images[0], test.labels[0]
outputs = first.outputs(image)
fig, axes = plt.subplots(1, 2, figsize=(8, 3), width_ratios=[1, 2])
axes[0].imshow(image, cmap="Greys")
axes[0].set_title(f"label {label}")
axes[0].set_axis_off()
axes[1].bar(range(10), outputs, color=["C1" if d == outputs.argmax() else "C0" for d in range(10)])
axes[1].set_xticks(range(10))
axes[1].set_title(f"outputs: the answer is {outputs.argmax()}")
plt.tight_layout()
plt.show()
print(np.round(outputs, 3), "-> predict:", first.predict(image))

# %% [markdown]
# ## The book's best: 200 hidden neurons, lr 0.1, 5 epochs
#
# More hidden neurons give it more room to learn; a smaller learning rate and
# several passes over the data let it settle. We measure the test accuracy
# after every epoch: `validation_data` is measured after each epoch and never
# learnt from, so `val_accuracy` is the test accuracy.

# %%
net = ownnet.BookNetwork(784, 200, 10, lr=0.1)
history = net.fit(train, epochs=EPOCHS, validation_data=test)

# %% [markdown]
# `fit` returns the **history**, one value per epoch for each of
# `history.keys()`: the training `loss` and `accuracy`, the same on the
# validation data (`val_loss`, `val_accuracy`), the `seconds`, and more.
#
# The training accuracy is measured while the network learns, each digit just
# before it learns from it. In the first epoch the network starts knowing
# nothing, so it sits below the test accuracy; later it passes it, as the
# network comes to know the training digits better than new ones.

# %%
print(history.keys())
fig, ax = plt.subplots()
ax.plot(history["epoch"], np.array(history["accuracy"]) * 100, "o-", label="training")
ax.plot(history["epoch"], np.array(history["val_accuracy"]) * 100, "o-", label="test")
ax.set_xlabel("epoch")
ax.set_ylabel("accuracy (%)")
ax.set_xticks(history["epoch"])
ax.set_title("784-200-10, lr 0.1")
ax.grid(alpha=0.3)
ax.legend()
plt.show()
print(f"test accuracy after {EPOCHS} epoch(s): {history['val_accuracy'][-1]:.2%}")

# %% [markdown]
# ## Which digits does it confuse?
#
# The confusion matrix counts, for each true digit (row), what the network
# answered (column). The diagonal is right; everything else is a mistake.

# %%
from ownnet.confusion import confusion_matrix, format_confusion, per_class_accuracy

predicted = net.predict(test.images)
matrix = confusion_matrix(test.labels, predicted)
print(format_confusion(matrix))
print()
for digit, acc in enumerate(per_class_accuracy(matrix)):
    print(f"{digit}: {acc:.1%}", end="   ")

# %%
off = matrix.astype(float)
np.fill_diagonal(off, np.nan)
fig, ax = plt.subplots(figsize=(5, 4))
im = ax.imshow(off, cmap="Reds")
ax.set_xlabel("answer")
ax.set_ylabel("true digit")
ax.set_xticks(range(10))
ax.set_yticks(range(10))
ax.set_title("mistakes (the diagonal left out)")
fig.colorbar(im)
plt.show()

# %% [markdown]
# ## Its mistakes
#
# Some of these are poorly written; others a person reads at once.

# %%
wrong = np.flatnonzero(predicted != test.labels)
print(f"{len(wrong)} of {len(test):,} wrong")
fig, axes = plt.subplots(2, 10, figsize=(10, 2.6))
for ax, i in zip(axes.flat, wrong, strict=False):
    ax.imshow(test.images[i], cmap="Greys")
    ax.set_title(f"{test.labels[i]}→{predicted[i]}", color="C3")
for ax in axes.flat:
    ax.set_axis_off()
plt.suptitle("true → answer")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Saving it
#
# `save` writes a model file: a `.npz` of the weights with JSON metadata (no
# pickle, so loading a stranger's file cannot run code). The metadata keeps
# the network's settings, its history and anything you add; `ownnet.load`
# gives the network back, with the metadata as `meta`. On the command line
# the same thing is `ownnet train --out model.npz` then
# `ownnet test model.npz`.

# %%
with tempfile.TemporaryDirectory() as folder:
    path = net.save(Path(folder) / "book.npz", test_accuracy=history["val_accuracy"][-1])
    print(f"{path.name}: {path.stat().st_size / 1e3:.0f} kB")
    loaded = ownnet.load(path)
print(loaded)
print("kind:", loaded.meta["kind"], " config:", loaded.meta["config"])
print(f"test accuracy kept with it: {loaded.meta['test_accuracy']:.2%}")
print("same answers after loading:", np.array_equal(loaded.predict(test.images), predicted))

# %% [markdown]
# Notebook 4 changes one thing at a time (learning rate, epochs, hidden
# neurons, rotated copies of the digits) and measures how much each helps,
# with error bars over several seeds.
