"""``manage.py new_app <name>`` (or ``scripts/new-app <name>``): a new app in apps/<name>/ from
project/app_template/ (Django's startapp --template), wired in and with its tests (docs/adding-an-app.md)."""

from __future__ import annotations

import re
import subprocess
import sys
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.templates import TemplateCommand

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "app_template"
# The app that may use every other one (the top of the layers contract): a new app goes just below it.
TOP_APP = "apps.seeding"


class Command(TemplateCommand):
    help = "Create apps/<name>/ and tests/<name>/ from project/app_template/, and wire the app in."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("name", help="the app's package name, a plural in snake_case: widgets, garden_tools")
        parser.add_argument("--model", help="its model's class name (default: the name in the singular: Widget)")

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["name"]
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise CommandError(f"{name!r}: use lower case letters, digits and underscores, as a package name")
        self.app_or_project, self.a_or_an = "app", "an"
        self.validate_name(name)  # startapp's own check: an identifier that shadows no importable module
        if name in {config.label for config in apps.get_app_configs()}:
            raise CommandError(f"{name!r} is the label of an installed app already")
        model = options["model"] or _singular_class_name(name)
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", model):
            raise CommandError(f"{model!r}: the model's name is a class name, in CamelCase")
        base = Path(settings.BASE_DIR)
        app_dir, tests_dir = base / "apps" / name, base / "tests" / name
        for directory in (app_dir, tests_dir):
            if directory.exists():
                raise CommandError(f"{directory} already exists")
        context = _names(app=name, model=model)
        # Every edit is worked out before anything is written: a file that lacks its anchor stops here.
        edits = {
            base / "project" / "settings.py": _with_local_app,
            base / "pyproject.toml": _with_layer,
            base / "tests" / "factories.py": _with_factory_export,
            base / "tests" / "core" / "test_api_urls.py": _with_frozen_urls,
            base / "tests" / "core" / "test_schema_api.py": _with_public_reads,
        }
        edited = {path: edit(path.read_text(), context) for path, edit in edits.items()}

        for template, target in (("app", app_dir), ("tests", tests_dir)):
            self.stdout.write(f"==> rendering project/app_template/{template}/ into {target.relative_to(base)}/")
            target.mkdir(parents=True)
            super().handle(
                "app",
                name,
                str(target),
                template=str(TEMPLATE_DIR / template),
                extensions=["py"],
                files=[],
                verbosity=options["verbosity"],
                **context,
            )
        for path, text in edited.items():
            self.stdout.write(f"==> wiring it in: {path.relative_to(base)}")
            path.write_text(text)

        self.stdout.write(f"==> makemigrations {name}")
        _run(base, sys.executable, "manage.py", "makemigrations", name, "--verbosity", "0")
        # The edited files too: the new import and __all__ entry go in their sorted place.
        ruff = str(Path(sys.executable).with_name("ruff"))
        formatted = [str(app_dir), str(tests_dir), *(str(path) for path in edits if path.suffix == ".py")]
        self.stdout.write("==> ruff check --fix, ruff format")
        _run(base, ruff, "check", "--fix", "--quiet", *formatted)
        _run(base, ruff, "format", "--quiet", *formatted)
        self.stdout.write(
            self.style.SUCCESS(f"apps/{name}/ is ready: its API is /api/v1/{context['url_prefix']}/.")
            + f"\nRun its tests: ./scripts/test tests/{name}\nThen ./scripts/lint, and see docs/adding-an-app.md."
        )


def _singular_class_name(name: str) -> str:
    last = name.split("_")[-1]
    if last.endswith("ies"):
        last = last[:-3] + "y"
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return "".join(word.capitalize() for word in [*name.split("_")[:-1], last])


def _names(*, app: str, model: str) -> dict[str, str]:
    """What project/app_template/ is rendered with, beyond Django's own app_name and camel_case_app_name."""
    model_snake = re.sub(r"(?<!^)(?=[A-Z])", "_", model).lower()
    plural = "".join(word.capitalize() for word in app.split("_"))
    return {
        "app_name": app,
        "model_name": model,
        "model_snake": model_snake,
        "model_lower": model.lower(),
        "model_words": model_snake.replace(
            "_", " "
        ),  # in the API docs' summaries: "garden tool"  # as in the model's label: garden_tools.gardentool
        # The list's view class: the app's name (WidgetsApi), unless that is the detail's (WidgetApi).
        "model_name_plural": plural if plural != model else f"{model}List",
        "verbose_name": app.replace("_", " ").capitalize(),
        "url_prefix": app.replace("_", "-"),
        "url_name": model_snake.replace("_", "-"),
        "index_prefix": app[:18],  # index names are at most 30 characters
    }


