"""copier.yml's validators and defaults, evaluated the way Copier evaluates them.

Rendering a project takes a fraction of a second; checking hundreds of names or
generated answers takes milliseconds here. `Questions` renders a question's
`validator:` or `default:` with Copier's own Jinja environment (its loader, so
`{% from 'template/.copier/names.jinja' import ... %}` resolves, and its filters),
with the other answers at their defaults unless given. tests/test_validators.py
checks, through real renders, that this agrees with Copier.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2.sandbox import SandboxedEnvironment

from harness.template import QUESTIONS, SPEC, TEMPLATE

# The prompt's width on an 80-column terminal, less the 4 columns a user needs to
# recognise the cut: what a message must say before it.
VISIBLE = 76

# Quoted values a message offers as the answer to give instead.
SUGGESTION = re.compile(r'(?:try|use|such as|with) "([^"]+)"')


class Questions:
    """Evaluate copier.yml's Jinja for one set of answers."""

    def __init__(self, root: Path = TEMPLATE) -> None:
        self.root = root

    @cached_property
    def env(self) -> SandboxedEnvironment:
        from copier._jinja_ext import CopierTemplateLoader, YieldExtension

        return SandboxedEnvironment(
            loader=CopierTemplateLoader(self.root),
            extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension", YieldExtension],
            keep_trailing_newline=True,
        )

    def defaults(self, **answers: Any) -> dict[str, Any]:
        """Every question's value: `answers` where given, else its default."""
        context: dict[str, Any] = {}
        for name, question in QUESTIONS.items():
            if name in answers:
                context[name] = answers[name]
                continue
            default = question.get("default")
            if isinstance(default, str) and "{" in default:
                default = self.env.from_string(default).render(**context)
            context[name] = default
        return context

    def default(self, question: str, **answers: Any) -> Any:
        return self.defaults(**answers)[question]

    def problem(self, question: str, answer: Any, **answers: Any) -> str:
        """The validator's message for `answer` (empty when it is accepted)."""
        context = self.defaults(**answers)
        context[question] = answer
        validator = QUESTIONS[question]["validator"]
        return str(self.env.from_string(validator).render(**context)).strip()

    def asked(self, question: str, **answers: Any) -> bool:
        """Whether Copier asks `question` given these answers (its `when:`)."""
        when = QUESTIONS[question].get("when", True)
        if isinstance(when, str):
            rendered = self.env.from_string(when).render(**self.defaults(**answers))
            return rendered.strip().lower() in {"true", "yes", "1", "on", "y"}
        return bool(when)

    def choice_problem(self, question: str, value: str, **answers: Any) -> str:
        """Why choice `value` is unavailable for these answers (empty when it is not)."""
        for choice in QUESTIONS[question]["choices"].values():
            if isinstance(choice, dict) and choice["value"] == value:
                context = self.defaults(**answers)
                return str(self.env.from_string(choice.get("validator", "")).render(**context))
        return ""


def choice_values(question: str) -> list[Any]:
    """A choice question's values, plain or with a per-choice validator."""
    return [
        choice["value"] if isinstance(choice, dict) else choice
        for choice in QUESTIONS[question]["choices"].values()
    ]


def validated() -> Iterator[str]:
    """The questions that have a validator."""
    return (name for name, question in QUESTIONS.items() if "validator" in question)


def reserved_names() -> list[str]:
    """The generated list in names.jinja."""
    text = (TEMPLATE / "template/.copier/names.jinja").read_text(encoding="utf-8")
    body = text.split("{%- set reserved = '", 1)[1].split("'.split()", 1)[0]
    return body.split()


__all__ = ["SPEC", "SUGGESTION", "VISIBLE", "Questions", "choice_values", "reserved_names"]
