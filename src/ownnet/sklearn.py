"""ownnet's networks as a scikit-learn classifier: :class:`OwnnetClassifier`.

::

    from sklearn.model_selection import cross_val_score
    from ownnet.sklearn import OwnnetClassifier

    clf = OwnnetClassifier(hidden_layer_sizes=(64,), random_state=0)
    cross_val_score(clf, X, y, cv=5)              # any tabular data, labels of any type

It keeps scikit-learn's conventions (and ``MLPClassifier``'s parameter names), so it works
in ``Pipeline``, ``GridSearchCV`` and ``cross_val_score``: parameters are kept as given and
checked in ``fit``, which learns the classes (any labels, mapped to ``0..k-1`` and back),
the features' scaling and the network (``model_``, an ownnet model: ``save`` included).

Two networks are on offer:

* ``model="mlp"`` (the default): the matrix engine's MLP (:func:`ownnet.nn.models.mlp`)
  on standardised features (``input_scale="none"``: taken as they are), softmax outputs,
  cross-entropy, Adam, minibatches;
* ``model="classic"``: the book's network (:class:`ownnet.classic.Network`): one hidden
  layer of sigmoid nodes, the quadratic cost, one sample at a time, on features scaled
  into 0..1 by the minimum and maximum seen in ``fit`` (clipped beyond them).

Training stops, as ``MLPClassifier``'s does, when the training loss (or with
``early_stopping`` the loss on a held-out ``validation_fraction``) has not improved by
``tol`` for ``n_iter_no_change`` epochs, or after ``max_iter`` epochs.

Tabular data make small matrices: ``fit`` and ``predict`` run BLAS on one thread, which
is as quick for them (on a busy machine far quicker: threads that wait for each other
spin) and gives the same numbers whatever the machine's core count.

scikit-learn is an optional extra: ``pip install "ownnet[sklearn]"``.
"""

from __future__ import annotations

import functools
import numbers
import warnings
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from threadpoolctl import ThreadpoolController

try:
    from sklearn.base import BaseEstimator, ClassifierMixin
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import MinMaxScaler, StandardScaler
    from sklearn.utils import check_random_state
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "ownnet.sklearn needs scikit-learn >= 1.6: pip install 'ownnet[sklearn]'"
    ) from exc

from ownnet import classic
from ownnet.callbacks import EarlyStopping
from ownnet.config import seeds
from ownnet.errors import OwnnetError
from ownnet.inputs import InputError
from ownnet.network import Network
from ownnet.nn.models import DEFAULT_LR, make_optimizer

__all__ = ["OwnnetClassifier", "ParameterError"]

