"""Run the commands of a generated CI configuration, read from its YAML, locally.

GitHub: the `run:` steps of each job in file order, in bash as the runner does
(`bash --noprofile --norc -eo pipefail`), with the workflow's, job's and step's
`env:` and the few `${{ }}` expressions they use resolved from `CONTEXT`; an
expression not in `CONTEXT` fails the test instead of running half-resolved.
GitLab: each job's `before_script`, `script` and `after_script` lines with the
global and job `variables`.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.project import Project

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class Step:
    job: str
    name: str
    run: str | None
    env: dict[str, str] = field(default_factory=dict)


def resolve(value: Any, context: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        expression = match.group(1)
        assert expression in context, f"no local value for ${{{{ {expression} }}}}"
        return context[expression]

    return EXPRESSION.sub(substitute, str(value))


def github_steps(workflow: dict[str, Any], context: Mapping[str, str]) -> Iterator[Step]:
    """Every step of every job, in file order, with its resolved environment."""
    base = {k: resolve(v, context) for k, v in (workflow.get("env") or {}).items()}
    for job_id, job in workflow["jobs"].items():
        assert not job.get("needs"), "jobs with `needs` would have to be ordered"
        job_env = base | {k: resolve(v, context) for k, v in (job.get("env") or {}).items()}
        for step in job["steps"]:
            env = job_env | {k: resolve(v, context) for k, v in (step.get("env") or {}).items()}
            run = step.get("run")
            yield Step(job_id, step["name"], None if run is None else resolve(run, context), env)


def run_bash(
    project: Project, script: str, env: Mapping[str, str], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
        cwd=project.path,
        env=project.env | dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, (
        f"{script!r} exited {result.returncode}\n--- stdout\n{result.stdout}"
        f"\n--- stderr\n{result.stderr}"
    )
    return result


def gitlab_jobs(config: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, job) of the real jobs, in stage order, with `extends` applied."""
    stages = config["stages"]
    jobs = {
        name: job
        for name, job in config.items()
        if isinstance(job, dict) and not name.startswith(".") and "script" in job
    }

    def merged(job: dict[str, Any]) -> dict[str, Any]:
        parent = job.get("extends")
        base = merged(config[parent]) if parent else {}
        return base | job

    for stage in stages:
        for name, job in jobs.items():
            full = merged(job)
            if full.get("stage") == stage:
                yield name, full
