"""The house rules, checked on the source: where SQL may live, who may import whom, how big
a module may grow. Each failure names the offending file and line."""

from __future__ import annotations

import ast
import re
import statistics
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("crawler", "pipelines", "samples")
STORE = Path("pipelines/store")

# Modules allowed over MAX_LINES, each with the reason a split would not help a reader.
LARGE_MODULES: dict[str, str] = {}
MEDIAN_LINES = 200
MAX_LINES = 400

# SQL in a string literal. Keywords that read as English ("select ... from", "update ...
# set", "begin") count in upper case only, as the code writes SQL; the rest in any case.
_SQL = [
    re.compile(r"\bSELECT\b[\s\S]*\bFROM\b"),
    re.compile(r"^\s*(SELECT|WITH|VALUES)\s"),
    re.compile(r"\bUPDATE\s+\w+\s+SET\b"),
    re.compile(r"\bWHERE\s+[\w.]+\s*(=|!=|<|>|IS\b|IN\b|LIKE\b)"),
    re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|VACUUM|ANALYZE)\b"),
    re.compile(r"\binsert\s+(or\s+\w+\s+)?into\s+\w", re.IGNORECASE),
    re.compile(r"\bdelete\s+from\s+\w", re.IGNORECASE),
    re.compile(r"\b(create|drop)\s+(unique\s+|virtual\s+)?(table|index|trigger|view)\b", re.I),
    re.compile(r"\balter\s+table\s+\w", re.IGNORECASE),
    re.compile(r"\bpragma\s+\w+\s*(=|$|\()", re.IGNORECASE),
]
_DB_MODULES = ("sqlite3", "sqlite_utils")
_EXECUTE = ("execute", "executemany", "executescript")
_CRAWLING = ("scrapy", "twisted", "crawler")


@dataclass(frozen=True)
class Source:
    path: Path  # relative to ROOT
    module: str
    tree: ast.Module
    lines: int

    def at(self, node: ast.AST) -> str:
        return f"{self.path}:{getattr(node, 'lineno', 0)}"


def project_sources() -> list[Source]:
    sources = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            parts = list(rel.with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text, filename=str(rel))
            sources.append(Source(rel, ".".join(parts), tree, len(text.splitlines())))
    return sources


def docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring nodes: prose, not code."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def imported_names(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Absolute module names an import statement names (``from a import b`` gives a and a.b)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        here = module.split(".") if is_package else module.split(".")[:-1]
        anchor = here[: len(here) - node.level + 1]
        base = ".".join([*anchor, base] if base else anchor)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def all_imports(source: Source) -> Iterator[tuple[ast.AST, str]]:
    is_package = source.path.name == "__init__.py"
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in imported_names(node, source.module, is_package):
                yield node, name


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def top_level_imports(source: Source) -> Iterator[tuple[ast.AST, str]]:
    """Imports that run when the module is imported: module level, not under TYPE_CHECKING."""
    is_package = source.path.name == "__init__.py"
    pending: list[ast.stmt] = list(source.tree.body)
    while pending:
        node = pending.pop(0)
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in imported_names(node, source.module, is_package):
                yield node, name
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            pending += [*node.body, *node.orelse]
        elif isinstance(node, ast.Try):
            pending += [*node.body, *node.orelse, *node.finalbody]
            for handler in node.handlers:
                pending += handler.body
        elif isinstance(node, ast.With):
            pending += node.body


def _annotation(node: ast.AST) -> ast.expr | None:
    if isinstance(node, ast.arg | ast.AnnAssign):
        return node.annotation
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return node.returns
    return None


def sql_offences(source: Source) -> Iterator[str]:
    skip = docstrings(source.tree)
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            if any(pattern.search(node.value) for pattern in _SQL):
                shown = " ".join(node.value.split())[:60]
                yield f"{source.at(node)}: SQL in a string literal: {shown!r}"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _EXECUTE
        ):
            yield f"{source.at(node)}: .{node.func.attr}() call"
        annotation = _annotation(node)
        if annotation is not None and any(m in ast.unparse(annotation) for m in _DB_MODULES):
            yield f"{source.at(node)}: typed as {ast.unparse(annotation)}"
    for node, name in all_imports(source):
        if name.split(".")[0] in _DB_MODULES:
            yield f"{source.at(node)}: imports {name}"


