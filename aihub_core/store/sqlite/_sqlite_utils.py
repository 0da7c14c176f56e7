"""sqlite-utils' `Database`, imported without numpy and pandas.

sqlite-utils imports numpy and pandas when it is first imported, if they are installed, only to
map their scalar types to column types; the store never gives it such values. Where they are
installed beside the gateway (numpy comes with matplotlib, which the benchmark installs, and with
many tools) that import alone cost the gateway 16 MB of resident memory and an OpenBLAS thread
(docs/benchmarks.md, "Memory"). So they are hidden while sqlite-utils loads, unless something has
already imported them; afterwards they import as usual. Every module of the SQLite store takes
`Database` from here.
"""

from __future__ import annotations

import sys

_HIDDEN = ("numpy", "pandas")


def _import_without_array_libraries() -> None:
    if "sqlite_utils" in sys.modules:
        return
    hidden = [name for name in _HIDDEN if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # "import numpy" raises ImportError
    try:
        import sqlite_utils  # noqa: F401
    finally:
        for name in hidden:
            if sys.modules.get(name, ...) is None:
                del sys.modules[name]


_import_without_array_libraries()

from sqlite_utils import Database  # noqa: E402

__all__ = ["Database"]
