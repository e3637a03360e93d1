"""A Griffe extension for ownnet's docstrings (mkdocstrings, ``extensions:`` in mkdocs.yml).

ownnet's docstrings are Google style with a few reST habits, which this turns into what
mkdocstrings renders well:

* roles: ``:class:`~ownnet.training.History``` becomes a cross-reference to that object
  (shown as ``History``; plain code when the target is not on any page);
* several arguments described together, ``x, y: a Dataset...`` under ``Args:``, become
  one entry per argument with the same description;
* a paragraph that ends in ``::`` (a reST literal block follows) ends in ``:``.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):`(?P<target>[^`]+)`")
GROUPED = re.compile(r"^(\s+)([\w*]+(?:, *[\w*]+)+): (.*)$")
SECTION = re.compile(r"^(?P<indent>\s*)(Args|Arguments|Parameters|Attributes):\s*$")


class OwnnetDocstrings(griffe.Extension):
    """Rewrites each docstring once, when its object is loaded."""

    def on_instance(self, *, node: Any, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = rewrite(obj.docstring.value, obj)


def rewrite(text: str, obj: griffe.Object) -> str:
    text = ROLE.sub(lambda m: reference(m["target"], obj), text)
    text = split_grouped_arguments(text)
    return re.sub(r"::\n", ":\n", text)


def reference(target: str, obj: griffe.Object) -> str:
    """An optional cross-reference: a link when the target is documented, else code."""
    short = target.startswith("~")
    target = target.lstrip("~!")
    title = target.split(".")[-1] if short else target
    identifier = resolve(target, obj)
    return f'<autoref identifier="{identifier}" optional><code>{title}</code></autoref>'


def resolve(target: str, obj: griffe.Object) -> str:
    """The full path of ``target`` as written in ``obj``'s docstring (best effort)."""
    if target.startswith("ownnet."):
        return target
    head, _, tail = target.partition(".")
    scope: Any = obj if obj.is_class or obj.is_module else obj.parent
    while scope is not None:
        try:
            if head in scope.members:
                full = scope.members[head].path
                return f"{full}.{tail}" if tail else full
        except Exception:  # an alias that cannot be resolved: try the next scope
            pass
        scope = scope.parent
    return target


def split_grouped_arguments(text: str) -> str:
    """``a, b: text`` under ``Args:`` -> ``a: text`` and ``b: text``."""
    out: list[str] = []
    inside: str | None = None
    for line in text.splitlines():
        section = SECTION.match(line)
        if section:
            inside = section["indent"]
            out.append(line)
            continue
        if inside is not None and line.strip() and len(line) - len(line.lstrip()) <= len(inside):
            inside = None
        grouped = GROUPED.match(line) if inside is not None else None
        if grouped:
            indent, names, rest = grouped.groups()
            out.extend(f"{indent}{name.strip()}: {rest}" for name in names.split(","))
        else:
            out.append(line)
    return "\n".join(out)
