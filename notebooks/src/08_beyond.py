# ruff: noqa: E402 - a notebook imports where it first needs a module (see notebooks/make.py)
# %% [markdown]
# # 8 · Beyond the book: MLP and CNN
#
# The book's network learns from one sample at a time, with sigmoid neurons
# and a quadratic error. Since the book, a few ideas made networks learn
# better and faster:
#
# * **minibatches**: average the weight changes of, say, 32 samples and take
#   one step; a matrix product for 32 samples costs far less than 32 products;
# * **relu** hidden neurons (`max(0, x)`), whose slope does not fade away as
#   the sigmoid's does at both ends;
# * a **softmax** output with the **cross-entropy** error, which turns the
#   outputs into probabilities and learns fastest exactly when it is most wrong;
# * **optimisers** such as RMSprop and Adam that adapt each weight's step;
# * **dropout**, switching off random neurons while training, so that no
#   neuron can rely on another;
# * **convolutions**, which look at the picture as a picture.
#
# `ownnet.nn` is a small Keras-like engine with these pieces, written with
# NumPy like the rest; `ownnet.Network` is its network, and its layers and
# optimisers are `ownnet.Dense`, `ownnet.Adam` and so on. This notebook first
# checks it is still the book's network when set up as the book, then tries
# the ideas one by one.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np

import ownnet

QUICK = os.environ.get("OWNNET_QUICK", "0") not in ("", "0")
plt.rcParams.update({"figure.dpi": 72, "figure.figsize": (6, 3.5)})

train, test = ownnet.load_mnist()
if QUICK:
    train, test = train.subset(2000), test.subset(500)
EPOCHS = 1 if QUICK else 3  # for the comparisons
MLP_EPOCHS = 1 if QUICK else 10
MLP_HIDDEN = (64,) if QUICK else (512, 512)
print(f"{len(train):,} training and {len(test):,} test digits")

# %% [markdown]
# ## The book's network, in the engine
#
# `ownnet.Network.book()` is the book's network in the engine: two sigmoid
# `Dense` layers, the quadratic error, the book's input scaling and targets,
# its way of sending errors back (`book_errors`), float64, and plain SGD with
# learning rate 0.1 on one sample at a time. `ownnet.convert.classic_to_nn`
# builds it with the weights of a `BookNetwork`; trained on the same samples
# in the same order (`shuffle=False`: the engine shuffles unless told not to),
# it makes the same steps.

# %%
from ownnet.convert import classic_to_nn, nn_to_classic

book = ownnet.BookNetwork(784, 100, 10, lr=0.1)
engine = classic_to_nn(book)
print(engine.summary())
part = train.subset(500)
book.fit(part, epochs=1, verbose=0)
engine.fit(part, epochs=1, shuffle=False, verbose=0)
back = nn_to_classic(engine)
print("largest weight difference after 500 samples:",
      max(np.abs(back.wih - book.wih).max(), np.abs(back.who - book.who).max()))  # fmt: skip

# %% [markdown]
# ## One idea at a time
#
# A 784-200-10 network each time, changing one thing after another, trained
# for the same number of epochs. An `ownnet.Network` is a list of layers; it
# carries its error (`loss`), its optimiser and its batch size (32 unless told
# otherwise, as in Keras). Every network, the book's included, trains with
# the same `fit` and returns the same history.


# %%
def dense_net(hidden_act, output_act, loss, optimizer, **options):
    layers = [ownnet.Dense(200, hidden_act), ownnet.Dense(10, output_act)]
    return ownnet.Network(layers, loss=loss, optimizer=optimizer, **options)


variants = {
    "the book\n(batch 1)": ownnet.BookNetwork(784, 200, 10, lr=0.1),
    "+ batches of 32\n(lr 1.0)": dense_net(
        "sigmoid", "sigmoid", "quadratic", ownnet.SGD(1.0), input_scale="book", targets="book"
    ),
    "+ softmax,\ncross-entropy": dense_net("sigmoid", "softmax", "cross_entropy", ownnet.SGD(0.5)),
    "+ relu": dense_net("relu", "softmax", "cross_entropy", ownnet.SGD(0.1)),
    "+ Adam": dense_net("relu", "softmax", "cross_entropy", ownnet.Adam(0.001)),
}
results = {}
for name, net in variants.items():
    history = net.fit(train, epochs=EPOCHS, validation_data=test, seed=0, verbose=0)
    results[name] = (history["val_accuracy"], sum(history["seconds"]))
for name, (accs, seconds) in results.items():
    print(f"{name.replace(chr(10), ' '):32s} test accuracy {accs[-1]:.2%}   {seconds:5.1f} s")

