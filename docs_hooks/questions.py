"""MkDocs hook: the questions reference, generated from copier.yml at build time.

docs/questions.md holds prose and the marker below; this hook replaces the marker
with every question of copier.yml (help, type, default, choices, when it is asked,
its validator) so the page cannot drift from the template. Defaults that are Jinja
are rendered the way Copier renders them (the same filters, earlier defaults in
the context) and shown with their expression.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import yaml
from jinja2 import FileSystemLoader
from jinja2.sandbox import SandboxedEnvironment
from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[1]
COPIER_YML = ROOT / "copier.yml"
PAGE = "questions.md"
MARKER = "<!-- questions-reference -->"
# Any page may show `_message_after_copy` as Copier prints it for the defaults.
MESSAGE_MARKER = "<!-- message-after-copy -->"
BANNER = re.compile(r"^#\s+(Questions: .+|Computed values.*|Settings)\s*$")
KEY = re.compile(r"^([A-Za-z_][\w-]*):")
# `{%- from 'template/.copier/names.jinja' import problem -%}`: a macro file copier.yml uses.
IMPORT = re.compile(r"\{%-?\s*from\s+'([^']+)'\s+import\s+(\w+)\s*-?%\}")


def load_spec(path: Path = COPIER_YML) -> tuple[dict[str, Any], dict[str, str]]:
    """copier.yml as a mapping, and each top-level key's banner section title."""
    text = path.read_text(encoding="utf-8")
    spec = yaml.safe_load(text)
    sections: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        banner = BANNER.match(line)
        if banner:
            current = banner.group(1).strip()
            continue
        key = KEY.match(line)
        if key:
            sections[key.group(1)] = current
    return spec, sections


