"""The SQLite store loads sqlite-utils without numpy and pandas, which sqlite-utils would import
when installed (16 MB of the gateway's memory for numpy); afterwards they import as usual."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# Stand-ins for numpy and pandas that record their import (the test does not depend on whether
# the real ones are installed).
FAKE = "import sys\nsys.modules.setdefault('imported_array_libraries', []).append(__name__)\n"

SCRIPT = """
import json, sys
from aihub_core.store import open_store
store = open_store("sqlite:///:memory:")
import sqlite_utils
hidden = {name: name in sys.modules for name in ("numpy", "pandas")}
import numpy, pandas
print(json.dumps({"hidden": hidden, "store": type(store).__name__,
                  "later": sys.modules["imported_array_libraries"]}))
"""


def _run(tmp_path: Path, script: str) -> dict[str, object]:
    for name in ("numpy", "pandas"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(FAKE)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_the_store_loads_sqlite_utils_without_numpy_or_pandas(tmp_path: Path) -> None:
    result = _run(tmp_path, SCRIPT)
    assert result == {
        "hidden": {"numpy": False, "pandas": False},
        "store": "SQLiteStore",
        "later": ["numpy", "pandas"],
    }


def test_numpy_imported_before_the_store_is_left_to_sqlite_utils(tmp_path: Path) -> None:
    result = _run(tmp_path, "import numpy\n" + SCRIPT)
    assert result["hidden"] == {"numpy": True, "pandas": False}
    assert result["later"] == ["numpy", "pandas"]