# %% [markdown]
# Batches alone mean far fewer steps per epoch (1,875 of 32 samples instead
# of 60,000 of one); with sigmoid outputs and the quadratic error that costs
# accuracy. The softmax with cross-entropy, relu neurons and Adam each win
# some back. (Times depend on the machine; the book's network here is
# `ownnet.BookNetwork`, which is itself tuned for one sample at a time.)

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
names = list(results)
axes[0].bar(names, [100 * results[n][0][-1] for n in names], color="C0")
axes[0].set_ylim(80 if QUICK else 94, 100)
axes[0].set_ylabel(f"test accuracy after {EPOCHS} epoch(s), %")
axes[1].bar(names, [results[n][1] for n in names], color="C1")
axes[1].set_ylabel("training seconds")
for ax in axes:
    ax.tick_params(axis="x", labelsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## A bigger network: the Keras MLP
#
# Keras' classic MNIST example: two hidden layers of 512 relu neurons, each
# followed by 20% dropout, a softmax output, cross-entropy, RMSprop with
# learning rate 0.001, batches of 128. `ownnet.Network.mlp()` builds it,
# optimiser and batch size included, so `fit` needs only the data and the
# epochs.

# %%
mlp = ownnet.Network.mlp(MLP_HIDDEN)
print(mlp.summary())
history = mlp.fit(train, epochs=MLP_EPOCHS, validation_data=test, seed=0, verbose=0)
print(f"test accuracy after {MLP_EPOCHS} epochs: {history['val_accuracy'][-1]:.2%} "
      f"({sum(history['seconds']):.0f} s)")  # fmt: skip

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
axes[0].plot(history["epoch"], history["loss"], "o-", label="training")
axes[0].plot(history["epoch"], history["val_loss"], "o-", label="test")
axes[0].set_title("cross-entropy")
axes[1].plot(history["epoch"], np.array(history["accuracy"]) * 100, "o-", label="training")
axes[1].plot(history["epoch"], np.array(history["val_accuracy"]) * 100, "o-", label="test")
axes[1].set_title("accuracy (%)")
for ax in axes:
    ax.set_xlabel("epoch")
    ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# The training accuracy is measured with dropout switched on, which is why it
# can sit below the test accuracy. Where the test loss stops falling while
# the training loss keeps going down, the network has begun to learn the
# training digits by heart.

# %% [markdown]
# ## Convolutions: a network that knows it is looking at a picture
#
# A dense layer treats the 784 pixels as a list: shuffle them the same way in
# every image and it learns just as well. A **convolution** slides small
# filters (here 5×5) over the image, so the same weights look for the same
# stroke everywhere; **max pooling** keeps the strongest response in each
# 2×2 patch, so a stroke shifted by a pixel still counts. Two rounds of both,
# then dense layers, is LeNet's recipe. Images go in as
# `(channels, height, width)` = `(1, 28, 28)`; the network reshapes the
# pixels itself.

# %%
F1, F2 = (4, 8) if QUICK else (16, 32)
CNN_EPOCHS = 1 if QUICK else 5
cnn = ownnet.Network(
    [
        ownnet.Conv2D(F1, 5, activation="relu"),
        ownnet.MaxPool2D(2),
        ownnet.Conv2D(F2, 5, activation="relu"),
        ownnet.MaxPool2D(2),
        ownnet.Flatten(),
        ownnet.Dense(100, "relu"),
        ownnet.Dense(10, "softmax"),
    ],
    input_shape=(1, 28, 28),
    optimizer=ownnet.Adam(0.001),
    batch_size=64,
)
print(cnn.summary())
cnn_history = cnn.fit(train, epochs=CNN_EPOCHS, validation_data=test, seed=0, verbose=0)
print(f"test accuracy after {CNN_EPOCHS} epochs: {cnn_history['val_accuracy'][-1]:.2%} "
      f"({sum(cnn_history['seconds']):.0f} s), with {cnn.n_params:,} weights "
      f"against the MLP's {mlp.n_params:,}")  # fmt: skip

# %% [markdown]
# The first layer's filters, and what they make of one test digit: each
# filter answers where its pattern (an edge, a stroke in one direction) is.

# %%
kernels = cnn.layers[0].params["W"]  # (5, 5, 1, F1)
digit = (test.images[:1].reshape(1, 1, 28, 28) / 255).astype(np.float32)
maps = np.array(cnn.layers[0].forward(digit))[0]  # (F1, 24, 24)
fig, axes = plt.subplots(2, F1, figsize=(min(10, 1.2 * F1), 2.6))
for f in range(F1):
    k = kernels[:, :, 0, f]
    m = np.abs(k).max()
    axes[0, f].imshow(k, cmap="RdBu_r", vmin=-m, vmax=m)
    axes[1, f].imshow(maps[f], cmap="Greys")
for ax in axes.flat:
    ax.set_axis_off()
axes[0, 0].set_title("filters", loc="left", fontsize=10)
axes[1, 0].set_title(f"on a {test.labels[0]}", loc="left", fontsize=10)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Where the mistakes are
#
# The book's network (from the comparison above), the MLP and the CNN, on
# the same test digits: they answer the same questions in the same way
# (`predict`, `score`).

# %%
from ownnet.confusion import confusion_matrix, per_class_accuracy

fig, ax = plt.subplots(figsize=(8, 3))
x = np.arange(10)
models = [("the book", variants["the book\n(batch 1)"]), ("MLP", mlp), ("CNN", cnn)]
for offset, (name, model) in zip((-0.27, 0.0, 0.27), models, strict=True):
    right = per_class_accuracy(confusion_matrix(test.labels, model.predict(test.images)))
    wrong = 100 * (1 - model.score(test))
    ax.bar(x + offset, 100 * (1 - right), 0.27, label=f"{name}: {wrong:.2f}% wrong")
ax.set_xticks(x)
ax.set_xlabel("digit")
ax.set_ylabel("% of that digit wrong")
ax.legend()
plt.show()

# %% [markdown]
# From the book's three layers of sigmoid neurons to a small CNN, every step
# was the same idea as in notebook 2: forward, compare, send the error back,
# nudge the weights. On the command line the MLP is `ownnet train --model
# mlp` (in Python, `ownnet.from_config({"model": "mlp"})` builds the same
# network), and `ownnet sweep --model mlp --param hidden=128,512` compares
# settings with error bars, as notebook 4 did for the book's network.
