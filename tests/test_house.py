"""The house a learner reads: the engine is pure computation, no import cycles, no file
over 400 lines, imports at the top of each module."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import ownnet
import ownnet.nn

SRC = Path(ownnet.__file__).resolve().parent
MAX_LINES = 400
#: the only modules imported inside functions: optional extras and heavy plotting
LATE_IMPORTS = (
    "torch",
    "fastapi",
    "starlette",
    "uvicorn",
    "multipart",
    "distributed",
    "sklearn",
    "matplotlib",
    "playwright",
    "ownnet.web",
    "ownnet.sklearn",
)  # the web app and the estimator need extras


def modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    out = {}
    for path in SRC.rglob("*.py"):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _absolute(node: ast.ImportFrom, name: str, path: Path) -> str:
    """The module an ``ImportFrom`` in module ``name`` (file ``path``) names, relative or not."""
    if not node.level:
        return node.module or ""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    base = package[: len(package) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def top_level_imports(path: Path, name: str = "") -> list[tuple[str, list[str]]]:
    """``(module, names)`` of each import module ``name`` (file ``path``) runs when it is
    imported (at its top level or in a class body, not in functions or ``if
    TYPE_CHECKING``); relative imports are made absolute."""
    found: list[tuple[str, list[str]]] = []

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.Import):
                found.extend((alias.name, []) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                module = _absolute(node, name, path)
                found.append((module, [alias.name for alias in node.names]))
            elif isinstance(node, (ast.If, ast.Try, ast.With)) and not _type_checking(node):
                visit(getattr(node, "body", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
                visit(getattr(node, "orelse", []))
                visit(getattr(node, "finalbody", []))
            elif isinstance(node, ast.ClassDef):
                visit(node.body)

    visit(ast.parse(path.read_text()).body)
    return found


def test_no_import_cycles():
    mods = modules()
    graph: dict[str, set[str]] = {name: set() for name in mods}
    for name, path in mods.items():
        for module, names in top_level_imports(path, name):
            if not module.startswith("ownnet"):
                continue
            targets = [f"{module}.{n}" for n in names if f"{module}.{n}" in mods] or [module]
            # importing ownnet.a.b runs the package ownnet.a first, unless the importer is in it
            parents = {
                ".".join(t.split(".")[:k]) for t in targets for k in range(2, t.count(".") + 1)
            }
            parents = {p for p in parents if not f"{name}.".startswith(f"{p}.")}
            graph[name].update(t for t in [*targets, *parents] if t in mods and t != name)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def walk(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt) :] + [nxt])
            elif nxt not in state:
                walk(nxt, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            walk(node, [])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_imports_inside_functions_only_for_optional_extras_and_plotting():
    late = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Import):
                        mods = [alias.name for alias in sub.names]
                    elif isinstance(sub, ast.ImportFrom):
                        mods = [sub.module or ""]
                    else:
                        continue
                    late += [f"{name}.{node.name}: {m}" for m in mods
                             if not m.startswith(LATE_IMPORTS)]  # fmt: skip
    assert not late, "imports inside functions:\n" + "\n".join(sorted(set(late)))


def test_no_file_over_400_lines():
    long = {name: n for name, path in modules().items()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}  # fmt: skip
    assert not long, f"files over {MAX_LINES} lines: {long}"


def test_the_engine_imports_without_files_data_or_the_book_network():
    engine = sorted(m.name for m in pkgutil.walk_packages(ownnet.nn.__path__, "ownnet.nn."))
    assert "ownnet.nn.dense" in engine and "ownnet.nn.network" in engine
    code = f"""
import importlib, importlib.abc, sys
BLOCKED = ("ownnet.io", "ownnet.data", "ownnet.classic", "ownnet.model", "ownnet.network")
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.startswith(BLOCKED):
            raise ImportError(f"blocked: {{name}}")
sys.meta_path.insert(0, Block())
for name in {["ownnet.nn", *engine]!r}:
    importlib.import_module(name)
print("ok", len([m for m in sys.modules if m.startswith("ownnet.nn")]))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")


def test_the_engine_never_prints_or_opens_files():
    for path in (SRC / "nn").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("print", "open", "input"), (
                    f"{path.name}: {node.func.id}"
                )
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                for bad in ("pathlib", "ownnet.io", "ownnet.data", "sys", "tqdm", "shutil"):
                    assert bad not in names, f"{path.name} imports {bad}"


def test_the_book_encoding_lives_in_one_place():
    """The number 0.99 (the book's target, and its input range) is written only in
    ownnet.book: every other module takes the book's encoding from there."""
    found = [
        name
        for name, path in modules().items()
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value == 0.99 and name != "ownnet.book"
    ]
    assert not found, f"0.99 written outside ownnet.book: {sorted(set(found))}"


def test_ruff_finds_nothing_to_fix_or_reformat() -> None:
    # the project's standard: `ruff check` and `ruff format` clean (ruff is a test extra)
    root = Path(__file__).resolve().parent.parent
    for command in (["check", "--no-cache"], ["format", "--check", "--no-cache"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *command, "."],
            cwd=root, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, f"ruff {' '.join(command)}:\n{done.stdout}{done.stderr}"
