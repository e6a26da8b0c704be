"""A first pass over a backlog, against bare trafilatura on one core, side by side in one run.

The real pages of tests/data/pages/real (and the article fixtures) are served on
``--sites`` local sites (samples/localserver.py, 127.0.0.1 only), each page under several
URLs with a small per-URL difference (a comment), so that no two bodies are equal, until
``--pages`` pages are listed; each site lists its pages in a sitemap named by robots.txt.
``newswatch run --no-send`` then makes a first pass over them with politeness off (a
subprocess, its own config and database; the language model's cached copy written
beforehand, as ``make`` does at set-up), and the same bodies go through the call a user
of trafilatura would make, on one core in this process (half of them before the pass, half
after)::

    trafilatura.extract(html, with_metadata=True, favor_precision=True, include_comments=False)

Printed: the pass's pages/s (wall clock, start to exit) and its CPU seconds per page (the
pass process and its extraction workers, as the kernel counts the processes it reaped),
bare trafilatura's pages/s and CPU seconds per page, the peak RSS of the pass (the sum over
its processes, read from /proc while it runs), when the pass stored its first page and its
rate from then on (its dataset, read every 50 ms: a short pass is bound by its start, a
long one tends to that rate), and last ``first-pass/bare-1core: R``.
``--runs N`` repeats the pass (each on a new dataset, each between its own bare runs) and
ends with every R and their median: the machine's own speed may move by a tenth from one
minute to the next. Targets on 2 cores: R >= 1.6, CPU per page of the pass <= 1.15x bare,
peak RSS <= 500 MB at ``--pages 10000`` (and flat from 1,000). Linux only (/proc).

    .venv/bin/python bench/throughput.py [--pages 728] [--sites 8] [--workers N] [--runs N]
    .venv/bin/python bench/throughput.py --pages 10000 --no-bare   # memory
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bare import bare_extract

from pipelines.extract.langmodel import load_identifier
from samples.localserver import serve_sites

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "pages"
FIXTURES = ("en-reprint-article", "en-wordpress-article", "fr-article", "nl-article")
TICK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def base_pages() -> list[bytes]:
    pages = [gzip.decompress(p.read_bytes()) for p in sorted((DATA / "real").glob("*.html.gz"))]
    return pages + [(DATA / "fixtures" / f"{name}.html").read_bytes() for name in FIXTURES]


def copy_of(html: bytes, n: int) -> bytes:
    """The page with a comment of its own: the same text, a body no other URL has."""
    mark = f"<!-- copy {n} -->".encode()
    at = html.rfind(b"</body>")
    return html[:at] + mark + html[at:] if at >= 0 else html + mark


def write_sites(root: Path, pages: int, sites: int) -> list[bytes]:
    """``pages`` page copies spread over ``sites`` site folders; returns their bodies."""
    originals = base_pages()
    bodies: list[bytes] = []
    urls: list[list[str]] = [[] for _ in range(sites)]
    for n in range(pages):
        body = copy_of(originals[n % len(originals)], n)
        site, path = n % sites, f"news/2026/07/story-{n:05d}.html"
        target = root / f"site{site}" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
        urls[site].append(path)
        bodies.append(body)
    for site in range(sites):
        folder = root / f"site{site}"
        entries = "".join(f"<url><loc>{{{{base}}}}/{p}</loc></url>" for p in urls[site])
        (folder / "sitemap.xml").write_text(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>\n',
            encoding="utf-8",
        )
        (folder / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    return bodies


def write_config(path: Path, servers: dict[str, str], pages: int, workers: int | None) -> None:
    pool = "" if workers is None else f"workers = {workers}\n"
    text = (
        '[store]\npath = "newswatch.db"\n\n[alerts]\nto = ["analyst@example.org"]\n\n'
        "[crawl]\ndownload_delay = 0\nautothrottle_start_delay = 0\nconcurrent_per_domain = 8\n"
        f'obey_robots = false\nallow_private_targets = ["127.0.0.1"]\n{pool}'
        f"max_pages_per_source = {pages}\n"
        # A backlog of 10,000 pages on a slow machine must not hit the time budgets.
        "source_timeout_minutes = 600\npass_timeout_minutes = 600\n\n"
    )
    for name, base in sorted(servers.items()):
        text += (
            f'[[sources]]\nname = "{name}"\nsitemaps = ["{base}/sitemap.xml"]\n'
            "article_pattern = '/news/2026/07/story-'\n\n"
        )
    path.write_text(text, encoding="utf-8")


@dataclass
class Tree:
    """CPU seconds and RSS of a process and its descendants, sampled from /proc."""

    root: int
    cpu: dict[int, float] = field(default_factory=dict)  # pid -> utime + stime, last seen
    rss: dict[int, int] = field(default_factory=dict)  # pid -> its peak RSS
    names: dict[int, str] = field(default_factory=dict)  # pid -> its command line
    peak_rss: int = 0
    peak_pss: int = 0  # proportional: memory shared by processes counted once
    stop: threading.Event = field(default_factory=threading.Event)

    def sample(self) -> None:
        rss, pss = 0, 0
        for pid in _descendants(self.root):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            self.cpu[pid] = (int(fields[11]) + int(fields[12])) / TICK
            rss += int(fields[21]) * PAGE_SIZE
            pss += _pss(pid)
            self.rss[pid] = max(self.rss.get(pid, 0), int(fields[21]) * PAGE_SIZE)
            if pid not in self.names:
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        self.names[pid] = f.read().replace(b"\0", b" ").decode()[-60:]
                except OSError:
                    self.names[pid] = "?"
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_pss = max(self.peak_pss, pss)

    def watch(self) -> None:
        # Every 0.2 s: the sampling itself (~0.3 ms) takes CPU from the pass it watches.
        while not self.stop.wait(0.2):
            self.sample()


@dataclass
class Progress:
    """Pages the pass has stored, read from its dataset every 50 ms while it runs: when the
    first one was stored, and the rate from then on (the pass without its start)."""

    db: Path
    started: float  # time.perf_counter() when the pass was launched
    first: float | None = None  # seconds after the launch when the first page was stored
    last: float | None = None  # ... and when the count last grew
    first_count: int = 0
    last_count: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def watch(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while not self.stop.wait(0.05):
                if conn is None:
                    if not self.db.exists():
                        continue
                    conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=0.05)
                try:
                    # Pages the pass judged (article or not): one row each in seen_urls.
                    (count,) = conn.execute("SELECT COUNT(*) FROM seen_urls").fetchone()
                except sqlite3.Error:  # not created yet, or busy for a moment
                    continue
                now = time.perf_counter() - self.started
                if count and self.first is None:
                    self.first, self.first_count = now, count
                if count > self.last_count:
                    self.last, self.last_count = now, count
        finally:
            if conn is not None:
                conn.close()

    def rate(self) -> float | None:
        """Pages a second from the first page stored to the last."""
        if self.first is None or self.last is None or self.last <= self.first:
            return None
        return (self.last_count - self.first_count) / (self.last - self.first)


def _descendants(root: int) -> list[int]:
    """``root`` and the processes under it, from each thread's /proc children list."""
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        try:
            threads = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in threads:
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    todo += [int(child) for child in f.read().split()]
            except OSError:
                continue
    return found


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_pass(config: Path, detail: bool = False) -> tuple[float, float, Tree, Progress]:
    """Wall seconds, CPU seconds (pass and workers), the process tree and the progress of
    one pass."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    cmd = [sys.executable, "-m", "crawler", "--config", str(config), "run", "--no-send"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=config.parent
    )
    tree = Tree(proc.pid)
    progress = Progress(config.parent / "newswatch.db", started)
    watchers = [threading.Thread(target=w, daemon=True) for w in (tree.watch, progress.watch)]
    for watcher in watchers:
        watcher.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    tree.stop.set()
    progress.stop.set()
    for watcher in watchers:
        watcher.join()
    if proc.returncode != 0:
        sys.exit(f"the pass failed (exit {proc.returncode}):\n{err.decode()[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The kernel's count for the children this process reaped: the pass, and what the pass
    # reaped before it exited (its forkserver, stopped at exit, which reaped the workers).
    # multiprocessing's resource tracker outlives the pass and is reaped by init: its CPU
    # (its start, mostly) is taken from the samples.
    reaped = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    orphans = sum(cpu for pid, cpu in tree.cpu.items() if "resource_tracker" in tree.names[pid])
    if detail:
        for pid, cpu in tree.cpu.items():
            print(f"  pid {pid}: CPU {cpu:.1f} s (last sample), peak RSS"
                  f" {tree.rss[pid] / 2**20:.0f} MB: {tree.names[pid]}")  # fmt: skip
        print(f"  all of them, as the kernel counts their CPU: {reaped + orphans:.1f} s")
    return wall, reaped + orphans, tree, progress


def bare(bodies: list[bytes], start: int = 0, step: int = 1) -> tuple[float, float]:
    """Wall and CPU seconds of bare trafilatura.extract over ``bodies[start::step]``, on one
    core in this process."""
    for body in bodies[:3]:  # warm up: lazy imports, caches
        bare_extract(body)
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(start, len(bodies), step):
        bare_extract(bodies[n], f"http://127.0.0.1/news/2026/07/story-{n:05d}.html")
    return time.perf_counter() - wall, time.process_time() - cpu


def stored(db: Path) -> dict[str, int]:
    """Pages by what became of them."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT status, COUNT(*) FROM seen_urls GROUP BY status").fetchall()
    finally:
        conn.close()
    return {str(status): int(n) for status, n in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=728, help="pages listed (default 728)")
    parser.add_argument("--sites", type=int, default=8, help="local sites (default 8)")
    parser.add_argument("--workers", type=int, default=None, help="[crawl] workers")
    parser.add_argument("--no-bare", action="store_true", help="skip bare trafilatura")
    parser.add_argument("--detail", action="store_true", help="CPU and RSS of each process")
    parser.add_argument(
        "--runs", type=int, default=1, help="passes, each with its own bare runs (default 1)"
    )
    args = parser.parse_args()
    # The language model's copy in the cache folder, as `make` writes it at set-up: without
    # it, the first pass would write it and start its workers ~0.6 s late, once.
    load_identifier()
    ratios: list[float] = []
    with tempfile.TemporaryDirectory(prefix="nw-throughput-") as tmp:
        root = Path(tmp)
        bodies = write_sites(root / "sites", args.pages, args.sites)
        names = [f"site{i}" for i in range(args.sites)]
        with serve_sites(root / "sites", names) as servers:
            for run in range(args.runs):
                if args.runs > 1:
                    print(f"== run {run + 1} of {args.runs}")
                ratio = one_run(root / f"work{run}", dict(servers.items()), bodies, args)
                if ratio is not None:
                    ratios.append(ratio)
    if len(ratios) > 1:
        listed = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"first-pass/bare-1core over {len(ratios)} runs: {listed};"
              f" median {statistics.median(ratios):.2f}")  # fmt: skip


