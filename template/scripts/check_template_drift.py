"""Is this project behind the copier-mlops template it was generated from?

Compares the template version recorded in .copier-answers.yml (`_commit`) with
the newest release tag of the template source (`_src_path`), read with
`git ls-remote --tags`, and prints one line:

- up to date (or ahead of the newest release): exit 0;
- behind: a warning naming both versions and how to update; exit 0, or exit 1
  with --strict (for a scheduled job that should turn red);
- the source cannot be reached (offline, private, moved): a warning and exit 0,
  even with --strict. A drift check never fails a build because of the network.

Exit 2: the answers file is missing or unreadable (`copier update` needs it).
Standard library only: runs from pre-commit, CI or a bare `python3`.

Usage: python scripts/check_template_drift.py [--strict] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ANSWERS_FILE = Path(".copier-answers.yml")
# PEP 440 release tags as Copier reads them (an optional "v" prefix is tolerated).
VERSION = re.compile(
    r"^v?(?P<release>\d+(?:\.\d+)*)"
    r"(?:(?P<pre>a|b|rc)(?P<pre_n>\d+))?"
    r"(?:\.post(?P<post>\d+))?(?:\.dev(?P<dev>\d+))?$"
)
# `git describe` output Copier records for a commit after a tag: 1.2.0-3-gabc1234
DESCRIBED = re.compile(r"^(?P<tag>.+)-(?P<count>\d+)-g(?P<hash>[0-9a-f]+)$")
SHORTCUTS = {"gh:": "https://github.com/", "gl:": "https://gitlab.com/"}

Key = tuple[tuple[int, ...], tuple[int, int], int, int, int]


class Unreachable(Exception):
    """The template source could not be read; the check warns and passes."""


def version_key(text: str) -> Key | None:
    """A sortable key for a PEP 440 version, or None if `text` is not one."""
    match = VERSION.match(text.strip())
    if match is None:
        return None
    release = tuple(int(part) for part in match["release"].split("."))
    release += (0,) * (4 - len(release))
    pre_rank = {"a": 0, "b": 1, "rc": 2}
    pre = (pre_rank[match["pre"]], int(match["pre_n"])) if match["pre"] else (3, 0)
    post = int(match["post"]) if match["post"] else -1
    dev = int(match["dev"]) if match["dev"] else 1 << 30
    return (release, pre, post, dev, 0)


def is_prerelease(text: str) -> bool:
    match = VERSION.match(text.strip())
    return bool(match and (match["pre"] or match["dev"]))


def read_answers(path: Path) -> dict[str, str]:
    """The top-level `key: value` pairs of the answers file (plain YAML scalars)."""
    answers = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z_][\w-]*):\s*(.*?)\s*$", line)
        if match:
            value = match[2]
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            answers[match[1]] = value
    return answers


def source_url(src_path: str, root: Path) -> str:
    """The git URL or path `git ls-remote` understands for Copier's `_src_path`."""
    for prefix, base in SHORTCUTS.items():
        if src_path.startswith(prefix):
            return base + src_path[len(prefix) :]
    if src_path.startswith("git+"):
        return src_path[len("git+") :]
    if "://" in src_path or re.match(r"^[\w.-]+@[\w.-]+:", src_path):
        return src_path
    local = Path(src_path).expanduser()
    local = local if local.is_absolute() else root / local
    if not local.exists():
        raise Unreachable(f"template folder {local} does not exist on this machine")
    return str(local)


def release_tags(url: str, timeout: float) -> list[str]:
    """The release tags of the template repository, oldest first (no pre-releases)."""
    env = dict(os.environ)
    # Never stop to ask for a password or a host key: fail and warn instead.
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "echo",
            "SSH_ASKPASS": "echo",
            "GIT_SSH_COMMAND": env.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes"),
        }
    )
    try:
        result = subprocess.run(
            ["git", "ls-remote", "--tags", "--refs", url],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError as exc:
        raise Unreachable("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise Unreachable(f"no answer from {url} within {timeout:g} s") from exc
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["git ls-remote failed"])[-1]
        raise Unreachable(f"cannot read tags of {url}: {reason}")
    tags = []
    for line in result.stdout.splitlines():
        _, _, ref = line.partition("\trefs/tags/")
        key = version_key(ref)
        if key is not None and not is_prerelease(ref):
            tags.append((key, ref))
    return [ref for _, ref in sorted(tags)]


def recorded_version(commit: str) -> tuple[str, Key | None]:
    """The release a project was rendered from and its key (None: not a release).

    A describe string (1.2.0-3-gabc1234) sits after its tag: it counts as that
    release plus commits, so it is behind the next release, not behind its own.
    """
    described = DESCRIBED.match(commit)
    if described and (key := version_key(described["tag"])) is not None:
        release, pre, post, dev, _ = key
        return described["tag"], (release, pre, post, dev, int(described["count"]))
    return commit, version_key(commit)


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        # Shown on the workflow run's summary page, not only in the log.
        print(f"::warning title=Template drift::{message}")


def check(root: Path, *, strict: bool, timeout: float) -> int:
    answers_path = root / ANSWERS_FILE
    try:
        answers = read_answers(answers_path)
    except (OSError, UnicodeDecodeError) as exc:
        print(
            f"error: cannot read {ANSWERS_FILE} ({exc.__class__.__name__}): it records "
            "the template version; restore it from git (`git checkout -- "
            f"{ANSWERS_FILE}`), `copier update` needs it too",
            file=sys.stderr,
        )
        return 2
    commit, src_path = answers.get("_commit", ""), answers.get("_src_path", "")
    if not commit or not src_path:
        print(
            f"error: {ANSWERS_FILE} has no _commit or _src_path: it was not written "
            "by `copier copy` from a git template; restore it from git",
            file=sys.stderr,
        )
        return 2
    try:
        tags = release_tags(source_url(src_path, root), timeout)
    except Unreachable as exc:
        warn(f"template drift not checked: {exc} (project is on {commit})")
        return 0
    if not tags:
        print(
            f"template drift: {src_path} has no release tags yet "
            f"(project is on {commit})"
        )
        return 0
    latest = tags[-1]
    label, current = recorded_version(commit)
    latest_key = version_key(latest)
    if current is not None and latest_key is not None and current >= latest_key:
        print(
            f"template drift: up to date with {src_path} {latest} "
            f"(project is on {commit})"
        )
        return 0
    rendered = (
        f"release {label}" if current is not None else f"unreleased commit {commit}"
    )
    warn(
        f"template drift: this project was rendered from {rendered} of {src_path}, "
        f"whose latest release is {latest}. Update with `uvx copier update --defaults` "
        "on a clean git tree, review the diff, commit (see the template's "
        '"Updating your project" docs)'
    )
    return 1 if strict else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Warn when this project is behind its copier-mlops template."
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when behind (network errors still pass)",
    )
    parser.add_argument(
        "--timeout", type=float, default=20.0, help="seconds to wait for the source"
    )
    parser.add_argument(
        "--project", type=Path, default=Path.cwd(), help="project root (default: here)"
    )
    args = parser.parse_args(argv)
    return check(args.project, strict=args.strict, timeout=args.timeout)


if __name__ == "__main__":
    sys.exit(main())
