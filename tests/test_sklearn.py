"""ownnet.sklearn.OwnnetClassifier: scikit-learn's own estimator checks, and the estimator at
work on real tabular data (the data sets bundled with scikit-learn) in Pipeline,
GridSearchCV and cross_val_score, next to scikit-learn's MLPClassifier."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip(
    "sklearn", reason="scikit-learn is not installed (pip install 'ownnet[sklearn]')"
)

from sklearn.datasets import (  # noqa: E402
    load_breast_cancer,
    load_iris,
    load_wine,
    make_blobs,
)
from sklearn.decomposition import PCA  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    cross_val_score,
    train_test_split,
)
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import (  # noqa: E402
    estimator_checks_generator,
    parametrize_with_checks,
)

import ownnet  # noqa: E402
from ownnet.errors import OwnnetError  # noqa: E402
from ownnet.sklearn import OwnnetClassifier, ParameterError  # noqa: E402

#: the two networks the estimator offers, at their defaults
ESTIMATORS = [OwnnetClassifier(), OwnnetClassifier(model="classic")]

# Training that stops at max_iter warns, as MLPClassifier does; the tests on real data
# are about accuracy, not about that warning (test_convergence_warning is).
quiet = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@quiet
@parametrize_with_checks(ESTIMATORS)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def array_api_checks(estimator) -> list:
    return [
        check
        for _, check in estimator_checks_generator(estimator)
        if getattr(check, "func", check).__name__ == "check_array_api_input"
    ]


def test_array_api_check_runs_with_scipy_array_api():
    """scikit-learn's check_array_api_input skips itself unless SCIPY_ARRAY_API=1 was set
    before SciPy was imported; here it runs in a fresh interpreter that has it."""
    expected = sum(len(array_api_checks(est)) for est in ESTIMATORS)
    if not expected:
        pytest.skip("this scikit-learn has no array API check for these estimators")
    code = (
        "import warnings\n"
        "from sklearn.utils.estimator_checks import estimator_checks_generator\n"
        "from ownnet.sklearn import OwnnetClassifier\n"
        "warnings.simplefilter('ignore')\n"
        "ran = 0\n"
        "for est in (OwnnetClassifier(), OwnnetClassifier(model='classic')):\n"
        "    for est, check in estimator_checks_generator(est):\n"
        "        if getattr(check, 'func', check).__name__ == 'check_array_api_input':\n"
        "            check(est)\n"
        "            ran += 1\n"
        "print('ran', ran)\n"
    )
    src = str(Path(ownnet.__file__).resolve().parents[1])
    path = os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "SCIPY_ARRAY_API": "1", "PYTHONPATH": path}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["ran", str(expected)]


# -- real tabular data ------------------------------------------------------------------
def split(load, test_size: float = 0.3):
    X, y = load(return_X_y=True)
    return train_test_split(X, y, test_size=test_size, stratify=y, random_state=0)


@quiet
def test_cross_val_score_breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    scores = cross_val_score(OwnnetClassifier(random_state=0), X, y, cv=5)
    assert scores.mean() >= 0.97  # measured 0.974


@quiet
def test_pipeline_standardise_pca_wine():
    x_train, x_test, y_train, y_test = split(load_wine)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("pca", PCA(n_components=5)),
            ("clf", OwnnetClassifier(hidden_layer_sizes=(32,), random_state=0)),
        ]
    )
    pipe.fit(x_train, y_train)
    assert pipe["clf"].n_features_in_ == 5
    proba = pipe.predict_proba(x_test)
    assert proba.shape == (len(x_test), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert pipe.score(x_test, y_test) >= 0.96  # measured 0.981


@quiet
def test_grid_search_iris():
    x_train, x_test, y_train, y_test = split(load_iris)
    grid = {"hidden_layer_sizes": [(8,), (64,)], "learning_rate_init": [0.001, 0.01]}
    search = GridSearchCV(OwnnetClassifier(random_state=0), grid, cv=3)
    search.fit(x_train, y_train)
    assert search.best_params_["learning_rate_init"] == 0.01  # 200 epochs at 0.001 underfit
    assert search.best_score_ >= 0.93  # measured 0.943
    assert search.score(x_test, y_test) >= 0.97  # measured 1.0


@quiet
@pytest.mark.parametrize(
    ("load", "floor"), [(load_wine, 0.98), (load_breast_cancer, 0.94), (load_iris, 0.95)]
)
def test_same_accuracy_as_mlpclassifier(load, floor):
    """The engine and scikit-learn's MLPClassifier, each at its defaults (100 relu units,
    Adam, 200 epochs at most) on standardised features, reach the same accuracy."""
    x_train, x_test, y_train, y_test = split(load)
    ours = OwnnetClassifier(random_state=0).fit(x_train, y_train).score(x_test, y_test)
    theirs = make_pipeline(StandardScaler(), MLPClassifier(random_state=0))
    theirs = theirs.fit(x_train, y_train).score(x_test, y_test)
    # measured: wine 1.0 and 1.0, breast cancer 0.953 and 0.953, iris 0.978 and 0.978
    assert ours >= floor
    assert abs(ours - theirs) <= 0.03


@quiet
def test_book_network_on_wine():
    x_train, x_test, y_train, y_test = split(load_wine)
    clf = OwnnetClassifier(model="classic", random_state=0).fit(x_train, y_train)
    assert isinstance(clf.model_, ownnet.BookNetwork)
    assert clf.model_.sizes == (13, 100, 3)
    assert 1 <= clf.n_iter_ < clf.max_iter  # stopped when the loss stopped improving
    assert clf.score(x_test, y_test) >= 0.98  # measured 1.0
    # features outside the range seen in fit are clipped into 0..1, not refused
    assert clf.predict(x_test * 10).shape == (len(x_test),)


@quiet
def test_string_labels_round_trip():
    data = load_iris()
    names = data.target_names[data.target]
    numeric = OwnnetClassifier(random_state=0).fit(data.data, data.target)
    named = OwnnetClassifier(random_state=0).fit(data.data, names)
    assert list(named.classes_) == ["setosa", "versicolor", "virginica"]
    expected = data.target_names[numeric.predict(data.data)]
    np.testing.assert_array_equal(named.predict(data.data), expected)
    np.testing.assert_array_equal(named.predict_proba(data.data), numeric.predict_proba(data.data))
    assert named.score(data.data, names) >= 0.96  # measured 0.967


# -- any number of features, samples and classes; labels of any type ---------------------
@quiet
@pytest.mark.parametrize("model", ["mlp", "classic"])
@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog"]),
        np.array([-1, 1]),
        np.array([True, False]),
        np.array([1.0, 2.0, 3.0]),
        np.array(["b", "a", "c"], dtype=object),
    ],
    ids=["str", "negative-int", "bool", "float", "object"],
)
def test_one_feature_labels_of_any_type(model, labels):
    """One feature that separates the classes: every label comes back as itself."""
    k = len(labels)
    X = np.repeat(np.arange(k, dtype=float) * 10, 10).reshape(-1, 1)
    y = np.repeat(labels, 10)
    clf = OwnnetClassifier(model=model, random_state=0).fit(X, y)
    assert set(clf.classes_.tolist()) == set(labels.tolist())
    predicted = clf.predict(X)
    assert predicted.dtype == y.dtype
    np.testing.assert_array_equal(predicted, y)
    assert clf.predict_proba(X[:1]).shape == (1, k)  # one sample of one feature


@quiet
@pytest.mark.parametrize(("model", "floor"), [("mlp", 0.99), ("classic", 0.97)])
def test_twelve_classes(model, floor):
    X, y = make_blobs(n_samples=240, centers=12, n_features=6, random_state=0)
    labels = np.array(list("abcdefghijkl"))[y]
    x_train, x_test, y_train, y_test = train_test_split(
        X, labels, test_size=0.5, stratify=labels, random_state=0
    )
    clf = OwnnetClassifier(model=model, random_state=0).fit(x_train, y_train)
    assert clf.predict_proba(x_test).shape == (120, 12)
    assert clf.score(x_test, y_test) >= floor  # measured mlp 1.0, classic 0.983


@quiet
@pytest.mark.parametrize("model", ["mlp", "classic"])
def test_one_sample_per_class(model):
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array(["x", "y", "z"])
    clf = OwnnetClassifier(model=model, random_state=0, max_iter=500).fit(X, y)
    np.testing.assert_array_equal(clf.predict(X), y)


def test_one_class_is_refused():
    with pytest.raises(OwnnetError, match="at least 2 classes.*found 1 class \\('only'\\)"):
        OwnnetClassifier().fit(np.ones((4, 2)), ["only"] * 4)


# -- parameters and what fit leaves -----------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hidden_layer_sizes": (10, 0)}, "hidden_layer_sizes: expected whole numbers >= 1"),
        ({"hidden_layer_sizes": "big"}, "hidden_layer_sizes: expected whole numbers >= 1"),
        ({"model": "book", "hidden_layer_sizes": (5,)}, "model: expected one of mlp, classic"),
        ({"model": "classic", "hidden_layer_sizes": (5, 5)}, "one size for the book's network"),
        ({"activation": "softplus"}, "activation: expected one of identity, logistic"),
        ({"solver": "lbfgs"}, "solver: expected one of adam, rmsprop, sgd"),
        ({"batch_size": 0}, "batch_size: expected 'auto' or a whole number >= 1"),
        ({"max_iter": 0}, "max_iter: expected a whole number >= 1, found 0"),
        ({"learning_rate_init": -1.0}, "learning_rate_init: expected a number > 0, found -1.0"),
        ({"shuffle": "yes"}, "shuffle: expected True or False, found 'yes'"),
        ({"hidden_layer_sizes": 2.5}, "hidden_layer_sizes: expected whole numbers >= 1"),
        ({"alpha": -0.1}, "alpha: expected a number >= 0, found -0.1"),
        ({"dropout": 1.0}, "dropout: expected a number >= 0 and < 1, found 1.0"),
        ({"validation_fraction": 0.0}, "validation_fraction: expected a number > 0 and < 1"),
    ],
)
def test_bad_parameters_are_refused_in_fit(params, message):
    clf = OwnnetClassifier(**params)  # kept as given: checked in fit, as scikit-learn does
    assert clf.get_params()[next(iter(params))] == params[next(iter(params))]
    with pytest.raises(ParameterError, match=message) as info:
        clf.fit(np.eye(3), [0, 1, 2])
    assert isinstance(info.value, (OwnnetError, ValueError))
    assert "\n" not in str(info.value)


@quiet
def test_fit_leaves_the_model_and_its_history():
    x_train, x_test, y_train, y_test = split(load_wine)
    clf = OwnnetClassifier(hidden_layer_sizes=(16, 8), activation="tanh", random_state=0)
    clf.fit(x_train, y_train)
    assert isinstance(clf.model_, ownnet.Network)
    assert [layer.units for layer in clf.model_.layers] == [16, 8, 3]
    assert clf.n_iter_ == len(clf.history_) == len(clf.loss_curve_)
    assert clf.loss_curve_[-1] < clf.loss_curve_[0]
    # the network answers for itself on features scaled as the estimator scales them
    scaled = clf.scaler_.transform(x_test)
    np.testing.assert_allclose(clf.model_.predict_proba(scaled), clf.predict_proba(x_test))


# settings -> accuracy floor on the training data, a few points under the measured value
IRIS_SETTINGS = [
    ({"activation": "tanh"}, 0.95),  # measured 0.98
    ({"activation": "logistic"}, 0.90),  # measured 0.933
    ({"activation": "identity"}, 0.95),  # measured 0.98
    ({"activation": "leaky_relu"}, 0.95),  # measured 0.98
    ({"activation": "prelu"}, 0.95),  # measured 0.98
    ({"solver": "sgd", "learning_rate_init": None}, 0.94),  # SGD's own: 0.1; measured 0.973
    ({"solver": "sgd", "learning_rate_init": None, "momentum": 0.0}, 0.88),  # measured 0.913
    ({"solver": "rmsprop"}, 0.95),  # measured 0.98
    ({"hidden_layer_sizes": ()}, 0.83),  # measured 0.86
    ({"batch_size": 16, "alpha": 0.01}, 0.95),  # measured 0.987
]


@quiet
@pytest.mark.parametrize(
    ("params", "floor"),
    IRIS_SETTINGS,
    ids=[",".join(f"{k}={v}" for k, v in p.items()) for p, _ in IRIS_SETTINGS],
)
def test_engine_settings_learn_iris(params, floor):
    X, y = load_iris(return_X_y=True)
    params = {"max_iter": 50, "learning_rate_init": 0.01, "random_state": 0, **params}
    clf = OwnnetClassifier(**params).fit(X, y)
    assert clf.loss_curve_[-1] < 0.6 * clf.loss_curve_[0]
    assert clf.score(X, y) >= floor


@quiet
def test_dropout_draws_from_random_state():
    X, y = load_wine(return_X_y=True)
    proba = [
        OwnnetClassifier(dropout=0.3, max_iter=20, random_state=seed).fit(X, y).predict_proba(X)
        for seed in (1, 1, 2)
    ]
    np.testing.assert_array_equal(proba[0], proba[1])
    assert not np.allclose(proba[0], proba[2])


@quiet
def test_early_stopping_watches_held_out_loss():
    X, y = load_breast_cancer(return_X_y=True)
    clf = OwnnetClassifier(
        early_stopping=True, learning_rate_init=0.01, n_iter_no_change=5, random_state=0
    ).fit(X, y)
    assert "val_loss" in clf.history_
    assert clf.n_iter_ < clf.max_iter
    assert clf.history_.history["samples"][0] == len(y) - round(0.1 * len(y))
    assert clf.score(X, y) >= 0.97  # measured 0.972 (best epoch 3 of 8, restored)


def test_convergence_warning_when_max_iter_cuts_training_short():
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="still improving after max_iter=3 epochs"):
        OwnnetClassifier(max_iter=3, random_state=0).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        OwnnetClassifier(model="classic", random_state=0).fit(X, y)  # stops by itself


@quiet
@pytest.mark.parametrize("model", ["mlp", "classic"])
def test_pickle_keeps_the_network_as_a_model_file_does(model):
    X, y = load_iris(return_X_y=True)
    clf = OwnnetClassifier(model=model, hidden_layer_sizes=(8,), random_state=0).fit(X, y)
    state = clf.__getstate__()
    assert set(state["model_"].arrays) == set(clf.model_.state()[0])  # arrays, no buffers
    again = pickle.loads(pickle.dumps(clf))
    assert type(again.model_) is type(clf.model_)
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    assert again.model_.history is again.history_


@quiet
def test_pandas_feature_names():
    pytest.importorskip("pandas", reason="pandas is not installed (the test extra has it)")
    data = load_iris(as_frame=True)
    clf = OwnnetClassifier(random_state=0).fit(data.data, data.target)
    assert list(clf.feature_names_in_) == list(data.data.columns)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        plain = clf.predict(data.data.to_numpy())
    np.testing.assert_array_equal(clf.predict(data.data), plain)
    renamed = data.data.rename(columns=str.upper)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(renamed)
