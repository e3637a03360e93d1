"""Peak memory of this process, for the reports at the end of long runs."""

from __future__ import annotations

import sys

try:
    import resource
except ImportError:  # Windows has no getrusage
    resource = None  # type: ignore[assignment]


def peak_rss_mb() -> float:
    """Peak resident set size of this process in MB (0.0 where the OS doesn't say)."""
    if resource is None:
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6
