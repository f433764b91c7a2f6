"""Run a rendered Dockerfile's commands on this machine, without a Docker engine.

There is no Docker engine where the tests run, so `docker build` cannot prove that
the image's commands work. `Build` does what the builder would do, stage by stage,
with the container's filesystem mapped into a folder: each stage's files live under
`fs/` (the builder's folder is kept aside when the next stage starts, so a venv
copied with `COPY --from=builder` lands at the same path it was built at, as in
Docker), COPY reads the build context through .dockerignore, RUN runs the command
with the stage's ENV and WORKDIR, and the image's ENTRYPOINT + CMD and HEALTHCHECK
can then be run against the result.

What cannot run outside a container is skipped and recorded in `skipped`: `COPY
--from=<image>` of a tool from another image (the host's tool of that name is used)
and RUN steps that change the host itself (creating users).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# RUN commands that would change the host (users, groups): they only make sense as
# root inside the container.
HOST_CHANGING = re.compile(r"^\s*(groupadd|useradd|adduser|addgroup)\b")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    flags: dict[str, str]
    args: str

    def exec_form(self) -> list[str]:
        """The JSON array of CMD/ENTRYPOINT/HEALTHCHECK CMD (shell form is refused)."""
        args = self.args
        if self.keyword == "HEALTHCHECK":
            args = args.removeprefix("CMD ").strip()
        value = json.loads(args)
        assert isinstance(value, list), f"{self.keyword} must use the exec (JSON) form"
        return [str(v) for v in value]


def parse(text: str) -> list[Instruction]:
    """Instructions with line continuations joined and comments dropped."""
    instructions: list[Instruction] = []
    logical = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        keyword, _, rest = logical.partition(" ")
        flags: dict[str, str] = {}
        rest = rest.strip()
        while rest.startswith("--"):
            flag, _, rest = rest.partition(" ")
            name, _, value = flag[2:].partition("=")
            flags[name] = value
            rest = rest.strip()
        instructions.append(Instruction(keyword.upper(), flags, rest))
        logical = ""
    return instructions


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    pattern = pattern.strip("/")
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(?:.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out += pattern[i : end + 1]
            i = end + 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + r"\Z")


def ignored(relative: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule: the last pattern matching the path or a parent wins."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for raw in patterns:
        negate = raw.startswith("!")
        regex = _pattern_regex(raw[1:] if negate else raw)
        if any(regex.match(c) for c in candidates):
            excluded = not negate
    return excluded


@dataclass
class Build:
    """A Dockerfile executed stage by stage under `work`."""

    dockerfile: Path
    context: Path
    work: Path
    env: dict[str, str]
    ports: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    stages: dict[str, Path] = field(default_factory=dict)
    image_env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)

    @property
    def fs(self) -> Path:
        """The running stage's filesystem root."""
        return self.work / "fs"

    def host(self, container_path: str) -> Path:
        return self.fs / container_path.lstrip("/")

    def map_paths(self, value: str) -> str:
        """Container paths under a WORKDIR or COPY destination -> host paths."""
        prefix = self.workdir.rstrip("/")
        if not prefix:
            return value
        return re.sub(rf"(?<![\w.]){re.escape(prefix)}(?=/|\Z|:)", str(self.host(prefix)), value)

    def context_files(self, source: str) -> list[Path]:
        lines = (self.context / ".dockerignore").read_text().splitlines()
        patterns = [p.strip() for p in lines if p.strip() and not p.startswith("#")]
        root = self.context / source
        assert root.exists(), f"COPY {source}: not in the build context"
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        kept = [f for f in files if not ignored(f.relative_to(self.context).as_posix(), patterns)]
        assert kept, f"COPY {source}: everything is excluded by .dockerignore"
        return kept

    def run(self) -> Build:
        text = self.dockerfile.read_text(encoding="utf-8")
        stage = None
        for ins in parse(text):
            if ins.keyword == "FROM":
                if stage is not None:
                    self.stages[stage] = self.fs.rename(self.work / f"stage-{stage}")
                self.fs.mkdir(parents=True)
                stage = ins.args.split(" AS ")[-1].strip() if " AS " in ins.args else ins.args
                self.image_env, self.workdir = {}, "/"
            elif ins.keyword == "WORKDIR":
                self.workdir = ins.args
                self.host(ins.args).mkdir(parents=True, exist_ok=True)
            elif ins.keyword == "ENV":
                for key, value in re.findall(r'(\w+)=("[^"]*"|\S+)', ins.args):
                    value = value.strip('"')
                    value = re.sub(r"\$\{?(\w+)\}?", lambda m: self.environ()[m.group(1)], value)
                    self.image_env[key] = self.map_paths(value)
            elif ins.keyword == "COPY":
                self.copy(ins)
            elif ins.keyword == "RUN":
                if HOST_CHANGING.match(ins.args):
                    self.skipped.append(f"RUN {ins.args.split()[0]}")
                    continue
                self.ran.append(ins.args)
                self.sh(ins.args)
            elif ins.keyword == "ENTRYPOINT":
                self.entrypoint = ins.exec_form()
            elif ins.keyword == "CMD":
                self.cmd = ins.exec_form()
            elif ins.keyword == "HEALTHCHECK":
                self.healthcheck = ins.exec_form()
        return self

    def copy(self, ins: Instruction) -> None:
        *sources, dest = shlex.split(ins.args)
        origin = ins.flags.get("from")
        if origin and origin not in self.stages:
            self.skipped.append(f"COPY --from={origin}")
            for source in sources:
                assert shutil.which(Path(source).name), f"{source}: not on this machine"
            return
        target = dest if dest.startswith("/") else f"{self.workdir.rstrip('/')}/{dest}"
        for source in sources:
            if origin:
                src = self.stages[origin] / source.lstrip("/")
                shutil.copytree(src, self.host(target), symlinks=True, dirs_exist_ok=True)
                continue
            for file in self.context_files(source.rstrip("/")):
                base = self.context / source.rstrip("/")
                if base.is_dir():
                    out = self.host(target) / file.relative_to(base)
                elif target.endswith("/"):
                    out = self.host(target) / file.name
                else:
                    out = self.host(target)
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(file, out)

    def environ(self) -> dict[str, str]:
        return {**self.env, **self.image_env}

    def sh(self, command: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            ["sh", "-c", self.map_paths(command)],
            cwd=self.host(self.workdir),
            env=self.environ(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, (
            f"RUN {command} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
        return result

    def mapped(self, args: list[str], volumes: dict[str, Path] | None = None) -> list[str]:
        """Command args with ports (`-p`) and volumes (`-v`) mapped like `docker run`."""
        out = []
        for arg in args:
            for inside, outside in self.ports.items():
                arg = arg.replace(f":{inside}/", f":{outside}/")
                arg = outside if arg == inside else arg
            arg = "127.0.0.1" if arg == "0.0.0.0" else arg
            for inside, outside in (volumes or {}).items():
                arg = arg.replace(inside, str(outside))
            out.append(self.map_paths(arg))
        return out

    def popen(self, args: list[str], **kwargs: object) -> subprocess.Popen[str]:
        env = self.environ()
        exe = shutil.which(args[0], path=env["PATH"])
        assert exe, f"{args[0]}: not on the image's PATH {env['PATH']}"
        return subprocess.Popen(
            [exe, *args[1:]],
            cwd=self.host(self.workdir),
            env=env,
            text=True,
            **kwargs,  # type: ignore[call-overload]
        )
