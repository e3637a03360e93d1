"""Sliding windows for convolution and pooling, on batch-last arrays ``(C, H, W, N)``.

Layers take and give the public layout ``(N, C, H, W)`` (PyTorch's). Inside,
the image layers work on the same numbers ordered ``(C, H, W, N)``, the batch
last, and hand that on as a transposed view (:func:`public`), which costs
nothing; the next image layer's :func:`internal` view is then contiguous
again. With the batch last, every window offset of an image is a block of
whole ``N``-long runs, so the copies and sums below have long inner loops
(with ``(N, C, H, W)`` they would run along image rows of 14 or 28 values).

A convolution with a ``(kh, kw)`` kernel is one matrix product once the
input is unrolled into *columns*: for each kernel offset ``(i, j)`` the block
``cols[i, j]`` ``(C, Ho, Wo, N)`` holds the input pixel that offset sees at
every output position (the windows ``numpy.lib.stride_tricks.sliding_window_view``
would give, written out). With the kernel as ``(kh * kw * C, F)`` the output
is ``W.T @ cols.reshape(kh * kw * C, Ho * Wo * N)`` -> ``(F, Ho, Wo, N)``:
batch-last again. :func:`im2col` makes the columns with ``kh * kw`` slice
copies; :func:`col2im` adds column gradients back with ``kh * kw`` slice sums.
"""

from __future__ import annotations

import numpy as np


def public(arr: np.ndarray) -> np.ndarray:
    """Batch-last ``(C, H, W, N)`` -> the ``(N, C, H, W)`` view."""
    return arr.transpose(3, 0, 1, 2)


def internal(x: np.ndarray) -> np.ndarray:
    """``(N, C, H, W)`` -> the batch-last ``(C, H, W, N)`` view (contiguous when ``x`` came
    from an image layer)."""
    return x.transpose(1, 2, 3, 0)


def out_size(size: int, kernel: int, stride: int, padding: str) -> tuple[int, int, int]:
    """``(output size, padding before, padding after)`` along one axis.

    ``"valid"``: no padding, ``(size - kernel) // stride + 1`` outputs.
    ``"same"``: ``ceil(size / stride)`` outputs, zero padding split as evenly as
    possible with the odd pixel after (as TensorFlow and Keras do).
    """
    if padding == "valid":
        if size < kernel:
            raise ValueError(f"a window of {kernel} does not fit an input of {size}")
        return (size - kernel) // stride + 1, 0, 0
    if padding == "same":
        n_out = -(-size // stride)
        total = max((n_out - 1) * stride + kernel - size, 0)
        return n_out, total // 2, total - total // 2
    raise ValueError(f"padding must be 'valid' or 'same', found {padding!r}")


def window(
    x: np.ndarray, i: int, j: int, stride: int, n_rows: int, n_cols: int, col_stride: int = 0
) -> np.ndarray:
    """The view of batch-last ``x (C, H, W, N)`` that window offset ``(i, j)`` sees:
    ``(C, n_rows, n_cols, N)`` (every ``col_stride``-th column, default ``stride``)."""
    step = col_stride or stride
    rows = slice(i, i + stride * (n_rows - 1) + 1, stride)
    cols = slice(j, j + step * (n_cols - 1) + 1, step)
    return x[:, rows, cols, :]


def im2col(
    xp: np.ndarray,
    kh: int,
    kw: int,
    stride: int,
    n_rows: int,
    n_cols: int,
    out: np.ndarray,
    row: int = 0,
) -> np.ndarray:
    """Unroll padded inputs ``xp (C, Hp, Wp, N)`` into ``out (kh, kw, C, n_rows, n_cols, N)``:
    the columns of output rows ``row, row + 1, ...``."""
    for i in range(kh):
        for j in range(kw):
            np.copyto(out[i, j], window(xp, row * stride + i, j, stride, n_rows, n_cols))
    return out


def col2im(dcols: np.ndarray, stride: int, out: np.ndarray) -> np.ndarray:
    """Sum the column gradients ``dcols (kh, kw, C, Ho, Wo, N)`` back onto the pixels they
    came from: ``out (C, Hp, Wp, N)`` (overwritten) is the padded input's gradient."""
    out.fill(0)
    return add_columns(dcols, stride, out)


def add_columns(dcols: np.ndarray, stride: int, out: np.ndarray, row: int = 0) -> np.ndarray:
    """Add the column gradients ``dcols (kh, kw, C, rows, Wo, N)`` of output rows
    ``row, row + 1, ...`` onto the pixels of ``out (C, Hp, Wp, N)`` they came from."""
    kh, kw, _, n_rows, n_cols, _ = dcols.shape
    for i in range(kh):
        for j in range(kw):
            view = window(out, row * stride + i, j, stride, n_rows, n_cols)
            view += dcols[i, j]
    return out


def im2col_pairs(
    xp: np.ndarray,
    kh: int,
    kw: int,
    stride: int,
    n_rows: int,
    n_pairs: int,
    out: np.ndarray,
    row: int = 0,
) -> np.ndarray:
    """As :func:`im2col` for output rows ``row, row + 1, ...`` and the first ``2 * n_pairs``
    output columns, ordered by column parity: ``out (kh, kw, C, n_rows, 2, n_pairs, N)``
    holds the even output columns, then the odd ones, of each row. A 2x2 pooling of the
    product then finds each window's left and right values in whole runs of ``n_pairs * N``."""
    for i in range(kh):
        for j in range(kw):
            for p in (0, 1):
                first = row * stride + i
                source = window(xp, first, j + p * stride, stride, n_rows, n_pairs, 2 * stride)
                np.copyto(out[i, j, :, :, p], source)
    return out


def add_columns_pairs(dcols: np.ndarray, stride: int, out: np.ndarray, row: int = 0) -> np.ndarray:
    """The gradient of :func:`im2col_pairs`: add ``dcols (kh, kw, C, rows, 2, pairs, N)`` onto
    the pixels of ``out (C, Hp, Wp, N)`` they came from."""
    kh, kw, _, n_rows, _, n_pairs, _ = dcols.shape
    for i in range(kh):
        for j in range(kw):
            for p in (0, 1):
                first = row * stride + i
                view = window(out, first, j + p * stride, stride, n_rows, n_pairs, 2 * stride)
                view += dcols[i, j, :, :, p]
    return out