def startup(progress: Progress, bare_rate: float | None) -> None:
    """When the pass stored its first page, and its rate from then on (against bare
    trafilatura's): what a short pass spends on its start, and what a long one tends to."""
    rate = progress.rate()
    if progress.first is None or rate is None:
        return
    versus = "" if bare_rate is None else f" ({rate / bare_rate:.2f}x bare)"
    print(f"  start-up: first page stored {progress.first:.2f} s after the launch; from then"
          f" on {rate:.1f} pages/s{versus}")  # fmt: skip


def one_run(
    work: Path, servers: dict[str, str], bodies: list[bytes], args: argparse.Namespace
) -> float | None:
    """One pass on a new dataset, between bare trafilatura over half the bodies before it
    and the other half after it (so that a neighbour's load that comes or goes weighs on
    both sides); prints the figures and returns the ratio (None with ``--no-bare``)."""
    config = work / "newswatch.toml"
    work.mkdir()
    write_config(config, servers, args.pages, args.workers)
    before = (0.0, 0.0) if args.no_bare else bare(bodies, 0, 2)
    wall, cpu, tree, progress = run_pass(config, args.detail)
    after = (0.0, 0.0) if args.no_bare else bare(bodies, 1, 2)
    counts = stored(work / "newswatch.db")
    n = sum(counts.values())  # pages the pass processed (stored, or judged no article)
    workers = "one per core" if args.workers is None else args.workers
    print(f"pages: {len(bodies)} ({len(base_pages())} pages, each under several URLs) on"
          f" {args.sites} sites; processed by the pass: {n}")  # fmt: skip
    print(f"first pass ([crawl] workers: {workers}): {n / wall:.1f} pages/s ({wall:.1f} s),"
          f" {1000 * cpu / n:.1f} ms CPU/page")  # fmt: skip
    print(f"peak RSS (pass + workers, summed): {tree.peak_rss / 2**20:.0f} MB;"
          f" PSS (shared pages counted once): {tree.peak_pss / 2**20:.0f} MB")  # fmt: skip
    print(f"  urls stored by status: {counts}")
    if args.no_bare:
        startup(progress, None)
        return None
    bare_wall, bare_cpu = before[0] + after[0], before[1] + after[1]
    b = len(bodies)
    print(f"bare trafilatura.extract, 1 core: {b / bare_wall:.1f} pages/s ({bare_wall:.1f} s),"
          f" {1000 * bare_cpu / b:.1f} ms CPU/page")  # fmt: skip
    startup(progress, b / bare_wall)
    print(f"CPU per page, pass/bare: {(cpu / n) / (bare_cpu / b):.2f}")
    ratio = (n / wall) / (b / bare_wall)
    print(f"first-pass/bare-1core: {ratio:.2f}")
    return ratio


if __name__ == "__main__":
    main()
