"""Results files: what a benchmark or a preset measured, and the command that measures it again.

Every measured number in the documentation (accuracies, sweep tables, speed ratios, memory,
load figures) is read at build time from a file ``docs/results/<name>.json``. This module
writes and reads those files and fills the numbers into the pages; ``docs/make_results.py``
is the one command that regenerates them all, and the MkDocs hook
(``docs/hooks/ownnet_docs.py``) calls :func:`render` on every page.

A results file (``format`` 1)::

    {
      "format": 1,
      "name": "sweep-book-lr",
      "title": "the book's learning rates, 3 seeds each",
      "command": "ownnet sweep --preset book-lr --workers 2",   what was measured
      "regenerate": "python docs/make_results.py --only sweep-book-lr",
      "ownnet_version": "0.1.0",
      "date": "2025-01-31T12:00:00Z",
      "machine": {"cores": 2, "cpu": "...", "numpy": "2.4.6", "blas": "openblas 0.3.31",
                  "python": "3.11.7", "system": "Linux x86_64", "load_average": 1.2},
      "code": "sha256 of the source the numbers came from",
      "settings": "full",        or "quick" (small settings: provisional numbers)
      "seconds": 812.4,          how long the measurement took
      "values": {...},           the measured values (any JSON)
      "check": {"command": "...", "values": {...}}    optional: a small-settings run that
                                                      CI repeats and compares exactly
    }

A page asks for a value with a placeholder ``{{ NAME/KEY/KEY | FORMAT }}``: ``NAME`` is the
file, the keys walk into ``values`` (or into the header for ``command``, ``date``,
``machine``...), list items by number. Formats print the number only (the page writes the
unit): ``pct:N`` (a fraction as a percentage with N decimals), ``f:N``, ``int`` (thousands
separators), ``e:N``, ``min:N`` (seconds as minutes), ``date``, ``text``, ``machine`` (a
sentence), ``command``. A missing file or key is an error, never an empty string.
``\\{{`` is a literal ``{{``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "docs" / "results"
FORMAT = 1
#: keys every results file has (``check`` and ``title`` are optional)
REQUIRED = (
    "format",
    "name",
    "command",
    "regenerate",
    "ownnet_version",
    "date",
    "machine",
    "code",
    "settings",
    "seconds",
    "values",
)
MACHINE_KEYS = ("cores", "cpu", "numpy", "blas", "python", "system")
#: top-level keys a placeholder may name directly (everything else is in ``values``)
HEADER = ("command", "regenerate", "ownnet_version", "date", "machine", "settings", "check")
NAME = re.compile(r"[a-z0-9][a-z0-9-]*\Z")
#: ``{{ name/key/key | format }}``; other ``{{ kind:... }}`` placeholders belong to the hook
PLACEHOLDER = re.compile(r"(?<!\\)\{\{\s*(?P<body>.*?)\s*\}\}", re.S)
#: ``\{{`` writes a literal ``{{`` (to show a placeholder on a page)
ESCAPED = "\\{{"


class ResultsError(Exception):
    """A results file is missing, malformed, or lacks what a page asks for."""


# -- writing -------------------------------------------------------------------------------------
def machine() -> dict[str, Any]:
    """The machine this process runs on, in neutral terms: cores, CPU model, NumPy and its
    BLAS, Python, operating system, and the load average (other work running at the time)."""
    import numpy as np
    from threadpoolctl import threadpool_info

    blas = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    blas_text = ", ".join(
        f"{i.get('internal_api', '?')} {i.get('version', '?')} "
        f"({i.get('num_threads', '?')} threads"
        + (f", {i['architecture']}" if i.get("architecture") else "")
        + ")"
        for i in blas
    )
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "numpy": np.__version__,
        "blas": blas_text or "unknown",
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.machine()}",
        "load_average": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else what ``platform`` says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def code_fingerprint(extra: Iterable[Path] = ()) -> str:
    """SHA-256 over the package's source (``src/ownnet``) and ``extra`` files: the code a
    result came from. A results file whose ``code`` differs is stale."""
    h = hashlib.sha256()
    files = sorted((ROOT / "src" / "ownnet").rglob("*.py")) + sorted(Path(p) for p in extra)
    for path in files:
        h.update(str(path.relative_to(ROOT)).encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def write(
    name: str,
    *,
    command: str,
    values: Mapping[str, Any],
    seconds: float,
    title: str = "",
    check: Mapping[str, Any] | None = None,
    settings: str = "full",
    code: str | None = None,
    directory: Path = RESULTS_DIR,
    regenerate: str | None = None,
) -> Path:
    """Write ``directory/<name>.json`` atomically and return its path.

    ``values`` must not use the header's key names at its top level (a placeholder could
    not reach them); every float must be finite.
    """
    if not NAME.match(name):
        raise ResultsError(f"results name {name!r}: expected lower-case letters, digits, '-'")
    clash = sorted(set(values) & set(HEADER))
    if clash:
        raise ResultsError(f"{name}: values may not use the header keys {clash}")
    from ownnet import __version__

    data: dict[str, Any] = {
        "format": FORMAT,
        "name": name,
        "title": title,
        "command": command,
        "regenerate": regenerate or f"python docs/make_results.py --only {name}",
        "ownnet_version": __version__,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": machine(),
        "code": code or code_fingerprint(),
        "settings": settings,
        "seconds": round(float(seconds), 1),
        "values": dict(values),
    }
    if check is not None:
        data["check"] = dict(check)
    problems = validate(data)
    if problems:
        raise ResultsError(f"{name}: " + "; ".join(problems))
    text = json.dumps(data, indent=1, sort_keys=False, allow_nan=False) + "\n"
    path = Path(directory) / f"{name}.json"
    atomic_write_text(path, text)
    return path


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder (fsync,
    rename): a reader sees the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- reading -------------------------------------------------------------------------------------
def validate(data: Any) -> list[str]:
    """What is wrong with a results file's content (an empty list: nothing)."""
    if not isinstance(data, dict):
        return [f"expected a JSON object, found {type(data).__name__}"]
    problems = [f"missing {key!r}" for key in REQUIRED if key not in data]
    if problems:
        return problems
    if data["format"] != FORMAT:
        problems.append(f"format {data['format']!r}, expected {FORMAT}")
    for key in ("command", "regenerate"):
        if not isinstance(data[key], str) or not data[key].strip():
            problems.append(f"{key!r} must name a command")
    if not str(data["regenerate"]).startswith("python docs/make_results.py"):
        problems.append("'regenerate' must be a docs/make_results.py command")
    m = data["machine"]
    if not isinstance(m, dict) or any(k not in m for k in MACHINE_KEYS):
        problems.append(f"'machine' must have {', '.join(MACHINE_KEYS)}")
    if data["settings"] not in ("full", "quick"):
        problems.append(f"'settings' must be full or quick, found {data['settings']!r}")
    if not isinstance(data["values"], dict) or not data["values"]:
        problems.append("'values' must be a non-empty object")
    check = data.get("check")
    if check is not None and (
        not isinstance(check, dict) or not check.get("command") or "values" not in check
    ):
        problems.append("'check' must have a command and values")
    return problems