def is_jinja(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def jinja_env() -> SandboxedEnvironment:
    """The filters Copier gives templates (jinja2-ansible-filters), and its loader:
    copier.yml imports macros from files of the template repository."""
    return SandboxedEnvironment(
        loader=FileSystemLoader(ROOT),
        extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"],
    )


def cast(value: Any, kind: str) -> Any:
    if not isinstance(value, str):
        return value
    if kind == "bool":
        return value.strip().lower() in {"true", "yes", "y", "1", "on"}
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return value


def resolve_defaults(spec: dict[str, Any]) -> dict[str, Any]:
    """Every question's default with all earlier answers at their defaults."""
    env = jinja_env()
    # What Copier itself puts in the context, for defaults that use it.
    context: dict[str, Any] = {
        "_folder_name": "my-project",
        "_copier_conf": {"dst_path": "my-project", "answers_file": ".copier-answers.yml"},
    }
    for name, question in questions(spec).items():
        default = question.get("default")
        if is_jinja(default):
            default = env.from_string(default).render(**context)
        context[name] = cast(default, question.get("type", "str"))
    return context


def asked_with_defaults(question: dict[str, Any], context: dict[str, Any]) -> bool:
    when = question.get("when", True)
    if is_jinja(when):
        rendered = jinja_env().from_string(when).render(**context)
        return rendered.strip().lower() in {"true", "yes", "1"}
    return bool(when)


def questions(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: value
        for name, value in spec.items()
        if not name.startswith("_") and isinstance(value, dict)
    }


def code(value: Any) -> str:
    """An inline code cell that survives Markdown tables (pipes, angle brackets)."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif value is None or value == "":
        return "<em>empty</em>"
    else:
        text = str(value)
    # Markdown still parses inside inline HTML: entities keep `_`, `*`, `|`, ... literal.
    escaped = html.escape(text).translate({ord(c): f"&#{ord(c)};" for c in "|_*`[]\\"})
    return "<code>" + escaped + "</code>"


def expression(value: str) -> str:
    """A `when:` expression without its `{{ }}`."""
    return re.sub(r"^\s*\{\{\s*|\s*\}\}\s*$", "", value)


def choices_list(choices: Any) -> list[tuple[str, Any]]:
    """(label, value) pairs; a choice with its own validator gives its `value`."""
    return [(label, value) for label, value, _ in choices_with_conditions(choices)]


def choices_with_conditions(choices: Any) -> list[tuple[str, Any, str]]:
    """(label, value, why it is unavailable: the choice's validator, or "")."""
    items = (
        list(choices.items()) if isinstance(choices, dict) else [(str(c), c) for c in choices or []]
    )
    out = []
    for label, value in items:
        if isinstance(value, dict):
            out.append((label, value["value"], str(value.get("validator", ""))))
        else:
            out.append((label, value, ""))
    return out


def unavailable(validator: str) -> str:
    """A per-choice validator as prose: "when <condition>: <message>"."""
    condition = re.search(r"\{%-?\s*if\s+(.*?)\s*-?%\}", validator, flags=re.DOTALL)
    messages = validator_messages(validator)
    when = f"when {code(condition.group(1))}" if condition else "sometimes"
    return f"{when}: {code(messages[0])}" if messages else when


def asked_text(question: dict[str, Any]) -> str:
    when = question.get("when", True)
    if when is False:
        return "never (computed)"
    if is_jinja(when):
        return "when " + code(expression(when))
    return "always"


def render_question(name: str, question: dict[str, Any], context: dict[str, Any]) -> str:
    kind = question.get("type", "str")
    default = question.get("default")
    lines = [f"### `{name}`", "", str(question.get("help", "")).strip(), ""]
    rows = [("Type", code(kind))]
    if is_jinja(default):
        rows.append(("Default", f"{code(context[name])} (computed from earlier answers)"))
    else:
        rows.append(("Default", code(context[name])))
    choices = choices_with_conditions(question.get("choices"))
    if choices:
        rows.append(
            (
                "Choices",
                "<br>".join(
                    f"{code(value)}: {html.escape(label)}"
                    + (f" (unavailable {unavailable(condition)})" if condition else "")
                    for label, value, condition in choices
                ),
            )
        )
    rows.append(("Asked", asked_text(question)))
    if question.get("when") not in (None, True, False) and not asked_with_defaults(
        question, context
    ):
        rows.append(("With the defaults", "not asked"))
    rows.append(
        (
            "Validated",
            "yes: a wrong answer is refused with a message" if "validator" in question else "no",
        )
    )
    if question.get("secret"):
        rows.append(("Secret", "yes: not stored in the answers file"))
    lines += ["| Property | Value |", "| --- | --- |"]
    lines += [f"| {key} | {value} |" for key, value in rows]
    lines.append("")
    if is_jinja(default):
        lines += fenced("How the default is computed", default)
    if "validator" in question:
        lines += ["Refused with one of these messages (`{{ }}` parts show your answer):", ""]
        lines += [f"- {code(message)}" for message in validator_messages(question["validator"])]
        lines.append("")
        lines += fenced("Validator source", readable(inline_macros(question["validator"])))
    return "\n".join(lines)


def inline_macros(validator: str, root: Path = ROOT) -> str:
    """A validator that calls a macro from a file, with the macro's body in its place."""
    found = IMPORT.search(validator)
    if not found:
        return validator
    path, name = found.groups()
    source = (root / path).read_text(encoding="utf-8")
    macro = re.search(
        r"\{%-?\s*macro\s+" + name + r"\(.*?\)\s*-?%\}(.*?)\{%-?\s*endmacro\s*-?%\}",
        source,
        flags=re.DOTALL,
    )
    if macro is None:
        raise PluginError(f"{path} has no macro {name}")
    return macro.group(1).strip()


def validator_messages(validator: str) -> list[str]:
    """The error messages of a validator: the text between its Jinja tags."""
    parts = re.split(r"\{%-?.*?-?%\}", inline_macros(validator), flags=re.DOTALL)
    return [" ".join(part.split()) for part in parts if part.strip()]


def readable(source: str) -> str:
    """A folded (`>-`) Jinja validator with one tag per line again."""
    return re.sub(r"\s*(\{%)", r"\n\1", source.strip()).strip()


def fenced(title: str, source: str) -> list[str]:
    body = "\n".join(
        "    " + line for line in ["```jinja", *str(source).strip().splitlines(), "```"]
    )
    return [f'??? note "{title}"', "", body, ""]


def render_reference(spec: dict[str, Any], sections: dict[str, str]) -> str:
    context = resolve_defaults(spec)
    asked = {n: q for n, q in questions(spec).items() if q.get("when", True) is not False}
    computed = {n: q for n, q in questions(spec).items() if q.get("when", True) is False}

    out = [
        "## At a glance",
        "",
        "| Question | Type | Default | Asked |",
        "| --- | --- | --- | --- |",
    ]
    for name, question in asked.items():
        out.append(
            f"| [`{name}`](#{name}) | {code(question.get('type', 'str'))} | "
            f"{code(context[name])} | {asked_text(question)} |"
        )
    out.append("")

    current = None
    for name, question in asked.items():
        section = sections.get(name, "")
        if section != current:
            current = section
            title = section.removeprefix("Questions: ").strip() or "Questions"
            out += [f"## {title[:1].upper()}{title[1:]}", ""]
        out += [render_question(name, question, context), ""]

    if computed:
        out += [
            "## Computed values",
            "",
            "Never asked and not stored in the answers file; derived from the answers above.",
            "",
        ]
        for name, question in computed.items():
            out += [render_question(name, question, context), ""]

    settings = {k: v for k, v in spec.items() if k.startswith("_")}
    out += ["## Template settings", "", "| Setting | Value |", "| --- | --- |"]
    for key, value in settings.items():
        shown = value if not isinstance(value, list | dict) else yaml.safe_dump(value).strip()
        if key == "_message_after_copy":
            shown = "(next steps printed after copying; see Getting started)"
        elif key.startswith("_message"):
            shown = "(a warning printed before updating; see Updating your project)"
        out.append(f"| `{key}` | {code(shown)} |")
    out.append("")
    return "\n".join(out)


def on_config(config: Any) -> Any:
    """`mkdocs serve` rebuilds when copier.yml changes."""
    watch = config.setdefault("watch", [])
    if str(COPIER_YML) not in watch:
        watch.append(str(COPIER_YML))
    return config


def message_after_copy(spec: dict[str, Any], dst_path: str = "my-project") -> str:
    """`_message_after_copy` rendered for the default answers, as Copier prints it."""
    context = resolve_defaults(spec)
    context["_copier_conf"] = {**context["_copier_conf"], "dst_path": dst_path}
    return jinja_env().from_string(spec["_message_after_copy"]).render(**context).strip("\n")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    spec, sections = load_spec()
    if MESSAGE_MARKER in markdown:
        message = message_after_copy(spec)
        markdown = markdown.replace(MESSAGE_MARKER, f"```text\n{message}\n```")
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise PluginError(f"docs/{PAGE} lost its marker {MARKER}; put it back")
    return markdown.replace(MARKER, render_reference(spec, sections))