def _line_order(offence: str) -> tuple[int, str]:
    return int(offence.split(":")[1]), offence


def test_no_sql_and_no_database_driver_outside_the_store() -> None:
    """Only pipelines/store/ speaks SQL: everything else calls named Store operations."""
    offences = [
        offence
        for source in project_sources()
        if not source.path.is_relative_to(STORE)
        for offence in sorted(set(sql_offences(source)), key=_line_order)
    ]
    assert not offences, "SQL outside pipelines/store/:\n" + "\n".join(offences)


def test_the_sql_check_finds_what_it_looks_for() -> None:
    code = '''
import sqlite_utils
def f(db: sqlite_utils.Database, x: int) -> None:
    """Select the articles from the feed: prose, not SQL."""
    db.execute("SELECT id FROM articles WHERE url_key = ?", [x])
    db.conn.executemany("insert or ignore into shingles (hash) values (?)", [])
    db.execute(f"UPDATE runs SET alerts_sent = {x}")
    label = "Select the sources from the config"
'''
    source = Source(Path("pipelines/x.py"), "pipelines.x", ast.parse(code), 8)
    found = sorted(sql_offences(source))
    assert [line.split(": ", 1)[0] for line in found] == [
        "pipelines/x.py:2",
        "pipelines/x.py:3",
        "pipelines/x.py:5",
        "pipelines/x.py:5",
        "pipelines/x.py:6",
        "pipelines/x.py:6",
        "pipelines/x.py:7",
        "pipelines/x.py:7",
    ]


def test_pipelines_do_not_import_the_crawler_side() -> None:
    """The core runs without Scrapy or Twisted: nothing in pipelines/ imports them."""
    offences = [
        f"{source.at(node)}: imports {name}"
        for source in project_sources()
        if source.path.parts[0] == "pipelines"
        for node, name in all_imports(source)
        if name.split(".")[0] in _CRAWLING
    ]
    assert not offences, "pipelines/ imports the crawler side:\n" + "\n".join(offences)


def import_graph(sources: list[Source]) -> dict[str, dict[str, str]]:
    """module -> {imported project module: where}. A package's ``__init__`` counts as
    imported when a module outside that package imports one of its modules."""
    known = {s.module for s in sources}
    graph: dict[str, dict[str, str]] = {s.module: {} for s in sources}
    for source in sources:
        for node, name in top_level_imports(source):
            parts = name.split(".")
            for i in range(len(parts), 0, -1):
                target = ".".join(parts[:i])
                if target not in known or target == source.module:
                    continue
                inside = source.module.startswith(target + ".")
                if i == len(parts) or not inside:
                    graph[source.module].setdefault(target, source.at(node))
    return graph


def cycles(graph: dict[str, dict[str, str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    found = []
    for component in components:
        members = set(component)
        path = [component[0]]
        while True:  # walk inside the component until a module repeats
            nxt = min(m for m in graph[path[-1]] if m in members)
            if nxt in path:
                found.append([*path[path.index(nxt) :], nxt])
                break
            path.append(nxt)
    return found


def test_no_import_cycle() -> None:
    graph = import_graph(project_sources())
    report = []
    for cycle in cycles(graph):
        edges = zip(cycle, cycle[1:], strict=False)
        report.append(" -> ".join(cycle) + "".join(f"\n  {graph[a][b]}" for a, b in edges))
    assert not report, "import cycles (top-level imports):\n" + "\n".join(report)


def test_the_cycle_check_finds_a_cycle() -> None:
    graph = {"a": {"b": "a.py:1"}, "b": {"c": "b.py:3"}, "c": {"a": "c.py:2"}, "d": {"a": "d:1"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]


def test_modules_stay_small() -> None:
    sources = project_sources()
    median = statistics.median(s.lines for s in sources)
    too_long = [
        f"{s.path}: {s.lines} lines (over {MAX_LINES}; or list it in LARGE_MODULES with why)"
        for s in sources
        if s.lines > MAX_LINES and str(s.path) not in LARGE_MODULES
    ]
    stale = [p for p in LARGE_MODULES if not (ROOT / p).exists()]
    assert median <= MEDIAN_LINES, f"median module: {median} lines (over {MEDIAN_LINES})"
    assert not too_long, "modules over the limit:\n" + "\n".join(too_long)
    assert not stale, f"LARGE_MODULES names modules that are gone: {stale}"