def read(name: str, directory: Path = RESULTS_DIR) -> dict[str, Any]:
    """The results file ``directory/<name>.json``, checked (:func:`validate`)."""
    path = Path(directory) / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultsError(
            f"{path.name}: no such results file in {Path(directory).name}/; "
            f"run: python docs/make_results.py --only {name}"
        ) from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path.name}: not valid JSON ({exc})") from None
    problems = validate(data)
    if data.get("name") != name:
        problems.append(f"its name is {data.get('name')!r}, not {name!r}")
    if problems:
        raise ResultsError(f"{path.name}: " + "; ".join(problems))
    return data


def read_all(directory: Path = RESULTS_DIR) -> dict[str, dict[str, Any]]:
    """Every results file in ``directory``, by name."""
    return {p.stem: read(p.stem, directory) for p in sorted(Path(directory).glob("*.json"))}


def lookup(results: Mapping[str, Mapping[str, Any]], path: str) -> Any:
    """The value at ``NAME/KEY/KEY...`` (see the module doc)."""
    name, *keys = path.split("/")
    if name not in results:
        raise ResultsError(
            f"no results file {name}.json (asked for {path}); "
            f"run: python docs/make_results.py --only {name}"
        )
    if not keys:
        raise ResultsError(f"{path}: name a value inside {name}.json")
    node: Any = results[name] if keys[0] in HEADER else results[name]["values"]
    walked = [name]
    for key in keys:
        if isinstance(node, list) and re.fullmatch(r"-?\d+", key):
            index = int(key)
            if not -len(node) <= index < len(node):
                raise ResultsError(f"{path}: {'/'.join(walked)} has {len(node)} items, no {key}")
            node = node[index]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            have = ", ".join(map(str, list(node)[:12])) if isinstance(node, dict) else "no keys"
            raise ResultsError(f"{path}: {'/'.join(walked)} has no {key!r} (it has {have})")
        walked.append(key)
    return node


