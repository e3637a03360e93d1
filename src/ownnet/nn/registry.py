"""Build an object from a registry of classes keyed by name.

Activations, costs, optimisers and schedules are each a small class in a
dictionary ``{name: class}``; a model file stores them as specs
``{"name": ..., **options}``. :func:`from_spec` turns a name or a spec back
into an instance, with one error message for an unknown name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def from_spec(
    registry: Mapping[str, type[T]], what: str, spec: str | Mapping[str, Any], **options: Any
) -> T:
    """``registry[name](**options)`` from a name plus ``options`` or a spec
    ``{"name": name, **options}`` (keyword ``options`` win over the spec's).

    Raises ValueError naming ``what`` (e.g. ``"optimizer"``) and the known names
    when the name is not in ``registry``.
    """
    if isinstance(spec, Mapping):
        options = {**spec, **options}
        name = options.pop("name", None)
    else:
        name = spec
    if name not in registry:
        raise ValueError(f"unknown {what} {name!r}; expected one of {sorted(registry)}")
    return registry[name](**options)
