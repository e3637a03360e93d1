# ruff: noqa: E402 - a notebook imports where it first needs a module (see notebooks/make.py)
# %% [markdown]
# # 6 · Your own handwriting
#
# A network that reads 97% of the MNIST test digits can still fail on a
# photo of a digit you wrote yourself. MNIST digits are not just any pictures
# of digits: each was cropped to its ink, scaled so its longer side is 20
# pixels, and placed in a 28×28 field with its centre of mass in the middle,
# light ink on black. A photo is none of these things. This notebook
# prepares pictures the way MNIST was made (`ownnet.data.images.prepare`) and
# shows how much that matters.
#
# Lacking your handwriting, it uses photo-like digits that
# `ownnet.inspect.sample_digits` draws with random pen, slant, size, position,
# paper, lighting and noise. The last section reads your own files.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

import ownnet
from ownnet.data.images import prepare, prepare_steps
from ownnet.inspect.sample_digits import label_from_name, write_samples

QUICK = os.environ.get("OWNNET_QUICK", "0") not in ("", "0")
plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (6, 3.5)})

train, test = ownnet.load_mnist()
if QUICK:
    train, test = train.subset(5000), test.subset(1000)
EPOCHS = 1 if QUICK else 5
net = ownnet.BookNetwork(784, 200, 10, lr=0.1)
net.fit(train, epochs=EPOCHS, verbose=0)
print(f"the book's network: {net.score(test):.2%} of the MNIST test digits right")

# %% [markdown]
# ## Photo-like digits
#
# `write_samples` writes PNG and JPEG files named `NN-digit-D.png`, the label
# in the name.

# %%
folder = Path(tempfile.mkdtemp(prefix="ownnet-digits-"))
samples = write_samples(folder, count=40 if QUICK else 200, seed=1)
labels = np.array([label for _, label in samples])
fig, axes = plt.subplots(2, 10, figsize=(10, 2.8))
for ax, (path, label) in zip(axes.flat, samples, strict=False):
    ax.imshow(Image.open(path), cmap="gray", vmin=0, vmax=255)
    ax.set_title(f"{label}  {Image.open(path).size[0]}px", fontsize=9)
    ax.set_axis_off()
plt.tight_layout()
plt.show()

# %% [markdown]
# ## The simple way
#
# The book draws its own digits at 28×28 in an image editor, then takes
# `255 − pixel` (dark ink on white paper becomes light on black). Applied to
# photos of any size: shrink to 28×28, then invert.


# %%
def simple(path):
    grey = Image.open(path).convert("L").resize((28, 28), Image.Resampling.BILINEAR)
    return (255 - np.asarray(grey)).astype(np.uint8)


naive = np.stack([simple(p) for p, _ in samples])
naive_answers = net.predict(naive)
print(f"the simple way: {np.mean(naive_answers == labels):.0%} right")

# %% [markdown]
# ## The MNIST way
#
# `prepare` finds the background (any brightness, even a lighting gradient)
# and so the polarity, drops faint noise and specks, crops to the ink, scales
# its longer side to 20 pixels and centres its mass at (14, 14).
# `prepare_steps` shows the stages:

# %%
steps = prepare_steps(samples[3][0])
fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
axes[0].imshow(steps.grey, cmap="gray", vmin=0, vmax=1)
axes[0].set_title("the picture")
axes[1].imshow(steps.ink, cmap="gray")
axes[1].set_title(f"ink ({steps.polarity})")
top, left, bottom, right = steps.box
axes[2].imshow(steps.ink[top:bottom, left:right], cmap="gray")
axes[2].set_title("cropped to the ink")
axes[3].imshow(steps.image, cmap="gray")
axes[3].set_title("28×28, centred")
for ax in axes:
    ax.set_axis_off()
plt.tight_layout()
plt.show()

# %%
prepared = np.stack([prepare(p) for p, _ in samples])
answers = net.predict(prepared)
print(f"the simple way: {np.mean(naive_answers == labels):.0%} right")
print(f"the MNIST way:  {np.mean(answers == labels):.0%} right")

fig, axes = plt.subplots(2, 10, figsize=(10, 2.8))
for i, (top, bottom) in enumerate(zip(axes[0], axes[1], strict=True)):
    top.imshow(naive[i], cmap="gray")
    top.set_title(
        f"{labels[i]}→{naive_answers[i]}", color="C2" if naive_answers[i] == labels[i] else "C3"
    )
    bottom.imshow(prepared[i], cmap="gray")
    bottom.set_title(f"{labels[i]}→{answers[i]}", color="C2" if answers[i] == labels[i] else "C3")
for ax in axes.flat:
    ax.set_axis_off()
axes[0, 0].text(-4, 14, "simple", rotation=90, va="center", ha="right")
axes[1, 0].text(-4, 14, "MNIST way", rotation=90, va="center", ha="right")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Which digits go wrong?

# %%
per_digit = [np.mean(answers[labels == d] == d) for d in range(10)]
per_digit_naive = [np.mean(naive_answers[labels == d] == d) for d in range(10)]
x = np.arange(10)
fig, ax = plt.subplots(figsize=(7, 3))
ax.bar(x - 0.2, np.array(per_digit_naive) * 100, 0.4, label="simple")
ax.bar(x + 0.2, np.array(per_digit) * 100, 0.4, label="MNIST way")
ax.set_xticks(x)
ax.set_xlabel("digit")
ax.set_ylabel("% right")
ax.legend()
plt.show()

# %% [markdown]
# ## One step: `read`
#
# `net.read(path)` does both steps for one picture: it prepares it the MNIST
# way and asks the network. It answers with the digit, a score for every
# digit (from `predict_proba`, the ten scores add up to 1) and the prepared
# 28×28 image. For the book's network the scores are its ten sigmoid outputs
# divided by their sum (`net.proba_meaning` says so): they rank the digits,
# but they are not calibrated probabilities.

# %%
path, label = samples[3]
reading = net.read(path)
print(f"{path.name}: reads {reading.digit}, score {reading.confidence:.2f}")
print("top three:", ", ".join(f"{d} ({score:.2f})" for d, score in reading.top3))
print("scores:", net.proba_meaning)
print("the same image as prepare() gave above:", np.array_equal(reading.image, steps.image))

# %% [markdown]
# ## Your own digits
#
# Write digits on paper (a thick pen helps), photograph them, one digit per
# file, and put the files in a folder named `my_digits` next to this
# notebook, or point `OWNNET_MY_DIGITS` at a folder. Name a file
# `anything-digit-7.jpg` and the label is checked too. On the command line,
# `ownnet predict model.npz my_digits` reads them with a saved model, and
# `ownnet serve` opens a page where you draw a digit with the mouse.

# %%
mine = Path(os.environ.get("OWNNET_MY_DIGITS", "my_digits"))
files = sorted(p for p in mine.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
if not files:
    print(f"no pictures in {mine}/: add some and run this cell again")
for path in files:
    reading = net.read(path)
    label = label_from_name(path)
    print(f"{path.name}: reads {reading.digit} (score {reading.confidence:.2f})"
          + ("" if label is None else f", labelled {label}"))  # fmt: skip
