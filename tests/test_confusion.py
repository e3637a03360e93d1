import numpy as np

from ownnet.confusion import confusion_matrix, format_confusion, per_class_accuracy


def test_confusion_matrix_counts_pairs():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    m = confusion_matrix(labels, predicted, 3)
    np.testing.assert_array_equal(m, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_allclose(per_class_accuracy(m), [0.5, 1.0, 2 / 3])


def test_absent_class_is_nan_and_text_is_aligned():
    m = confusion_matrix(np.array([0, 0]), np.array([0, 1]), 3)
    acc = per_class_accuracy(m)
    assert acc[0] == 0.5 and np.isnan(acc[1])
    text = format_confusion(m).splitlines()
    assert len(text) == 4 and len({len(line) for line in text}) == 1
