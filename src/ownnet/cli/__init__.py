"""The ``ownnet`` command.

Each sub-command lives in its own module of this package with a
``register(subparsers)`` function that adds its parser and sets
``func=run``. Heavy imports happen inside ``run`` so ``ownnet --help`` is quick.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from ownnet import __version__
from ownnet.errors import OwnnetError

#: set this environment variable to see the traceback of an unexpected error
DEBUG_ENV = "OWNNET_DEBUG"

#: Sub-command modules, in the order ``--help`` lists them.
COMMANDS = ["train", "test", "data", "sweep", "serve", "export", "predict", "backquery", "inspect"]

DESCRIPTION = """\
Make your own neural network from scratch with NumPy, on MNIST.

Start with `ownnet train` (the book's 784-200-10 network, 5 epochs) and
`ownnet test ownnet-model.npz`. MNIST is read from --data DIR, else
$OWNNET_DATA, else ~/.cache/ownnet (downloaded there the first time).
"""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: what was wrong, and where to read more."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every sub-command registered."""
    parser = Parser(
        prog="ownnet",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"ownnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"ownnet.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a bad option (already said, one line)
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except OwnnetError as exc:
        print(f"ownnet {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `ownnet ... | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(f"ownnet {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # a full disk, a folder that vanished, a file in use
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"ownnet {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"ownnet {args.command}: error: out of memory; try smaller settings",
              file=sys.stderr)  # fmt: skip
        return 1
    except Exception as exc:  # a bug: one line for the user, the traceback on request
        if os.environ.get(DEBUG_ENV):
            raise
        print(f"ownnet {args.command}: unexpected error: {type(exc).__name__}: {exc} (this is a "
              f"bug in ownnet; set {DEBUG_ENV}=1 to see where)", file=sys.stderr)  # fmt: skip
        return 70