def _run(cwd: Path, *command: str) -> None:
    result = subprocess.run(command, cwd=cwd, check=False)
    if result.returncode != 0:
        raise CommandError(f"{' '.join(command)} failed ({result.returncode})")


def _with_local_app(text: str, context: dict[str, str]) -> str:
    """LOCAL_APPS in project/settings.py, with the app before apps.seeding (or last)."""
    app = context["app_name"]
    block = re.search(r"^LOCAL_APPS = \[\n(?P<items>(?:    .*\n)*)\]", text, re.MULTILINE)
    if block is None:
        raise CommandError("project/settings.py: no `LOCAL_APPS = [` list, one app a line; add the app by hand")
    items = block["items"].splitlines(keepends=True)
    line = f'    "apps.{app}",\n'
    if line in items:
        raise CommandError(f"apps.{app} is in LOCAL_APPS already")
    top = f'    "{TOP_APP}",\n'
    items.insert(items.index(top) if top in items else len(items), line)
    return text[: block.start("items")] + "".join(items) + text[block.end("items") :]


def _with_layer(text: str, context: dict[str, str]) -> str:
    """The layers contract in pyproject.toml, with the app just below apps.seeding: it may use every other app."""
    app = context["app_name"]
    anchor = f'layers = ["{TOP_APP}", '
    if anchor not in text:
        raise CommandError(f"pyproject.toml: no layers contract starting {anchor!r}; add apps.{app} by hand")
    text = text.replace(anchor, f'{anchor}"apps.{app}", ', 1)
    return text.replace("seeding -> ", f"seeding -> {app} -> ", 1)


def _with_factory_export(text: str, context: dict[str, str]) -> str:
    """tests/factories.py re-exports every app's factories (ruff then sorts the import and __all__)."""
    app = context["app_name"]
    factory = f"{context['model_name']}Factory"
    text = _insert_before_close(text, "__all__ = [", "]", [f'    "{factory}",'], where="tests/factories.py")
    return text.replace("\n\n__all__", f"\nfrom tests.{app}.factories import {factory}\n\n__all__", 1)


def _with_frozen_urls(text: str, context: dict[str, str]) -> str:
    """The v1 API is frozen in tests/core/test_api_urls.py: the new operations and URL names join it."""
    app = context["app_name"]
    path, operation = f"/api/v1/{context['url_prefix']}/", f"v1_{app}"
    text = _insert_before_close(
        text,
        "V1_OPERATIONS = [",
        "]",
        [
            f'    ("{path}", "get", "{operation}_list"),',
            f'    ("{path}", "post", "{operation}_create"),',
            f'    ("{path}{{id}}/", "get", "{operation}_retrieve"),',
        ],
        where="tests/core/test_api_urls.py",
    )
    return _insert_before_close(
        text,
        "V1_URL_NAMES = {",
        "}",
        [f'    "{context["url_name"]}-list": "{path}",', f'    "{context["url_name"]}-detail": "{path}7/",'],
        where="tests/core/test_api_urls.py",
    )


def _with_public_reads(text: str, context: dict[str, str]) -> str:
    """tests/core/test_schema_api.py lists the operations an anonymous caller may use: the new reads join it."""
    path = f"/api/v1/{context['url_prefix']}/"
    return _insert_before_close(
        text,
        "PUBLIC_WITH_OPTIONAL_AUTH = [",
        "]",
        [f'    ("{path}", "get"),', f'    ("{path}{{id}}/", "get"),'],
        where="tests/core/test_schema_api.py",
    )


def _insert_before_close(text: str, opening: str, closing: str, lines: list[str], *, where: str) -> str:
    found = re.search(rf"^{re.escape(opening)}.*\n(?:.*\n)*?(?={re.escape(closing)}$)", text, re.MULTILINE)
    if found is None:
        raise CommandError(f"{where}: no `{opening}` block closed by a `{closing}` line; add {lines} by hand")
    return text[: found.end()] + "".join(f"{line}\n" for line in lines) + text[found.end() :]
