"""Alert templates: what an alert looks like, by Jinja2 templates shipped in this folder.

``alert.html`` (HTML, autoescaped), ``alert.txt`` (the plain part), ``chat.txt`` (the short
form chat channels get) and ``alert.css`` (inlined into the HTML with css-inline; its
``@media`` rules, dark mode and narrow screens, stay in a ``<style>`` for the clients that
read one). ``[alerts] templates = "folder"`` points at a folder whose files of the same
names win over these. Templates receive the plain values :mod:`pipelines.desk` prepares
(docs/alerts.md lists them): no template ever sees a raw page value unescaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import css_inline
import jinja2

from pipelines.errors import ConfigError

PACKAGE_DIR = Path(__file__).parent
TEMPLATES = ("alert.html", "alert.txt", "chat.txt", "alert.css")


def _env(folder: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(PACKAGE_DIR))]
    if folder is not None:
        loaders.insert(0, jinja2.FileSystemLoader(str(folder)))
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


class Templates:
    """The four templates, the user's where the folder has them; loaded and checked once."""

    def __init__(self, folder: Path | None = None, *, config_path: str = "newswatch.toml") -> None:
        self.folder = folder
        self.where = config_path
        self.env = _env(folder)
        self._compiled: dict[str, jinja2.Template] = {}
        for name in TEMPLATES:
            if name.endswith(".css"):
                continue
            self._compiled[name] = self._load(name)
        self.css = self._source("alert.css")

    def _origin(self, name: str) -> str:
        if self.folder is not None and (self.folder / name).is_file():
            return str(self.folder / name)
        return f"pipelines/templates/{name}"

    def _load(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError(
                self.where, "alerts.templates", f"{self._origin(name)} line {exc.lineno}: {exc}"
            ) from None
        except (OSError, UnicodeDecodeError, jinja2.TemplateError) as exc:
            raise ConfigError(
                self.where, "alerts.templates", f"{self._origin(name)}: cannot read: {exc}"
            ) from None

    def _source(self, name: str) -> str:
        try:
            source, _, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
        except (OSError, UnicodeDecodeError, jinja2.TemplateError) as exc:
            raise ConfigError(
                self.where, "alerts.templates", f"{self._origin(name)}: cannot read: {exc}"
            ) from None
        return str(source)

    def render(self, name: str, values: Mapping[str, Any]) -> str:
        """One template filled; an error inside a user's template names its file and line."""
        try:
            return self._compiled[name].render(**values)
        except jinja2.TemplateError as exc:
            line = _template_line(exc, name)
            raise ConfigError(
                self.where, "alerts.templates", f"{self._origin(name)}{line}: {exc}"
            ) from None

    def html(self, values: Mapping[str, Any]) -> str:
        """The HTML part, with the CSS inlined (``@media`` rules kept in a ``<style>``)."""
        page = self.render("alert.html", {**values, "css": self.css})
        inliner = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)
        return str(inliner.inline(page))


def _template_line(exc: BaseException, name: str) -> str:
    """`` line N`` of the template where ``exc`` arose (a syntax or a runtime error)."""
    lineno = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        if template is not None and tb.tb_frame.f_code.co_filename.endswith(name):
            lineno = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return f" line {lineno}" if lineno else ""


@lru_cache(maxsize=8)
def load_templates(folder: Path | None, config_path: str = "newswatch.toml") -> Templates:
    """The templates for ``[alerts] templates`` (None: the shipped ones), cached."""
    return Templates(folder, config_path=config_path)
