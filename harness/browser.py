"""Headless Chromium for screenshots (the docs test and scripts/docs_assets.py)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

# Headless Chromium with nothing that reaches the network.
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    """The first Chromium-like browser on PATH, if any."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium() -> str:
    found = find_chromium()
    if found is None:
        raise SystemExit("error: chromium not found; install it (apt-get install chromium)")
    return found


def screenshot(page: Path, png: Path, width: int, height: int) -> None:
    """Headless Chromium screenshot of a local HTML file."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium(),
                *BROWSER_FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                f"--window-size={width},{height}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
