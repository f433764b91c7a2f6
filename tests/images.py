"""Stand-in base images for real container builds without a registry or Docker.

No Docker engine runs on the test machines and no registry image can be pulled,
but Debian's `buildah` builds and runs OCI images as root with `--isolation
chroot`. The generated Dockerfiles start `FROM python:X.Y-slim` and copy uv out of
`ghcr.io/astral-sh/uv:VERSION`; this module builds local images under exactly
those names, from Debian packages and PyPI's `uv` wheel, once per machine:

- python:3.11-slim: `debootstrap --variant=minbase` bookworm with python3,
  python3-venv, python-is-python3 and ca-certificates. As in the official image,
  `pip` is in /usr/local/bin (installed from Debian's own pip wheel) and pip may
  install into the system Python (no EXTERNALLY-MANAGED marker). The machine's CA
  bundle is copied in and UV_NATIVE_TLS / PIP_CERT point at it, so uv and pip
  inside a build reach PyPI the way the machine does (the generated Dockerfile is
  unchanged).
- ghcr.io/astral-sh/uv:VERSION: only /uv and /uvx, from the `uv` wheel on PyPI.

The Debian root file system and the wheel are cached in CACHE (outside the
repository); the images live in buildah's storage and are rebuilt from the cache
when missing. docs/delivery.md says what the stand-ins do not check.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PYTHON_VERSION = "3.11"  # bookworm's python3: the one version a stand-in can hold
PYTHON_IMAGE = f"python:{PYTHON_VERSION}-slim"
UV_VERSION = "0.13.9"
UV_IMAGE = f"ghcr.io/astral-sh/uv:{UV_VERSION}"
SUITE = "bookworm"
PACKAGES = "python3,python3-venv,python-is-python3,ca-certificates"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
REVISION = "2"
"""Bumped when the recipe changes: an image with another revision label is rebuilt."""
LABEL = "org.copier-mlops.stand-in"


def cache_dir() -> Path:
    """/var/cache/copier-mlops when writable (root), else ~/.cache/copier-mlops."""
    for base in (Path("/var/cache"), Path.home() / ".cache"):
        if os.access(base, os.W_OK) or not base.exists():
            folder = base / "copier-mlops"
            folder.mkdir(parents=True, exist_ok=True)
            return folder
    raise RuntimeError("no writable cache folder for the stand-in images")


def missing_tools() -> str | None:
    """Why real builds cannot run here, or None when they can."""
    for tool in ("buildah", "debootstrap"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (.ci/run installs it)"
    if os.geteuid() != 0:
        return "buildah with --isolation chroot needs root here"
    return None


def buildah(
    *args: str, check: bool = True, timeout: float = 1200
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["buildah", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"buildah {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def image_current(name: str) -> bool:
    """The image exists and was built by this revision of the recipe."""
    found = buildah(
        "inspect", "--type", "image", "--format", "{{.OCIv1.Config.Labels}}", name, check=False
    )
    return found.returncode == 0 and f"{LABEL}:{REVISION}" in found.stdout


@contextmanager
def locked(cache: Path) -> Iterator[None]:
    """One builder at a time per machine (test runs in other checkouts share it)."""
    with (cache / "lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def debian_rootfs(cache: Path) -> Path:
    """A tarball of a minimal bookworm with Python, built by debootstrap once."""
    tarball = cache / f"{SUITE}-python.tar"
    if tarball.is_file():
        return tarball
    root = cache / f"{SUITE}-rootfs"
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={PACKAGES}", SUITE, str(root)],
        check=True,
        capture_output=True,
        timeout=1800,
    )
    # What the slim images drop too: apt lists and caches.
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (root / leftover).glob("*"):
            if item.is_file():
                item.unlink()
    partial = tarball.with_suffix(".partial")
    subprocess.run(["tar", "-C", str(root), "-cf", str(partial), "."], check=True)
    partial.rename(tarball)
    shutil.rmtree(root)
    return tarball


def uv_binaries(cache: Path) -> Path:
    """A folder holding `uv` and `uvx` from PyPI's wheel of UV_VERSION."""
    folder = cache / f"uv-{UV_VERSION}"
    if (folder / "uv").is_file() and (folder / "uvx").is_file():
        return folder
    wheels = cache / "wheels"
    subprocess.run(
        [
            "uv",
            "tool",
            "run",
            "--from",
            "pip",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--dest",
            str(wheels),
            f"uv=={UV_VERSION}",
        ],
        check=True,
        timeout=600,
    )
    (wheel,) = wheels.glob(f"uv-{UV_VERSION}-*.whl")
    partial = folder.with_suffix(".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    with zipfile.ZipFile(wheel) as archive:
        for name in ("uv", "uvx"):
            data = archive.read(f"uv-{UV_VERSION}.data/scripts/{name}")
            (partial / name).write_bytes(data)
            (partial / name).chmod(0o755)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def build_python_image(cache: Path) -> None:
    tarball = debian_rootfs(cache)
    container = buildah("from", "scratch").stdout.strip()
    try:
        mount = buildah("mount", container).stdout.strip()
        subprocess.run(["tar", "-C", mount, "-xf", str(tarball)], check=True)
        shutil.copyfile(CA_BUNDLE, Path(mount) / str(CA_BUNDLE).lstrip("/"))
        for marker in Path(mount).glob("usr/lib/python3*/EXTERNALLY-MANAGED"):
            marker.unlink()
        buildah("umount", container)
        buildah(
            "run",
            "--isolation",
            "chroot",
            container,
            "--",
            "sh",
            "-c",
            'set -- /usr/share/python-wheels/pip-*.whl && python3 "$1/pip" install --quiet --no-index '
            "--find-links /usr/share/python-wheels pip && pip --version",
        )
        buildah(
            "config",
            "--env",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "--env",
            "LANG=C.UTF-8",
            "--env",
            "UV_NATIVE_TLS=1",
            "--env",
            f"SSL_CERT_FILE={CA_BUNDLE}",
            "--env",
            f"PIP_CERT={CA_BUNDLE}",
            "--env",
            f"REQUESTS_CA_BUNDLE={CA_BUNDLE}",
            "--cmd",
            "python3",
            "--label",
            "org.opencontainers.image.description=stand-in for the official python slim image",
            "--label",
            f"{LABEL}={REVISION}",
            container,
        )
        buildah("commit", "--quiet", container, PYTHON_IMAGE)
    finally:
        buildah("rm", container, check=False)


def build_uv_image(cache: Path) -> None:
    binaries = uv_binaries(cache)
    container = buildah("from", "scratch").stdout.strip()
    try:
        buildah("copy", container, str(binaries / "uv"), str(binaries / "uvx"), "/")
        buildah("config", "--entrypoint", '["/uv"]', "--label", f"{LABEL}={REVISION}", container)
        buildah("commit", "--quiet", container, UV_IMAGE)
    finally:
        buildah("rm", container, check=False)


def ensure_base_images() -> list[str]:
    """Build the stand-in images when missing; return their names."""
    cache = cache_dir()
    with locked(cache):
        for name, build in ((PYTHON_IMAGE, build_python_image), (UV_IMAGE, build_uv_image)):
            if not image_current(name):
                buildah("rmi", "--force", name, check=False)  # an older revision
                build(cache)
    return [PYTHON_IMAGE, UV_IMAGE]


if __name__ == "__main__":
    print("\n".join(ensure_base_images()))
