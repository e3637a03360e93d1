"""Per-epoch training history, as Keras keeps it: a dict of lists."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class History:
    """What ``fit`` returns: ``history["test_accuracy"][i]`` is epoch ``i + 1``'s value.

    Keys depend on the model: ``seconds`` always; ``loss``, ``accuracy``,
    ``val_loss``, ``val_accuracy``, ``test_accuracy`` where measured.
    """

    history: dict[str, list[float]] = field(default_factory=dict)

    def append(self, **values: float) -> None:
        """Record one epoch's values."""
        for key, value in values.items():
            self.history.setdefault(key, []).append(float(value))

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def __len__(self) -> int:
        return len(self.history.get("seconds", []))

    def last(self, key: str) -> float:
        """The newest value of ``key``."""
        return self.history[key][-1]

    def to_dict(self) -> dict[str, list[float]]:
        """A JSON-ready copy."""
        return {k: list(v) for k, v in self.history.items()}