#: hidden activations, by scikit-learn's names and the engine's own
ACTIVATIONS = {"identity": "linear", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu"}
ACTIVATIONS.update({name: name for name in ("linear", "sigmoid", "leaky_relu", "prelu")})
#: what the parameters take: one of some names; a number of a kind from ``low`` (included
#: or not) up to ``high`` (never included); True or False (and batch_size, hidden_layer_sizes)
CHOICES = {
    "model": ("mlp", "classic"),
    "activation": tuple(ACTIVATIONS),
    "solver": ("adam", "rmsprop", "sgd"),
}
RANGES = {
    "learning_rate_init": (numbers.Real, 0.0, np.inf, False),
    "alpha": (numbers.Real, 0.0, np.inf, True),
    "tol": (numbers.Real, 0.0, np.inf, True),
    "momentum": (numbers.Real, 0.0, 1.0, True),
    "dropout": (numbers.Real, 0.0, 1.0, True),
    "validation_fraction": (numbers.Real, 0.0, 1.0, False),
    "max_iter": (numbers.Integral, 1, np.inf, True),
    "n_iter_no_change": (numbers.Integral, 1, np.inf, True),
    "verbose": (numbers.Integral, 0, np.inf, True),
}
#: ``batch_size="auto"`` is ``min(AUTO_BATCH, n_samples)``, as in MLPClassifier
AUTO_BATCH = 200


class ParameterError(OwnnetError, ValueError):
    """A parameter of :class:`OwnnetClassifier` is not one it takes."""


class _StoredModel(NamedTuple):
    """A trained network as a pickled estimator keeps it: its class, arrays and config
    (``model.state()``; the class rebuilds it with ``from_state``)."""

    cls: type
    arrays: dict[str, np.ndarray]
    config: dict[str, Any]


class OwnnetClassifier(ClassifierMixin, BaseEstimator):
    """A neural-network classifier for tabular data, built from ownnet's networks.

    Parameters:
        hidden_layer_sizes: units per hidden layer, e.g. ``(100,)`` or ``(64, 32)`` (an int:
            one layer); ``()`` is multinomial logistic regression. ``"classic"`` takes
            exactly one hidden layer.
        activation: hidden activation (``"mlp"``): ``"relu"``, ``"tanh"``, ``"logistic"``,
            ``"identity"``, or the engine's ``"leaky_relu"``, ``"prelu"``. The book's
            network is always sigmoid.
        model: ``"mlp"`` (the matrix engine) or ``"classic"`` (the book's network).
        solver: ``"adam"``, ``"rmsprop"`` or ``"sgd"`` (``"mlp"``; the book's network
            always learns by plain gradient descent, one sample at a time).
        alpha: L2 penalty, as in MLPClassifier: ``alpha * W / batch_size`` is added to the
            gradient of every weight matrix (``"mlp"``).
        batch_size: samples per step, or ``"auto"``: ``min(200, n_samples)`` (``"mlp"``).
        learning_rate_init: the step size; ``None``: 0.001 for Adam and RMSprop, 0.1 for SGD
            and for the book's network.
        momentum, nesterovs_momentum: SGD's (Nesterov) momentum (``solver="sgd"``).
        max_iter: at most this many epochs (passes over the training data).
        tol, n_iter_no_change: stop when the loss has not improved by ``tol`` for
            ``n_iter_no_change`` epochs in a row.
        early_stopping, validation_fraction: watch the loss on this held-out, stratified
            fraction of the training data instead (and keep the weights of its best epoch).
        dropout: dropout rate after each hidden layer during training (``"mlp"``).
        shuffle: a new order of the samples every epoch.
        random_state: int, ``numpy.random.RandomState`` or ``None``: draws the weights, the
            order, dropout and the validation split; an int gives the same model every time.
        verbose: 1 prints ownnet's progress line per epoch.

    Attributes (after ``fit``):
        classes_: the labels, sorted ``(n_classes,)``; outputs ``i`` is ``classes_[i]``.
        n_features_in_, feature_names_in_: the features seen in ``fit``.
        scaler_: the feature scaling learnt in ``fit`` (standardisation, or min-max 0..1).
        model_: the trained ownnet network (``ownnet.Network`` or ``ownnet.BookNetwork``).
        history_: its :class:`ownnet.History`, one row per epoch.
        n_iter_: the epochs trained; loss_curve_: the training loss after each.
    """

    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = (100,),
        activation: str = "relu",
        *,
        model: str = "mlp",
        solver: str = "adam",
        alpha: float = 0.0001,
        batch_size: int | str = "auto",
        learning_rate_init: float | None = None,
        momentum: float = 0.9,
        nesterovs_momentum: bool = True,
        max_iter: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        dropout: float = 0.0,
        shuffle: bool = True,
        random_state: int | np.random.RandomState | None = None,
        verbose: int = 0,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.model = model
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.dropout = dropout
        self.shuffle = shuffle
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        # stated, not left to the defaults: dense finite numbers in, one label per sample
        # out (of two classes or more), the same model from the same random_state
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        tags.classifier_tags.multi_class = True
        tags.classifier_tags.multi_label = False
        tags.non_deterministic = False
        return tags

    # -- fit ------------------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> OwnnetClassifier:
        """Learn the classes, the scaling and the network from ``X (n_samples, n_features)``
        and labels ``y (n_samples,)`` of any type. Returns ``self``."""
        hidden = self._check_params()
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32))
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise InputError(
                f"y: expected at least 2 classes to tell apart, found 1 class "
                f"({self.classes_.tolist()[0]!r})"
            )
        classic_model = self.model == "classic"
        self.scaler_ = MinMaxScaler(clip=True) if classic_model else StandardScaler()
        features = self.scaler_.fit_transform(X)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        init_rng, fit_rng = seeds(seed)
        validation = None
        if self.early_stopping:
            features, labels, validation = self._hold_out(features, labels, seed)
        auto = self.batch_size == "auto"  # (checked: "auto" or a whole number)
        batch_size = min(AUTO_BATCH, len(features)) if auto else int(self.batch_size)
        self.model_ = self._network(hidden, X.shape[1], batch_size, init_rng)
        stop = EarlyStopping(
            patience=self.n_iter_no_change - 1,
            monitor="val_loss" if self.early_stopping else "loss",
            min_delta=self.tol,
            restore_best=bool(self.early_stopping),
        )
        options = {} if classic_model else {"batch_size": batch_size}
        with one_blas_thread():
            self.history_ = self.model_.fit(
                features,
                labels,
                epochs=self.max_iter,
                validation_data=validation,
                callbacks=[stop],
                seed=fit_rng,
                shuffle=bool(self.shuffle),
                verbose=int(self.verbose),
                **options,
            )
        self.n_iter_ = len(self.history_)
        self.loss_curve_ = list(self.history_["loss"])
        if self.n_iter_ == self.max_iter and stop.wait <= stop.patience:
            warnings.warn(
                f"OwnnetClassifier: the loss was still improving after max_iter="
                f"{self.max_iter} epochs; raise max_iter for a better fit",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _network(
        self, hidden: list[int], n_features: int, batch_size: int, rng: np.random.Generator
    ) -> Any:
        """A new, untrained network for ``n_features`` inputs and ``len(classes_)`` outputs,
        its weights drawn from ``rng``."""
        n_classes = len(self.classes_)
        if self.model == "classic":
            lr = DEFAULT_LR["sgd"] if self.learning_rate_init is None else self.learning_rate_init
            return classic.Network(n_features, hidden[0], n_classes, float(lr), seed=rng)
        optimizer = make_optimizer(
            self.solver,
            self.learning_rate_init,
            momentum=float(self.momentum),
            nesterov=bool(self.nesterovs_momentum) and self.momentum > 0,
            weight_decay=float(self.alpha) / batch_size,
        )
        return Network.mlp(
            hidden,
            activation=ACTIVATIONS[self.activation],
            dropout=float(self.dropout),
            n_input=n_features,
            n_output=n_classes,
            optimizer=optimizer,
            input_scale="none",
            seed=rng,
        )

    def _hold_out(
        self, features: np.ndarray, labels: np.ndarray, seed: int
    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Split off ``validation_fraction`` of the samples, stratified where every class
        has two samples or more."""
        stratify = labels if np.bincount(labels).min() >= 2 else None
        fraction = self.validation_fraction
        try:
            parts = train_test_split(
                features, labels, test_size=fraction, random_state=seed, stratify=stratify
            )
        except ValueError as exc:
            raise ParameterError(
                f"validation_fraction={self.validation_fraction} of {len(labels)} samples: {exc}"
            ) from exc
        x_fit, x_val, y_fit, y_val = parts
        return x_fit, y_fit, (x_val, y_val)

    def _check_params(self) -> list[int]:
        """Every parameter checked (as scikit-learn estimators do, in ``fit``); returns the
        hidden layer sizes as a list."""
        for name, options in CHOICES.items():
            if not (isinstance(getattr(self, name), str) and getattr(self, name) in options):
                _refuse(name, getattr(self, name), f"one of {', '.join(options)}")
        for name, (kind, low, high, closed) in RANGES.items():
            value = getattr(self, name)
            if not (
                _number(value, kind, low, high, closed)
                or (value is None and name == "learning_rate_init")
            ):
                what = "a whole number" if kind is numbers.Integral else "a number"
                where = f"{'>' if not closed else '>='} {low:g}"
                where += f" and < {high:g}" if high < np.inf else ""
                _refuse(name, value, f"{what} {where}")
        for name in ("nesterovs_momentum", "early_stopping", "shuffle"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                _refuse(name, getattr(self, name), "True or False")
        auto = isinstance(self.batch_size, str) and self.batch_size == "auto"
        if not (auto or _number(self.batch_size, numbers.Integral, 1, np.inf, True)):
            _refuse("batch_size", self.batch_size, "'auto' or a whole number >= 1")
        sizes = self.hidden_layer_sizes
        try:
            sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
            ok = all(_number(n, numbers.Integral, 1, np.inf, True) for n in sizes)
        except TypeError:
            ok = False
        if not ok or (self.model == "classic" and len(sizes) != 1):
            one = "one size for the book's network (model='classic'), " * (self.model == "classic")
            _refuse("hidden_layer_sizes", self.hidden_layer_sizes, f"{one}whole numbers >= 1")
        return [int(n) for n in sizes]

    # -- pickling -------------------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        """The estimator's state, its network kept as a model file keeps it (arrays and
        config: no scratch buffers, no optimiser state)."""
        state = dict(super().__getstate__())
        model = state.get("model_")
        if model is not None:
            arrays, config = model.state()
            state["model_"] = _StoredModel(type(model), arrays, config)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        stored = state.get("model_")
        if isinstance(stored, _StoredModel):
            # copies: the arrays may come back read-only (joblib's memory maps)
            arrays = {k: np.array(v) for k, v in stored.arrays.items()}
            model = stored.cls.from_state(arrays, stored.config)
            if "history_" in state:
                model.history = state["history_"]
            state = {**state, "model_": model}
        super().__setstate__(state)

    # -- answers ------------------------------------------------------------------------
    def predict_proba(self, X: Any) -> np.ndarray:
        """Per-class scores ``(n_samples, n_classes)`` that sum to 1, in the order of
        ``classes_``: softmax probabilities (``"mlp"``); the book's sigmoid outputs divided
        by their sum (``"classic"``, which ranks the classes but is not calibrated)."""
        check_is_fitted(self)
        X = validate_data(self, X, dtype=(np.float64, np.float32), reset=False)
        with one_blas_thread():
            proba = self.model_.predict_proba(self.scaler_.transform(X))
        # (n, n_classes) also for one sample of one feature, which a model takes for one image
        return proba.reshape(len(X), -1)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of :meth:`predict_proba`, ``(n_samples, n_classes)``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most likely label of each sample, ``(n_samples,)``, one of ``classes_``."""
        proba = self.predict_proba(X)  # (checks that the estimator is fitted first)
        return self.classes_[np.argmax(proba, axis=1)]


@functools.cache
def _blas_threads() -> ThreadpoolController:
    return ThreadpoolController()


def one_blas_thread() -> Any:
    """A context in which BLAS runs on one thread (see the module doc)."""
    return _blas_threads().limit(limits=1, user_api="blas")


def _number(value: Any, kind: type, low: float, high: float, closed: bool) -> bool:
    """``value`` is a number of ``kind`` (not a bool), ``low <= value < high`` (``closed``)
    or ``low < value < high``."""
    if isinstance(value, bool) or not isinstance(value, kind):
        return False
    return bool((value >= low if closed else value > low) and value < high)


def _refuse(name: str, value: Any, expected: str) -> None:
    raise ParameterError(f"{name}: expected {expected}, found {value!r}")