# -- formatting ------------------------------------------------------------------------------------
def format_value(value: Any, spec: str | None, where: str = "") -> str:
    """``value`` as the page shows it (see the module doc for the formats)."""
    kind, _, digits_text = (spec or "").partition(":")
    digits = int(digits_text) if digits_text else None

    def number() -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ResultsError(f"{where}: format {spec!r} needs a number, found {value!r}")
        if not math.isfinite(value):
            raise ResultsError(f"{where}: the value is {value}")
        return float(value)

    if kind == "pct":
        return f"{100 * number():.{2 if digits is None else digits}f}"
    if kind == "f":
        return f"{number():.{2 if digits is None else digits}f}"
    if kind == "int":
        return f"{round(number()):,}"
    if kind == "e":
        return f"{number():.{1 if digits is None else digits}e}".replace("e-0", "e-")
    if kind == "min":
        return f"{number() / 60:.{1 if digits is None else digits}f}"
    if kind == "date":
        return str(value)[:10]
    if kind == "machine":
        return describe_machine(value, where)
    if kind in ("text", "command", ""):
        if kind == "" and isinstance(value, float):
            raise ResultsError(f"{where}: a float needs a format (pct, f, int, e, min)")
        if isinstance(value, (dict, list)):
            raise ResultsError(f"{where}: expected one value, found a {type(value).__name__}")
        return str(value).rstrip("\n")
    raise ResultsError(f"{where}: unknown format {spec!r}")


def describe_machine(m: Any, where: str = "") -> str:
    """A results file's ``machine`` as one neutral sentence."""
    if not isinstance(m, dict) or any(k not in m for k in MACHINE_KEYS):
        raise ResultsError(f"{where}: format 'machine' needs a results file's machine")
    load = m.get("load_average")
    busy = f", load average {load:.1f} when it started" if isinstance(load, (int, float)) else ""
    return (
        f"{m['cores']} cores ({m['cpu']}), {m['system']}, Python {m['python']}, "
        f"NumPy {m['numpy']} with {m['blas']}{busy}"
    )


def render(
    text: str,
    results: Mapping[str, Mapping[str, Any]],
    where: str,
    other: Callable[[str, str], str | None] | None = None,
) -> tuple[str, list[str]]:
    """``text`` with every placeholder replaced; returns the text and the results files
    used. ``other(body, where)`` handles the hook's own placeholders (``src:``...) and
    returns ``None`` for a body it does not know. Raises :class:`ResultsError` for any
    placeholder that cannot be filled."""
    used: list[str] = []

    def fill(match: re.Match[str]) -> str:
        body = match["body"]
        line = text.count("\n", 0, match.start()) + 1
        here = f"{where}:{line}: {{{{ {body} }}}}"
        if other is not None:
            done = other(body, here)
            if done is not None:
                return done
        path, _, spec = body.partition("|")
        path = path.strip()
        if not re.fullmatch(r"[a-z0-9-]+(/[^/\s|]+)+", path):
            raise ResultsError(f"{here}: expected NAME/KEY[/KEY...] [| FORMAT]")
        try:
            value = lookup(results, path)
        except ResultsError as exc:
            raise ResultsError(f"{where}:{line}: {exc}") from None
        used.append(path.split("/")[0])
        return format_value(value, spec.strip() or None, here)

    out = PLACEHOLDER.sub(fill, text).replace(ESCAPED, "{{")
    return out, sorted(set(used))


def main(argv: list[str] | None = None) -> int:
    """``python benchmarks/results.py [DIR]``: check every results file in DIR."""
    directory = Path(argv[0]) if argv else RESULTS_DIR
    try:
        found = read_all(directory)
    except ResultsError as exc:
        print(exc, file=sys.stderr)
        return 1
    for name, data in found.items():
        print(f"{name:24s} {data['date'][:10]} {data['settings']:5s} {data['command']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
