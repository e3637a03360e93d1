"""``ownnet serve [MODEL]``: the draw page, the watch page and the JSON API (extra ``web``)."""

from __future__ import annotations

import argparse
import importlib.util
import sys

from ownnet.errors import OwnnetError
from ownnet.reader import find_reader


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="a web page: draw a digit and see the answer; watch a network learn",
        description=(
            "Serve a web page on which you draw a digit with the mouse or a finger and see\n"
            "the network's answer change as you draw, the 28x28 image it receives and what\n"
            "happens inside: every layer's output, which pixels pushed the answer, what it\n"
            "thinks each digit looks like, each layer's dream; tell it the right answer and\n"
            "it learns it. A second page (/watch) trains one or two small networks and shows\n"
            "their curves and pictures live, in slow motion if you like. JSON API: /api/...;\n"
            "API docs at /docs. Needs the extra: pip install 'ownnet[web]'.\n\n"
            "Listens on 127.0.0.1 (this machine only) unless --host says otherwise. The\n"
            "page's model menu lists the .npz files of the model folder (--save-dir, else\n"
            "the folder of MODEL, else the current folder); the save buttons write new\n"
            "files there. Without MODEL the reader is served if it has been trained\n"
            "(ownnet train --model reader)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "model",
        metavar="MODEL",
        nargs="?",
        help="model file to serve (any kind); without one, the reader if it has been "
        "trained (ownnet train --model reader), else train one on the watch page",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (8000; 0 picks a free one)")
    p.add_argument("--data", metavar="DIR", help="folder with the MNIST files, for training runs")
    p.add_argument(
        "--name",
        default="mnist",
        choices=["mnist", "fashion-mnist"],
        help="dataset for training runs (default: mnist)",
    )
    p.add_argument(
        "--save-dir",
        metavar="DIR",
        help="the model folder: the page's model menu lists its .npz files and the save "
        "buttons write there (default: the folder of MODEL, else the current folder)",
    )
    p.add_argument("--access-log", action="store_true", help="print one line per request")
    p.set_defaults(func=run)


def default_model_path(args: argparse.Namespace) -> str | None:
    """The model file to serve: MODEL if given, else the trained reader if there is one
    (:func:`ownnet.reader.find_reader`), else none (train one on the watch page)."""
    if args.model is not None:
        return args.model
    reader = find_reader()
    return None if reader is None else str(reader)


def run(args: argparse.Namespace) -> int:

    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401

        if importlib.util.find_spec("python_multipart") is None:
            import multipart  # noqa: F401  (older python-multipart)
    except ImportError as exc:
        raise OwnnetError(
            f"ownnet serve needs the web extra ({exc.name} is missing): pip install 'ownnet[web]'"
        ) from None
    from ownnet.web.app import create_app
    from ownnet.web.server import LOOPBACK_NAMES, bind, is_loopback, url_of, uvicorn_server

    if not 0 <= args.port <= 65535:
        raise OwnnetError(f"--port must be 0..65535, found {args.port}")
    loopback = is_loopback(args.host)
    model_path = default_model_path(args)
    app = create_app(
        model_path,
        data_dir=args.data,
        dataset=args.name,
        save_dir=args.save_dir or ("." if args.model is None else None),  # not the cache
        allowed_hosts=list(LOOPBACK_NAMES) if loopback else None,
    )
    sock = bind(args.host, args.port)
    url = url_of(sock)
    if model_path is not None:
        card = app.state.web.served.card()
        acc = card["test_accuracy"]
        acc_text = f", test accuracy {acc:.4f}" if isinstance(acc, float) else ""
        print(f"model: {model_path} ({card['kind']}, {card['description']}{acc_text})")
    else:
        print("no model loaded: train one on the watch page and save it")
    print(f"draw a digit:   {url}/")
    print(f"watch it learn: {url}/watch")
    print(f"API docs:       {url}/docs")
    if not loopback:
        print(
            f"warning: listening on {args.host}: anyone who can reach this machine can use "
            "the page and start training runs",
            file=sys.stderr,
        )
    print("press Ctrl+C to stop", flush=True)
    server = uvicorn_server(
        app, access_log=args.access_log, log_level="info" if args.access_log else "warning"
    )
    server.run(sockets=[sock])
    return 0
