"""Copier migration: say which edited files an update removes, and keep them.

Usage (from `_migrations` in copier.yml, on every update, run inside the project):

    python keep_removed_edits.py before ANSWERS_FILE VERSION_FROM VERSION_TO DATA_JSON
    python keep_removed_edits.py after ANSWERS_FILE VERSION_FROM

`copier update` deletes every file the old render had and the new one lacks: the
files of a choice turned off with `-d` (serving=false: the serving/ package and
its tests) and the files a release moved. It deletes them with the user's edits.

before: renders the template at VERSION_FROM with the project's answers and at
VERSION_TO with those answers plus DATA_JSON (the `-d` answers), both with
Copier's own API into temporary folders. A file of the old render that the new
render lacks and the project has is going; it is edited when its content differs
from the old render. One line per edited file, then one line for the others.
The flat modules 0.3.0 moved into subpackages are left to that release's own
migration (package_layout.py), which carries the edits into the new homes.

after: Copier has deleted them. Each file that left the worktree (it is still in
HEAD: Copier only updates a clean repository) and was edited is written back
beside its old name as `<file>.orig`, untracked, from HEAD. The files `before`
predicted are not announced twice; the rest (answers changed at the interactive
prompts, unknown before) get their line here. COPIER_MLOPS_KEEP_EDITS=no lets
edited files go like the others (they stay in git history).

Nothing here stops an update: when a render fails (no network, a template that
is not a git repository, an answer the template rejects) it says so in one line
and the update goes on as Copier does it.

Runs with Copier's own Python (`_copier_python`), which has copier and PyYAML.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

import yaml

MARKER = "copier-mlops-removed.json"  # in the git directory: what `before` announced
OPT_OUT = "COPIER_MLOPS_KEEP_EDITS"
OFF = {"0", "no", "false", "off", "n"}
PREFIX = "copier-mlops: "
LAYOUT = "0.3.0"  # the release that grouped the package; package_layout.py moves edits


class CannotRender(Exception):
    """The template could not be rendered here; the reason is the message."""


def git(*args: str) -> bytes:
    return subprocess.run(["git", *args], capture_output=True, check=True).stdout


def marker() -> Path:
    return Path(git("rev-parse", "--git-path", MARKER).decode().strip())


def keeping() -> bool:
    return os.environ.get(OPT_OUT, "yes").strip().lower() not in OFF


def user_answers(text: str) -> tuple[dict[str, Any], str]:
    """The answers (no `_` keys) and the template's source, from an answers file."""
    loaded = yaml.safe_load(text) or {}
    if not isinstance(loaded, dict) or not loaded.get("_src_path"):
        raise CannotRender("the answers file names no template (_src_path)")
    answers = {str(k): v for k, v in loaded.items() if not str(k).startswith("_")}
    return answers, str(loaded["_src_path"])


def rendered(src: str, ref: str, data: dict[str, Any]) -> dict[str, bytes]:
    """Every file `copier copy` writes for `data` at `ref`: {relative path: bytes}."""
    import copier  # Copier's own interpreter has it; imported late for a clear error

    with tempfile.TemporaryDirectory(prefix="copier-mlops-render.") as tmp:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                copier.run_copy(
                    src,
                    tmp,
                    data=data,
                    defaults=True,
                    vcs_ref=ref,
                    quiet=True,
                    overwrite=True,
                    skip_tasks=True,
                )
        except Exception as error:  # noqa: BLE001 - any failure: say so, update goes on
            reason = " ".join(str(error).split()) or type(error).__name__
            raise CannotRender(f"rendering {src} at {ref} failed: {reason[:300]}") from error
        root = Path(tmp)
        files = {
            path.relative_to(root).as_posix(): path.read_bytes()
            for path in root.rglob("*")
            if path.is_file()
        }
    if not any(Path(path).name == ".copier-answers.yml" for path in files):
        # Not this template (a folder without copier.yml renders nothing): an empty
        # render would say "nothing goes", which is wrong, not merely unknown.
        raise CannotRender(f"{src} at {ref} rendered no project (is it the template?)")
    return files


def same(old: Any, new: Any) -> bool:
    """A `-d` value (a string from the command line) equals a recorded answer."""
    return str(old).strip().lower() == str(new).strip().lower()


def carried(answers_file: str, version_from: str, version_to: str) -> set[str]:
    """The modules a release's own migration moves with their edits, when this update
    crosses it: 0.3.0's package_layout.py merges each edited flat module into its new
    home, so saying "kept as .orig" here would be wrong."""
    from packaging.version import InvalidVersion, Version  # Copier depends on it

    try:
        crosses = Version(version_from) < Version(LAYOUT) <= Version(version_to)
    except InvalidVersion:
        return set()
    if not crosses:
        return set()
    from keep_edited_files import context, destination  # this folder: on sys.path
    from package_layout import MOVES

    data = context(Path(answers_file))
    return {path.as_posix() for old in MOVES if (path := destination(old, data)) is not None}


