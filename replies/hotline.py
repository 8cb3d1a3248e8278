"""The hotline number every reply gives when a person should take over."""

from __future__ import annotations

import os

# The national public-service portal's hotline; each portal sets its own.
DEFAULT_HOTLINE = "1800 1096"


def hotline_number() -> str:
    """The number citizens should call, from HOTLINE_NUMBER (read on each use)."""
    return os.environ.get("HOTLINE_NUMBER", "").strip() or DEFAULT_HOTLINE
