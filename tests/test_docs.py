"""The docs site and the first ten minutes: what a newcomer reads and is told.

Fast tier: `mkdocs build --strict` passes; the questions page lists every question of
copier.yml with its help, default, choices and condition, and follows copier.yml when
it changes; `_message_after_copy` gives the right next steps for several answer sets,
and the docs show exactly what Copier prints. Slow tier: the built site, served on
127.0.0.1, renders in headless Chromium (not a blank page).
"""

from __future__ import annotations

import copy
import html
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

from harness.browser import BROWSER_FLAGS, find_chromium
from harness.servers import HOST, Server, free_port
from harness.template import QUESTIONS, SPEC, TEMPLATE


def load_hook() -> Any:
    """docs_hooks/questions.py, the mkdocs hook that writes the questions page."""
    spec = importlib.util.spec_from_file_location(
        "docs_hooks_questions", TEMPLATE / "docs_hooks" / "questions.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


reference = load_hook()

NAV_PAGES = (
    "index.md",
    "getting-started.md",
    "questions.md",
    "tour.md",
    "byod.md",
    "serving.md",
    "delivery.md",
    "updating.md",
    "team.md",
    "scaling-out.md",
    "benchmarks.md",
    "faq.md",
    "contributing.md",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The docs built once per module with `mkdocs build --strict`."""
    out = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=TEMPLATE,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr}"
    return out


def page_text(site: Path, page: str) -> str:
    """A built page's visible text: tags dropped, entities decoded, spaces collapsed."""
    raw = (site / page / "index.html").read_text(encoding="utf-8")
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", raw)).split())


def test_build_is_strict_and_has_every_page(site: Path) -> None:
    config = yaml.safe_load((TEMPLATE / "mkdocs.yml").read_text(encoding="utf-8"))
    assert config["strict"] is True
    nav = [next(iter(entry.values())) for entry in config["nav"]]
    assert set(NAV_PAGES) <= set(nav), sorted(set(NAV_PAGES) - set(nav))
    for page in nav:
        built = site / ("index.html" if page == "index.md" else f"{page[:-3]}/index.html")
        assert built.is_file(), page
    for image in ("classification/model_card.png", "regression/figures/residuals.png"):
        assert (site / "assets/demo" / image).stat().st_size > 10_000


def test_questions_page_documents_every_question(site: Path) -> None:
    text = page_text(site, "questions")
    defaults = reference.resolve_defaults(SPEC)
    assert defaults["package_name"] == "my_ml_project"  # rendered as Copier would
    for name, question in QUESTIONS.items():
        assert f'id="{name}"' in (site / "questions/index.html").read_text(encoding="utf-8")
        section = text.split(f"{name} ¶", 1)[1]
        # Markdown in the help (`code`) becomes tags: compare without spaces and backticks.
        help_text = "".join(question["help"].replace("`", "").split())
        assert help_text in "".join(section[:400].split()), name
        default = defaults[name]
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        assert f"Default {shown or 'empty'}" in section[:2000], name
        for value in reference.choices_list(question.get("choices")):
            assert str(value[1]) in section[:2000], (name, value)
        when = question.get("when")
        if isinstance(when, str):
            assert f"Asked when {reference.expression(when)}" in section[:2000], name
    # Validator messages are listed as the user sees them.
    assert 'package_name "{{ package_name }}" is a Python keyword' in text
    # Computed values are documented as never asked.
    assert "project_slug" in text and "never (computed)" in text


def test_questions_reference_follows_copier_yml(tmp_path: Path) -> None:
    """Change copier.yml and the page changes with it: it cannot drift."""
    text = (TEMPLATE / "copier.yml").read_text(encoding="utf-8")
    text += (
        "\n# ---\n# Questions: monitoring\n# ---\n\n"
        "monitoring:\n  type: str\n  help: Drift report backend\n  default: evidently\n"
        '  choices:\n    "Evidently": evidently\n    "None": none\n'
        "  when: \"{{ task == 'classification' }}\"\n"
    )
    changed = tmp_path / "copier.yml"
    changed.write_text(text, encoding="utf-8")
    spec, sections = reference.load_spec(changed)
    page = reference.render_reference(spec, sections)
    assert "## Monitoring" in page
    assert "### `monitoring`" in page and "Drift report backend" in page
    assert "<code>evidently</code>: Evidently" in page
    assert "when <code>task == &#x27;classification&#x27;</code>" in page

    spec = copy.deepcopy(SPEC)
    spec["task"]["help"] = "A different help text"
    assert "A different help text" in reference.render_reference(spec, sections)


# ---------------------------------------------------------------------------
# _message_after_copy: the next steps Copier prints after rendering
# ---------------------------------------------------------------------------


def message_after_copy(dst: Path, capsys: pytest.CaptureFixture[str], **data: Any) -> str:
    """Render as a user does (not quiet) and return the message Copier printed."""
    unknown = set(data) - set(QUESTIONS)
    assert not unknown, f"not questions of copier.yml: {sorted(unknown)}"
    capsys.readouterr()
    copier.run_copy(
        str(TEMPLATE), dst, data=data, defaults=True, vcs_ref="HEAD", quiet=False, unsafe=False
    )
    printed = capsys.readouterr().err
    assert "Your project" in printed, printed
    return printed[printed.index("Your project") :]


def ordered(text: str, *parts: str) -> bool:
    positions = [text.find(part) for part in parts]
    return -1 not in positions and positions == sorted(positions)


def test_message_after_copy_defaults(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dst = tmp_path / "my-project"
    message = message_after_copy(dst, capsys)
    assert f'"My ML Project" is ready in {dst}' in message
    # git first (DVC needs it), then install, then the pipeline.
    assert ordered(message, f"cd {dst}\n", "git init", "uv sync", "uv run dvc repro")
    assert "MODEL_CARD.md" in message
    assert "accuracy, f1_macro, precision_macro, recall_macro" in message
    assert "uv run poe ui, then http://127.0.0.1:5000" in message
    assert "uv run my_ml_project serve --host 127.0.0.1 --port 8000" in message
    assert "docker build -t my-ml-project ." in message
    assert ".github/workflows/" in message
    assert "dvc push" not in message and "gitlab" not in message.lower()
    assert not re.search(r"{{|}}|{%|%}", message)


def test_message_after_copy_follows_the_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    message = message_after_copy(
        tmp_path / "churn",
        capsys,
        project_name="Churn Model",
        package_name="churn",
        task="regression",
        serving=False,
        docker=False,
        ci_provider="gitlab",
        mlflow_tracking="server",
        mlflow_tracking_uri="https://mlflow.example.com",
        dvc_remote="s3",
        dvc_remote_url="s3://team-bucket/churn",
    )
    assert "r2, rmse, mae" in message and "accuracy" not in message
    assert "runs go to the tracking server https://mlflow.example.com" in message
    assert "mlflow.db" not in message
    assert " serve " not in message and "docker" not in message
    assert ordered(message, "store data and models in s3://team-bucket/churn", "uv run dvc push")
    assert ".gitlab-ci.yml" in message and ".github" not in message


def test_message_after_copy_quotes_paths_and_drops_ci(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dst = tmp_path / "with space" / "proj"
    message = message_after_copy(
        dst, capsys, ci_provider="none", dvc_remote="local", dvc_remote_url="/srv/dvc"
    )
    assert f"cd '{dst}'" in message
    assert "CI:" not in message
    assert "store data and models in /srv/dvc" in message


def test_docs_show_the_message_copier_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dst = tmp_path / "my-project"
    printed = message_after_copy(dst, capsys)
    shown = reference.message_after_copy(SPEC, dst_path=str(dst))
    assert printed.strip() == shown.strip()


# ---------------------------------------------------------------------------
# Slow tier: the site as a browser shows it
# ---------------------------------------------------------------------------


def chromium() -> str:
    found = find_chromium()
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed: .ci/run installs it (apt-get install chromium)")
    pytest.skip("chromium is not installed (apt-get install chromium); CI installs it")


@pytest.fixture(scope="module")
def served(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site on http://127.0.0.1:<free port>/, stopped after the module."""
    port = free_port()
    server = Server.start(
        "http.server",
        [sys.executable, "-m", "http.server", str(port), "--bind", HOST, "--directory", str(site)],
        tmp_path_factory.mktemp("site-server") / "http.log",
        url=f"http://{HOST}:{port}/",
    )
    try:
        server.wait_http("", timeout=30)
        yield server.url
    finally:
        assert server.stop() == []


def browse(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        return subprocess.run(
            [chromium(), *BROWSER_FLAGS, f"--user-data-dir={profile}", *args, url],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )


def assert_rendered(png: Path) -> None:
    """Not a blank page: real content, and the theme's indigo header (CSS loaded)."""
    from PIL import Image

    with Image.open(png) as image:
        pixels = image.convert("RGB")
    small = pixels.resize((pixels.width // 4, pixels.height // 4))
    colours = small.getcolors(maxcolors=1 << 20) or []
    non_white = sum(count for count, rgb in colours if min(rgb) < 235)
    total = small.width * small.height
    assert len(colours) > 50, f"{png.name}: only {len(colours)} colours: a blank page"
    assert non_white / total > 0.03, f"{png.name}: {non_white / total:.1%} non-white pixels"
    indigo = sum(count for count, (r, g, b) in colours if b > 150 and r < 110 and 50 < g < 110)
    assert indigo / total > 0.02, f"{png.name}: no indigo header: the theme's CSS did not load"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "expected"),
    [("", "What you get"), ("questions/", "package_name")],
    ids=["home", "questions"],
)
def test_served_site_renders_in_chromium(
    served: str, tmp_path: Path, page: str, expected: str
) -> None:
    dom = browse(served + page, "--dump-dom").stdout
    assert expected in dom and "md-header" in dom
    png = tmp_path / f"{page.strip('/') or 'home'}.png"
    browse(served + page, f"--screenshot={png}", "--window-size=1280,900")
    assert png.is_file()
    assert_rendered(png)
    if os.environ.get("DOCS_SCREENSHOTS"):
        shutil.copy2(png, Path(os.environ["DOCS_SCREENSHOTS"]) / png.name)


def test_blank_page_check_rejects_blank_and_unstyled_pages(tmp_path: Path) -> None:
    """The screenshot check can fail: a white page, and text without the theme's CSS."""
    from PIL import Image, ImageDraw

    blank = tmp_path / "blank.png"
    Image.new("RGB", (1280, 900), "white").save(blank)
    with pytest.raises(AssertionError, match="blank page"):
        assert_rendered(blank)

    unstyled = tmp_path / "unstyled.png"
    image = Image.new("RGB", (1280, 900), "white")
    draw = ImageDraw.Draw(image)
    for row in range(0, 900, 12):
        draw.text((10, row), "copier-mlops questions reference " * 6, fill=(30, 30, 30))
    image.save(unstyled)
    with pytest.raises(AssertionError, match="no indigo header"):
        assert_rendered(unstyled)
