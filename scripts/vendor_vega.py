"""Vendor Vega, Vega-Lite and Vega-Embed into the template's offline plots page.

Usage: uv run python scripts/vendor_vega.py

`dvc plots show` writes an HTML page that loads these three libraries from a CDN
(dvc_render's default). The template ships its own page instead,
template/.dvc/plots/offline.html, selected by `plots.html_template` in the project's
.dvc/config: it inlines the minified builds of the versions dvc_render names (so
the specs DVC writes render the same), fetched here with `npm pack` from the npm
registry. The builds keep their licence headers, and each package's LICENSE file
is copied beside the page (all three are BSD-3-Clause).
"""

from __future__ import annotations

import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "template" / ".dvc" / "plots"
# The versions dvc_render's vega renderer loads from its CDN.
PACKAGES = {
    "vega": ("5.20.2", "build/vega.min.js"),
    "vega-lite": ("5.2.0", "build/vega-lite.min.js"),
    "vega-embed": ("6.18.2", "build/vega-embed.min.js"),
}
PAGE = """<!DOCTYPE html>
<html>
<head>
    {{refresh_tag}}
    <title>DVC Plot</title>
    <!-- Vega, Vega-Lite and Vega-Embed inlined ({versions}; BSD-3-Clause, see
         the LICENSE-* files beside this page): the page works offline. Written
         by copier-mlops' scripts/vendor_vega.py; `plots.html_template` in
         .dvc/config selects it. -->
{scripts}
    <style>
        table {{
            border-spacing: 15px;
        }}
    </style>
</head>
<body>
    {{plot_divs}}
</body>
</html>
"""


def fetch(name: str, version: str, folder: Path) -> tarfile.TarFile:
    """The npm tarball of name@version, opened."""
    subprocess.run(["npm", "pack", "--silent", f"{name}@{version}"], cwd=folder, check=True)
    return tarfile.open(folder / f"{name}-{version}.tgz")


def main() -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    scripts = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, (version, build) in PACKAGES.items():
            with fetch(name, version, Path(tmp)) as archive:
                code = archive.extractfile(f"package/{build}")
                licence = archive.extractfile("package/LICENSE")
                assert code is not None and licence is not None
                text = code.read().decode("utf-8").rstrip()
                assert "</script" not in text
                (TARGET / f"LICENSE-{name}").write_bytes(licence.read())
            lines = "\n".join(
                line.rstrip()
                for line in text.splitlines()
                if not line.startswith("//# sourceMappingURL=")
            )
            scripts.append(f'<script type="text/javascript">\n{lines}\n</script>')
    versions = ", ".join(f"{name} {version}" for name, (version, _) in PACKAGES.items())
    page = PAGE.format(versions=versions, scripts="\n".join(scripts))
    (TARGET / "offline.html").write_text(page, encoding="utf-8")


if __name__ == "__main__":
    main()
