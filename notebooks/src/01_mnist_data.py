# ruff: noqa: E402 - a notebook imports where it first needs a module (see notebooks/make.py)
# %% [markdown]
# # 1 · The MNIST data
#
# The book teaches a network to read handwritten digits from **MNIST**: 60,000
# training and 10,000 test images of 28×28 grey pixels, each with the digit it
# shows. This notebook loads them with `ownnet` and looks at them closely:
# what a digit is to the computer, how many of each there are, and what the
# network will be given as inputs and targets.
#
# Every notebook here reads `OWNNET_QUICK`: with `OWNNET_QUICK=1` it uses less
# data and fewer epochs (the tests run them that way); without it, full settings.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import ownnet

QUICK = os.environ.get("OWNNET_QUICK", "0") not in ("", "0")
plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (6, 3.5)})
print(f"ownnet {ownnet.__version__}, {'quick' if QUICK else 'full'} settings")

# %% [markdown]
# ## Loading
#
# `ownnet.load_mnist()` looks for the four MNIST files in `$OWNNET_DATA`,
# then in the cache (`~/.cache/ownnet/mnist`); if it finds nothing it
# downloads them there and checks their SHA-256. It returns the training and
# the test set. On the command line, `ownnet data` shows where it looked and
# what it found.

# %%
train, test = ownnet.load_mnist()
print(f"{train.name}: {len(train):,} images; {test.name}: {len(test):,} images")
print("images:", train.images.shape, train.images.dtype, "labels:", train.labels.shape)
print("checksum of the training set:", train.checksum()[:16], "...")

# %% [markdown]
# A digit is nothing but a 28×28 array of numbers from 0 (background) to 255
# (full ink). Here is the middle of the first training image, number by number:

# %%
first = train.images[0]
print("label:", train.labels[0])
for row in first[4:24, 4:24]:
    print(" ".join(f"{v:3d}" for v in row))

# %%
fig, axes = plt.subplots(1, 2, figsize=(8, 3.5))
axes[0].imshow(first, cmap="Greys")
axes[0].set_title(f"the first training image: a {train.labels[0]}")
sample = train.images[: 1000 if QUICK else 10000].ravel()
axes[1].hist(sample, bins=64, log=True, color="0.3")
axes[1].set_xlabel("pixel value")
axes[1].set_ylabel("pixels (log scale)")
axes[1].set_title(f"{np.mean(sample == 0):.0%} of pixels are 0")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Many digits
#
# The first 30 training images with their labels. People write the same digit
# in many ways; some are hard even for us.

# %%
fig, axes = plt.subplots(3, 10, figsize=(10, 3.4))
for ax, image, label in zip(axes.flat, train.images, train.labels, strict=False):
    ax.imshow(image, cmap="Greys")
    ax.set_title(str(label))
    ax.set_axis_off()
plt.tight_layout()
plt.show()

# %% [markdown]
# How many of each digit are there? Not exactly 10% each: there are more 1s
# than 5s. A network that always answered "1" would be right about 11% of the
# time, so that is the score to beat.

# %%
x = np.arange(10)
fig, ax = plt.subplots()
ax.bar(x - 0.2, train.label_counts() / len(train), 0.4, label=f"train ({len(train):,})")
ax.bar(x + 0.2, test.label_counts() / len(test), 0.4, label=f"test ({len(test):,})")
ax.set_xticks(x)
ax.set_xlabel("digit")
ax.set_ylabel("share of the set")
ax.legend(loc="lower right")
plt.show()
print("most common digit in the test set:", test.label_counts().argmax(),
      f"({test.label_counts().max() / len(test):.1%})")  # fmt: skip

# %% [markdown]
# ## The average digit
#
# Averaging every image of one digit shows the shape the network has to find;
# the blur shows how much the writing varies.

# %%
fig, axes = plt.subplots(1, 10, figsize=(10, 1.5))
for digit, ax in enumerate(axes):
    ax.imshow(train.images[train.labels == digit].mean(axis=0), cmap="Greys")
    ax.set_title(str(digit))
    ax.set_axis_off()
plt.show()

ink = train.images.reshape(len(train), -1).astype(float).sum(axis=1) / 255
means = [ink[train.labels == d].mean() for d in range(10)]
print("ink per digit (pixels' worth):", " ".join(f"{d}:{m:.0f}" for d, m in enumerate(means)))

# %% [markdown]
# ## What the network is given
#
# The book's network does not take 0..255. Each pixel becomes
# `value / 255 × 0.99 + 0.01`, a number between 0.01 and 1.00: zero inputs
# would stop the weights from learning, and large ones would push the sigmoid
# into its flat ends. `ownnet.book.book_inputs` does this (the images keep
# their shape).
#
# The answer it should give, the **target**, is 10 numbers, one per digit:
# 0.99 for the right digit and 0.01 for the others (a sigmoid can never quite
# reach 0 or 1): `ownnet.book.book_targets`.
#
# You never have to call them yourself: every ownnet network takes the pixels
# as MNIST stores them, 0..255 (or as floats 0..1), and the labels as digits,
# and turns them into these numbers at its edge. They are here to show what
# the network really sees.

# %%
from ownnet.book import book_inputs, book_targets

inputs = book_inputs(train.images[:3])
targets = book_targets(train.labels[:3])
print("inputs:", inputs.shape, f"from {inputs.min():.2f} to {inputs.max():.2f}")
np.set_printoptions(precision=2, suppress=True)
for label, t in zip(train.labels[:3], targets, strict=True):
    print(f"label {label}: targets {t}")

# %% [markdown]
# The test set is kept apart: the network never learns from it, so its score
# there tells how well it reads digits it has never seen, written by other
# people. The next notebook builds a tiny network by hand; notebook 3 trains
# the book's network on these 60,000 digits.
