#!/usr/bin/env python3
"""Load: one cold refresh of thousands of feeds, its time, memory and failures.

For each size in --feeds (default 5000 and 20000): a ../shared/bench corpus of
that many feeds (--items items each, about 250 KB a feed at 50) on 100
loopback hosts, served by serve.py with 20 ms a request and 1% of the feeds
misbehaving (HTTP 500, a hang, a truncated body, a redirect); then `tidings
refresh` under /usr/bin/time in a fresh data directory, images off. Prints per
size: wall time and CPU time, each per feed, the CPU serve.py took meanwhile
(it shares the machine's cores, so its share is wall time tidings did not
get), peak resident memory, the failures recorded by kind, and whether every
feed has a fetch record. Corpora are kept under
--cache (default /tmp/tidings-bench) and reused.

    cargo build --release
    python3 benches/load.py [--feeds 5000 20000] [--items 50] [--bin target/release/tidings]
"""

import argparse
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

from loopback import BENCH, RELEASE_BIN, serve, tidings_env


def corpus_for(cache, feeds, items, port):
    """The corpus of that size, generated once (its base URL names the port)."""
    out = os.path.join(cache, f"load-{feeds}x{items}-p{port}")
    if not os.path.exists(os.path.join(out, "corpus.json")):
        # One corpus of a size is kept: the one made for another port goes.
        for old in os.listdir(cache):
            if old.startswith(f"load-{feeds}x{items}-p"):
                shutil.rmtree(os.path.join(cache, old))
        started = time.monotonic()
        subprocess.run([sys.executable, "corpus.py", "--feeds", str(feeds), "--items", str(items), "--seed", "5",
                        "--out", out, "--base-url", f"http://127.0.0.1:{port}", "--hosts", "100"],
                       cwd=BENCH, check=True, capture_output=True)
        print(f"  (generated {feeds} feeds in {time.monotonic() - started:.0f} s)", flush=True)
    return out


def cpu_seconds(pid):
    """User + system CPU a process has used so far (the feed server shares the cores)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, nargs="+", default=[5000, 20000])
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--cache", default="/tmp/tidings-bench")
    parser.add_argument("--port", type=int, default=8790, help="the corpora's port (reused between runs)")
    parser.add_argument("--bin", default=RELEASE_BIN)
    args = parser.parse_args()
    if not os.path.isdir(BENCH):
        print(f"SKIPPED: {BENCH} is not here")
        return
    binary = os.path.abspath(args.bin)
    os.makedirs(args.cache, exist_ok=True)
    results = []
    for feeds in args.feeds:
        print(f"{feeds} feeds:", flush=True)
        corpus = corpus_for(args.cache, feeds, args.items, args.port)
        xml_bytes = sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(corpus)
                        for n in ns if n.endswith((".xml", ".rss", ".atom", ".rdf")))
        # serve.py keeps bodies and their gzip forms in memory (2 GiB by
        # default): a corpus that does not fit would be re-read and
        # re-compressed on every request, on the cores tidings is measured on.
        cache_mb = xml_bytes * 3 // 2 // (1 << 20) + 512
        server = serve(corpus, args.port, "--latency-ms", "20", "--fail-rate", "0.01", "--max-runtime", "7200",
                       "--cache-mb", str(cache_mb))
        try:
            with tempfile.TemporaryDirectory() as data:
                config = os.path.join(data, "config.toml")
                with open(config, "w") as f:
                    f.write("[images]\ncache = false\n")
                env = tidings_env(data, config)
                subprocess.run([binary, "import", os.path.join(corpus, "urls")], env=env, check=True,
                               capture_output=True)
                server_cpu_before = cpu_seconds(server.pid)
                started = time.monotonic()
                run = subprocess.run(["/usr/bin/time", "-v", binary, "refresh", "--quiet"], env=env,
                                     capture_output=True, text=True)
                wall = time.monotonic() - started
                server_cpu = cpu_seconds(server.pid) - server_cpu_before
                peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", run.stderr).group(1))
                cpu = sum(float(re.search(rf"{k} time \(seconds\): ([\d.]+)", run.stderr).group(1))
                          for k in ("User", "System"))
                db = sqlite3.connect(os.path.join(data, "tidings.db"))
                subscribed = db.execute("SELECT count(*) FROM feeds").fetchone()[0]
                recorded = db.execute("SELECT count(DISTINCT feed_id) FROM fetches").fetchone()[0]
                kinds = dict(db.execute(
                    """SELECT coalesce(error_kind, 'ok'), count(*) FROM fetches
                       WHERE id IN (SELECT max(id) FROM fetches GROUP BY feed_id) GROUP BY 1"""))
                articles = db.execute("SELECT count(*) FROM articles").fetchone()[0]
                db.close()
        finally:
            server.terminate()
            server.wait()
        failed = {k: n for k, n in kinds.items() if k != "ok"}
        result = dict(feeds=subscribed, xml_mb=round(xml_bytes / 1e6), exit=run.returncode,
                      wall_s=round(wall, 1), ms_per_feed=round(wall * 1000 / max(subscribed, 1), 2),
                      cpu_s=round(cpu, 1), cpu_ms_per_feed=round(cpu * 1000 / max(subscribed, 1), 2),
                      server_cpu_s=round(server_cpu, 1), peak_mib=round(peak_kb / 1024), articles=articles,
                      with_a_fetch_record=recorded, failed=failed)
        results.append(result)
        print("  " + json.dumps(result), flush=True)
    print("| feeds | XML | wall | per feed | CPU | CPU per feed | server CPU | peak RSS | articles "
          "| failures (kind: count) | fetch records |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        failures = ", ".join(f"{k}: {n}" for k, n in sorted(r["failed"].items())) or "none"
        print(f"| {r['feeds']:,} | {r['xml_mb']} MB | {r['wall_s']} s | {r['ms_per_feed']} ms | {r['cpu_s']} s | "
              f"{r['cpu_ms_per_feed']} ms | {r['server_cpu_s']} s | "
              f"{r['peak_mib']} MiB | {r['articles']:,} | {failures} | {r['with_a_fetch_record']:,} |")
    if any(r["exit"] != 0 or r["with_a_fetch_record"] != r["feeds"] for r in results):
        sys.exit("a refresh failed, or some feed has no fetch record")


if __name__ == "__main__":
    main()
