"""Debian's chromium for the console's browser tests: installed quietly with apt-get when it is
missing (CI runs on a fresh machine), never a browser build downloaded by Playwright. A small
Chinese font comes with it, so the Simplified Chinese screenshots show characters, not boxes."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
PACKAGES = {
    "chromium": CHROMIUM,
    "fonts-wqy-microhei": Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
}
# The screenshots the README shows; a run with this variable set rewrites them.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
UPDATE_SCREENSHOTS = "AIHUB_UPDATE_SCREENSHOTS"


def chromium() -> str:
    """The path of Debian's chromium, installing the packages first if needed."""
    if all(path.exists() for path in PACKAGES.values()):
        return str(CHROMIUM)
    # Test workers (pytest-xdist) may get here together: one installs, the others wait for it.
    with open(Path(tempfile.gettempdir()) / "aihub-chromium-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        missing = [name for name, path in PACKAGES.items() if not path.exists()]
        # A fresh machine's package lists may be missing: update them once and try again.
        if missing and _apt("install", "-y", "-q", *missing) != 0:
            _apt("update", "-q")
            if _apt("install", "-y", "-q", *missing) != 0:
                raise RuntimeError(f"apt-get install {' '.join(missing)} failed")
    return str(CHROMIUM)


def _apt(*args: str) -> int:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = shutil.which("apt-get") or "apt-get"
    quiet = subprocess.DEVNULL
    # Wait for another apt (unattended upgrades, say) rather than fail on its lock.
    command = [apt, "-o", "DPkg::Lock::Timeout=300", *args]
    return subprocess.run(command, env=env, stdout=quiet, stderr=quiet, check=False).returncode


def screenshot_folder(tmp_path: Path) -> Path:
    """Where this run's screenshots go: docs/console when asked to update them, else tmp_path."""
    folder = SCREENSHOTS if os.environ.get(UPDATE_SCREENSHOTS) == "1" else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
