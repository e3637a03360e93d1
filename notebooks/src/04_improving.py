# ruff: noqa: E402 - a notebook imports where it first needs a module (see notebooks/make.py)
# %% [markdown]
# # 4 · Improving it: learning rate, epochs, hidden neurons, rotations
#
# The book tunes its network by changing one thing at a time and measuring
# the test accuracy once. But one run is one roll of the dice: another seed
# (other first weights) gives a different number. Here every setting runs with
# several seeds, and the plots show the mean with a 95% interval, so we can
# tell a real improvement from luck.
#
# The sweeps use `ownnet.experiments`, the same code as the command
# `ownnet sweep --preset book-lr` (which can also spread runs over processes
# or a Dask cluster and resumes where it stopped). Every finished run is kept
# in an SQLite store.
#
# With `OWNNET_QUICK=1` the sweeps use 1,000 training and 500 test digits and
# at most 2 epochs, so the numbers are much lower than the saved full run's.

# %%
import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Image, display

import ownnet
from ownnet.experiments.executors import make_executor
from ownnet.experiments.plots import plot
from ownnet.experiments.presets import PRESETS
from ownnet.experiments.store import Store
from ownnet.experiments.summary import format_table, summarize
from ownnet.experiments.sweep import plan_runs, run_sweep

QUICK = os.environ.get("OWNNET_QUICK", "0") not in ("", "0")
plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (6, 3.5)})

folder = Path(tempfile.mkdtemp(prefix="ownnet-sweeps-"))
store = Store(folder / "sweeps.db")
executor = make_executor()  # runs one after the other here; see `ownnet sweep --workers`


def sweep(name, *, grid=None, repeats=3):
    """Run a preset (quick: on little data), print its summary and show its plot."""
    preset = PRESETS[name]
    plan = preset.plan()
    plan.repeats = repeats
    if grid:
        plan.grid.update(grid)
    if QUICK:
        plan.repeats = 2
        plan.base.update(train_size=1000, test_size=500, epochs=min(plan.base["epochs"], 2))
    specs = plan_runs(plan)
    report = run_sweep(specs, store, executor, progress=False)
    print(f"{name}: {report.ran} runs in {report.seconds:.0f} s")
    runs = store.runs([s.run_id for s in specs])
    print(format_table(summarize(runs, preset.summary_epochs)))
    path = plot(runs, folder / f"{name}.png", **preset.plot)
    display(Image(filename=str(path), width=560))
    return runs


# %% [markdown]
# ## Learning rate
#
# The learning rate says how far each weight moves after each sample. Too
# small and one pass over the data is not enough to learn; too large and each
# sample undoes what the last ones taught. The book's first tuning: 100 hidden
# neurons, one epoch.

# %%
runs_lr = sweep("book-lr")

# %% [markdown]
# ## Epochs
#
# Going over the training data more than once helps, up to a point: the
# network starts to learn the training digits' quirks instead of digits
# in general. Every run records its test accuracy after each epoch, so one
# 10-epoch run gives the whole curve.

# %%
runs_epochs = sweep("book-epochs")

# %% [markdown]
# ## Hidden neurons
#
# The hidden layer is where the network keeps what it has learnt. Five
# neurons are too few to tell ten digits apart well; a few hundred are plenty
# (and each costs time).

# %%
runs_hidden = sweep("book-hidden")

# %%
seconds = {}
for r in runs_hidden:
    seconds.setdefault(r.config["hidden"], []).append(r.seconds)
sizes = sorted(seconds)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(sizes, [np.mean(seconds[h]) for h in sizes], "o-")
ax.set_xscale("log")
ax.set_xlabel("hidden neurons")
ax.set_ylabel("seconds per run")
ax.set_title("the price of hidden neurons")
plt.show()

# %% [markdown]
# ## More data by rotating the digits
#
# The book makes two more training samples from every digit by rotating it
# 10° each way, tripling the training set. People do not write perfectly
# upright, so the rotated digits are realistic new samples.

# %%
from ownnet.data.augment import with_rotations

train, _ = ownnet.load_mnist()
tripled = with_rotations(train.subset(4), 10.0)
print(f"{len(train.subset(4))} digits -> {len(tripled)} samples")
fig, axes = plt.subplots(3, 4, figsize=(6, 4.6))
for i, ax in enumerate(axes.T.flat):
    ax.imshow(tripled.images[i], cmap="Greys")
    ax.set_axis_off()
for ax, title in zip(axes[:, 0], ["original", "+10°", "−10°"], strict=True):
    ax.set_title(title, loc="left", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# The book's best setting: 200 hidden neurons, learning rate 0.01, 10 epochs,
# with and without the rotated copies.

# %%
runs_rotation = sweep("book-rotation", grid={"rotate": [0.0, 10.0]})

# %% [markdown]
# ## Four ways to split the error
#
# The book sends the output error back in proportion to the link weights
# (`Wᵀ · e`) and mentions other ways. Here are four: split it equally, in
# proportion to the weights normalised per output (`proportional`), the
# book's `Wᵀ · e`, and `Wᵀ · e / N`.

# %%
runs_split = sweep("heuristics")

# %% [markdown]
# Splitting the error equally tells every hidden neuron only the sum of the
# output errors: whether the outputs are too high or too low overall, not
# which digit was right. The hidden layer learns nothing useful: the network
# does hardly better than always answering the most common digit (11% right,
# notebook 1), and more epochs do not help. The book's `Wᵀ · e` sends each
# hidden neuron the share its links are responsible for, and learns fastest
# of the four.

# %% [markdown]
# ## What we learnt
#
# Each curve above is the mean of several seeds, with its 95% interval: where
# two intervals overlap, one run of each could easily have come out the other
# way round. Repeating the runs is what lets us say which changes really help.
#
# The same sweeps on the command line:
#
# ```
# ownnet sweep --preset book-lr --repeats 3 --workers 2
# ownnet sweep --param hidden=50,100,200 --param lr=0.1 --repeats 5
# ```

# %%
store.close()
