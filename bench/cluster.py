"""`newswatch cluster run` over many loopback sources with 1, 2 and 4 Scrapyd nodes, side by
side in one run.

``--sources`` sites of bench pages (the real pages of tests/data/pages, each under several
URLs, as bench/throughput.py builds them) are served on 127.0.0.1; for each node count, a
fresh database and fresh Scrapyd nodes (``--slots`` processes each, tests/services/scrapyd.py)
take one pass (``cluster run --no-send``, ``--per-job`` sources per job). Printed per node
count: the pass's wall time and pages/s, and the CPU seconds of the Scrapyd processes and
all their job processes (read from /proc while the pass runs) and of the ``cluster run``
process itself, per page. Linux only (/proc); only 127.0.0.1.

    .venv/bin/python bench/cluster.py [--sources 32] [--pages 640] [--nodes 1,2,4]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from services.scrapyd import scrapyd_nodes  # noqa: E402
from throughput import Tree, stored, write_sites  # noqa: E402

from samples.localserver import serve_sites  # noqa: E402


def write_config(path: Path, servers: dict[str, str], nodes: list[str], per_job: int) -> None:
    text = (
        '[store]\npath = "newswatch.db"\n\n[alerts]\nto = ["analyst@example.org"]\n\n'
        "[crawl]\ndownload_delay = 0\nautothrottle_start_delay = 0\nconcurrent_per_domain = 8\n"
        'obey_robots = false\nallow_private_targets = ["127.0.0.1"]\nworkers = 0\n'
        "source_timeout_minutes = 60\npass_timeout_minutes = 60\n\n"
        f"[cluster]\nscrapyd = {nodes!r}\nsources_per_job = {per_job}\npoll_seconds = 0.25\n"
        "job_timeout_minutes = 30\n\n"
    ).replace("'", '"')
    for name, base in sorted(servers.items()):
        text += (
            f'[[sources]]\nname = "{name}"\nsitemaps = ["{base}/sitemap.xml"]\n'
            "article_pattern = '/news/2026/07/story-'\n\n"
        )
    path.write_text(text, encoding="utf-8")


def one_pass(
    root: Path, servers: dict[str, str], count: int, slots: int, per_job: int
) -> dict[str, float]:
    work = root / f"nodes{count}"
    work.mkdir()
    with scrapyd_nodes(work / "scrapyd", count, max_proc=slots) as nodes:
        config = work / "newswatch.toml"
        write_config(config, servers, [n.url for n in nodes], per_job)
        trees = [Tree(n.proc.pid) for n in nodes]
        watchers = [threading.Thread(target=t.watch, daemon=True) for t in trees]
        for w in watchers:
            w.start()
        started = time.perf_counter()
        cmd = [sys.executable, "-m", "crawler", "--config", str(config), "cluster", "run"]
        proc = subprocess.Popen([*cmd, "--no-send"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, cwd=work)  # fmt: skip
        own = Tree(proc.pid)
        own_watch = threading.Thread(target=own.watch, daemon=True)
        own_watch.start()
        _, err = proc.communicate()
        wall = time.perf_counter() - started
        for t in [*trees, own]:
            t.stop.set()
        for w in [*watchers, own_watch]:
            w.join()
        if proc.returncode != 0:
            sys.exit(f"the pass failed (exit {proc.returncode}):\n{err.decode()[-2000:]}")
    counts, _ = stored(work / "newswatch.db")
    pages = sum(counts.values())
    return {
        "pages": pages,
        "wall": wall,
        "nodes_cpu": sum(sum(t.cpu.values()) for t in trees),
        "pass_cpu": sum(own.cpu.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=32, help="local sites (default 32)")
    parser.add_argument("--pages", type=int, default=640, help="pages listed (default 640)")
    parser.add_argument("--nodes", default="1,2,4", help="node counts (default 1,2,4)")
    parser.add_argument("--slots", type=int, default=2, help="max_proc of a node (default 2)")
    parser.add_argument("--per-job", type=int, default=4, help="sources per job (default 4)")
    args = parser.parse_args()
    counts = [int(n) for n in args.nodes.split(",")]
    with tempfile.TemporaryDirectory(prefix="nw-cluster-") as tmp:
        root = Path(tmp)
        write_sites(root / "sites", args.pages, args.sources)
        names = [f"site{i}" for i in range(args.sources)]
        results = {}
        with serve_sites(root / "sites", names) as servers:
            for count in counts:
                results[count] = one_pass(root, dict(servers.items()), count, args.slots,
                                          args.per_job)  # fmt: skip
    print(f"{args.sources} sources, {args.pages} pages; {args.slots} slots per node,"
          f" {args.per_job} sources per job; CPU from /proc")  # fmt: skip
    head = ("nodes", "pages", "wall s", "pages/s", "nodes CPU s", "ms CPU/page", "pass CPU s")
    print("  ".join(f"{h:>11}" for h in head))
    for count, r in results.items():
        row = (count, int(r["pages"]), f"{r['wall']:.1f}", f"{r['pages'] / r['wall']:.1f}",
               f"{r['nodes_cpu']:.1f}", f"{1000 * r['nodes_cpu'] / r['pages']:.1f}",
               f"{r['pass_cpu']:.1f}")  # fmt: skip
        print("  ".join(f"{v:>11}" for v in row))


if __name__ == "__main__":
    main()
