"""``ownnet train``: train a network on MNIST and save it."""

from __future__ import annotations

import argparse
import time
from typing import Any

CLASSIC_DEFAULTS = {"epochs": 5, "lr": 0.1}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a network on MNIST and save it",
        description=(
            "Train a network on MNIST and save it as a model file.\n\n"
            "The default is the book's network: 784-200-10, sigmoid, lr 0.1, 5 epochs,\n"
            "one sample at a time (about 97.5%% test accuracy). --model mlp trains the\n"
            "matrix engine's Keras-style MLP instead (see its options below), --model cnn\n"
            "its convolutional network (two 3x3 conv + 2x2 max-pool stages, dense 128,\n"
            "new random rotations and shifts of the images every epoch; about 99.4%%)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--model",
        choices=["classic", "mlp", "cnn"],
        default="classic",
        help="classic: the book's 3-layer network; mlp: the matrix engine; cnn: its "
        "convolutional network (default: classic)",
    )
    p.add_argument("--epochs", type=int, help="passes over the training set (classic: 5)")
    p.add_argument("--lr", type=float, help="learning rate (classic: 0.1)")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and shuffling (0)")
    p.add_argument("--data", metavar="DIR", help="folder with the MNIST files")
    p.add_argument(
        "--name",
        default="mnist",
        choices=["mnist", "fashion-mnist"],
        help="which dataset (default: mnist)",
    )
    p.add_argument(
        "--out",
        default="ownnet-model.npz",
        metavar="FILE",
        help="where to save the model (default: ownnet-model.npz)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="threads for the matrix engine (default: one per physical core; another count "
        "rounds float32 sums differently, so give the same one to repeat a run)",
    )
    classic = p.add_argument_group("classic network")
    classic.add_argument("--hidden", type=int, default=200, help="hidden nodes (200)")
    classic.add_argument("--bias", action="store_true", help="add bias nodes")
    classic.add_argument(
        "--shuffle",
        action="store_true",
        help="shuffle the samples each epoch (the book keeps the file order)",
    )
    classic.add_argument(
        "--rotate",
        type=float,
        default=0.0,
        metavar="DEG",
        help="also train on copies rotated by +DEG and -DEG degrees (the book uses 10)",
    )
    from ownnet.cli import train_nn

    train_nn.add_arguments(p.add_argument_group("matrix engine (--model mlp or cnn)"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ownnet.data.mnist import load_mnist
    from ownnet.io import save_model
    from ownnet.memory import peak_rss_mb

    start = time.perf_counter()
    splits = load_mnist(args.data, args.name, progress=not args.quiet)
    if args.model == "classic":
        model, history, info = train_classic(args, splits)
    else:
        from threadpoolctl import threadpool_limits

        from ownnet.cli import train_nn
        from ownnet.threads import default_threads

        threads = args.threads or default_threads()
        with threadpool_limits(limits=threads, user_api="blas"):
            model, history, info = train_nn.run(args, splits)
    path = save_model(args.out, model, **info, history=history.to_dict())
    total = time.perf_counter() - start
    acc = info.get("test_accuracy")
    print(f"test accuracy: {acc:.4f}" if acc is not None else "test accuracy: not measured")
    print(f"total time: {total:.1f} s; peak memory: {peak_rss_mb():.0f} MB")
    print(f"saved {path}")
    return 0


def train_classic(args: argparse.Namespace, splits: Any) -> tuple[Any, Any, dict[str, Any]]:
    """Train the book's network as ``args`` say; returns ``(model, history, info)``."""
    import numpy as np

    from ownnet.classic import Network

    epochs = args.epochs if args.epochs is not None else CLASSIC_DEFAULTS["epochs"]
    lr = args.lr if args.lr is not None else CLASSIC_DEFAULTS["lr"]
    train = splits.train
    if args.rotate:
        from ownnet.data.augment import with_rotations

        train = with_rotations(train, args.rotate)
    net = Network(784, args.hidden, 10, lr, bias=args.bias, seed=args.seed)
    print(
        f"classic network 784-{args.hidden}-10, sigmoid, lr {lr}, {epochs} epochs, "
        f"{len(train)} training samples, seed {args.seed}"
    )

    def report(epoch: int, history: Any) -> None:
        print(
            f"epoch {epoch}/{epochs}: test accuracy {history.last('test_accuracy'):.4f} "
            f"({history.last('seconds'):.1f} s, {history.last('samples_per_s'):.0f} samples/s)",
            flush=True,
        )

    rng = np.random.default_rng(args.seed) if args.shuffle else None
    history = net.fit(
        train,
        epochs,
        test=splits.test,
        rng=rng,
        progress=not args.quiet,
        on_epoch_end=report,
    )
    info = {
        "training": {
            "epochs": epochs,
            "lr": lr,
            "hidden": args.hidden,
            "bias": args.bias,
            "shuffle": args.shuffle,
            "rotate": args.rotate,
            "samples": len(train),
        },
        "seed": args.seed,
        "dataset": {"name": args.name, "checksum": splits.train.checksum()},
        "test_accuracy": history.last("test_accuracy"),
    }
    return net, history, info
