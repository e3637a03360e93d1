"""ownnet.blocks: the book's network trained in blocks equals the book's own code sample by
sample, for every error split, with and without bias, with one thread or two."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import synthetic_digits
from scipy.special import expit
from test_classic import BookReference, book_inputs, book_targets

from ownnet import blocks, classic
from ownnet.book import INPUTS

SCALE = INPUTS


def workspace(net: classic.Network, threads: int, block: int = blocks.BLOCK) -> blocks.Workspace:
    return blocks.Workspace(
        *net.sizes, net.bias, inputs=SCALE, targets=(0.01, 0.99), block=block, threads=threads
    )


@pytest.fixture(scope="module")
def digits():
    images, labels = synthetic_digits(300, 11)
    return images.reshape(300, -1), labels


def reference_run(net, digits, split):
    """The book's code on the digits in order: final weights, summed loss, right count."""
    ref = BookReference(net.wih, net.who, net.lr, net.bias, split)
    loss, right = 0.0, 0
    for image, label in zip(*digits):
        x, t = book_inputs(image), book_targets(label)
        xb = np.append(x, 1.0) if net.bias else x
        h = expit(ref.wih @ xb)
        o = expit(ref.who @ (np.append(h, 1.0) if net.bias else h))
        loss += 0.5 * float(np.sum((t - o) ** 2))
        right += int(np.argmax(o) == label)
        ref.train(x, t)
    return ref, loss, right


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("split", classic.ERROR_SPLITS)
def test_blocks_equal_the_book_sample_by_sample(digits, bias, split):
    # 300 samples in calls of 120 and 180: blocks of 64 cross the calls' ends and end short
    net = classic.Network(784, 24, 10, lr=0.3, bias=bias, error_split=split, seed=2)
    ref, ref_loss, ref_right = reference_run(net, digits, split)
    results = []
    for threads in (1, 2):
        wih, who = net.wih.copy(), net.who.copy()
        work = workspace(net, threads)
        images, labels = digits
        loss, right = 0.0, 0
        for part in (slice(0, 120), slice(120, 300)):
            part_loss, part_right = blocks.train_samples(
                wih, who, net.lr, images[part], labels[part], work, split
            )
            loss += part_loss
            right += part_right
        work.close()
        np.testing.assert_allclose(wih, ref.wih, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(who, ref.who, rtol=1e-9, atol=1e-12)
        assert loss == pytest.approx(ref_loss, rel=1e-9)
        assert right == ref_right
        results.append((wih, who, loss))
    # the worker thread changes when the work is done, not the arithmetic
    for a, b in zip(results[0], results[1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_block_size_does_not_change_the_maths(digits):
    net = classic.Network(784, 16, 10, lr=0.2, seed=4)
    ref, _, _ = reference_run(net, digits, "transpose")
    for block in (1, 7, 100):
        wih, who = net.wih.copy(), net.who.copy()
        blocks.train_samples(wih, who, net.lr, *digits, workspace(net, 2, block))
        np.testing.assert_allclose(wih, ref.wih, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(who, ref.who, rtol=1e-9, atol=1e-12)


def test_classic_fit_reports_the_blocks_loss_and_counts(digits):
    net = classic.Network(784, 16, 10, lr=0.2, seed=4)
    _, ref_loss, ref_right = reference_run(net, digits, "transpose")
    loss, right = net._train_block(*digits)
    assert loss == pytest.approx(ref_loss, rel=1e-9) and right == ref_right


def test_bad_weights_are_explained(digits):
    net = classic.Network(784, 16, 10, seed=0)
    work = workspace(net, 1)
    with pytest.raises(ValueError, match=r"do not fit a workspace for \(784, 16, 10\)"):
        blocks.train_samples(net.wih[:, :100], net.who, 0.1, *digits, work)
    with pytest.raises(ValueError, match="C-contiguous float64"):
        blocks.train_samples(np.asfortranarray(net.wih), net.who, 0.1, *digits, work)
    with pytest.raises(ValueError, match=r"one value per pixel value \(256,\)"):
        blocks.Workspace(784, 16, 10, False, inputs=SCALE[:10], targets=(0.01, 0.99))
    assert blocks.train_samples(net.wih, net.who, 0.1, *(a[:0] for a in digits), work) == (0, 0)


def test_a_trained_network_still_copies_and_pickles(digits):
    import pickle

    net = classic.Network(784, 16, 10, seed=0)
    net.fit(type("Data", (), {"images": digits[0], "labels": digits[1]}), epochs=1, verbose=0)
    twin = pickle.loads(pickle.dumps(net))
    np.testing.assert_array_equal(twin.wih, net.wih)
    twin.fit(type("Data", (), {"images": digits[0], "labels": digits[1]}), epochs=1, verbose=0)