def going(
    answers_file: str, version_from: str, version_to: str, data: dict[str, Any]
) -> dict[str, bool]:
    """{path: edited?} of the project's files this update deletes."""
    answers, src = user_answers(Path(answers_file).read_text(encoding="utf-8"))
    if version_from == version_to and all(same(answers.get(k), v) for k, v in data.items()):
        return {}  # same release, same answers: the same render, nothing goes
    old = rendered(src, version_from, answers)
    new = rendered(src, version_to, {**answers, **data})
    result = {}
    for path in sorted(set(old) - set(new) - {answers_file}):
        local = Path(path)
        if local.is_file() and not local.is_symlink():
            result[path] = local.read_bytes() != old[path]
    return result


def orig_name(path: str, content: bytes) -> Path | None:
    """Where the edited copy goes: `<file>.orig`, or the next free `<file>.orig.N`;
    None when one of them already holds exactly this content (kept before)."""
    for n in range(1, 100):
        candidate = Path(path + (".orig" if n == 1 else f".orig.{n}"))
        if not candidate.exists():
            return candidate
        if candidate.is_file() and candidate.read_bytes() == content:
            return None
    raise CannotRender(f"{path}.orig.1 to .orig.99 all exist")


def before(answers_file: str, version_from: str, version_to: str, data_json: str) -> None:
    record = marker()
    record.unlink(missing_ok=True)
    data = json.loads(data_json or "{}")
    found = going(answers_file, version_from, version_to, data if isinstance(data, dict) else {})
    moved = carried(answers_file, version_from, version_to)
    # Recorded as unedited: `after` neither keeps nor names them; their migration does.
    found = {path: changed and path not in moved for path, changed in found.items()}
    edited = [path for path, changed in found.items() if changed]
    for path in edited:
        if keeping():
            print(
                f"{PREFIX}this update removes {path}, which you edited: your copy is kept as "
                f"{path}.orig (untracked; {OPT_OUT}=no lets it go)",
                file=sys.stderr,
            )
        else:
            print(
                f"{PREFIX}this update removes {path}, which you edited ({OPT_OUT}=no: not kept; "
                f"git restore --source=HEAD -- {path} brings it back)",
                file=sys.stderr,
            )
    others = [path for path, changed in found.items() if not changed and path not in moved]
    if others:
        print(
            f"{PREFIX}this update also removes {len(others)} file(s) you did not edit: "
            + ", ".join(others),
            file=sys.stderr,
        )
    record.write_text(json.dumps(found), encoding="utf-8")


def after(answers_file: str, version_from: str) -> None:
    record = marker()
    announced: dict[str, bool] = {}
    if record.is_file():
        announced = json.loads(record.read_text(encoding="utf-8"))
        record.unlink()
    deleted = git("diff", "--name-only", "--diff-filter=D", "--relative", "-z", "HEAD")
    paths = [p for p in deleted.decode("utf-8", "surrogateescape").split("\0") if p]
    old: dict[str, bytes] = {}
    if any(path not in announced for path in paths):
        # Answers changed at the prompts (or `before` could not render): render what
        # was there, before anything is written, so a failure leaves nothing half-done.
        answers, src = user_answers(git("show", f"HEAD:./{answers_file}").decode("utf-8"))
        old = rendered(src, version_from, answers)
    for path in paths:
        content = git("show", f"HEAD:./{path}")
        if path in announced:
            edited = announced[path]
        elif path in old:
            edited = content != old[path]
        else:
            continue  # not a file of the template: not Copier's deletion
        if not edited:
            continue
        if not keeping():
            if path not in announced:
                print(
                    f"{PREFIX}this update removed {path}, which you edited ({OPT_OUT}=no: not "
                    f"kept; git restore --source=HEAD -- {path} brings it back)",
                    file=sys.stderr,
                )
            continue
        target = orig_name(path, content)
        if target is None:
            continue  # already kept (a release's own migration saved it)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        if path not in announced or target.name != Path(path).name + ".orig":
            print(
                f"{PREFIX}this update removed {path}, which you edited: your copy is kept as "
                f"{target.as_posix()} (untracked)",
                file=sys.stderr,
            )


def main(argv: list[str]) -> int:
    try:
        if len(argv) == 5 and argv[0] == "before":
            before(*argv[1:])
        elif len(argv) == 3 and argv[0] == "after":
            after(*argv[1:])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (CannotRender, OSError, subprocess.CalledProcessError, ValueError) as error:
        reason = (
            error.stderr.decode(errors="replace").strip()
            if isinstance(error, subprocess.CalledProcessError)
            else str(error)
        )
        print(
            f"{PREFIX}edited files this update removes are not kept: {reason}; "
            "git restore --source=HEAD -- PATH brings one back",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
