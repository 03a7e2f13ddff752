#!/usr/bin/env python3
"""Soak: the reader left open through 200 refreshes of a corpus that keeps changing.

Starts tidings' reader in a tmux session (200x50) on a fresh data directory
subscribed to a ../shared/bench corpus (served by serve.py), then CYCLES
times: a few feeds get new items (corpus.py --bump; older items fall out of
each feed's window), `R` refreshes every feed, and once the run is recorded
`l` `M` `h` mark everything read, as a person who reads it all would. After
each cycle it samples the reader's resident memory (VmRSS), the database's
size (with its WAL), the articles kept and the image cache's size.

Retention is set to keep 40 articles per feed (read, unstarred ones beyond
that go once their feed no longer lists them), so the database must stop
growing; the reader's memory must stay flat. Prints the curve every
--every cycles and a summary line; exits non-zero if the reader dies.

    cargo build --release
    python3 benches/soak.py [--cycles 200] [--feeds 100] [--bin target/release/tidings]
"""

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

from loopback import BENCH, RELEASE_BIN, free_port, serve, tidings_env


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def dir_bytes(path):
    total = 0
    for root, _, names in os.walk(path):
        for n in names:
            try:
                total += os.path.getsize(os.path.join(root, n))
            except OSError:
                pass
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=10)
    parser.add_argument("--bump", type=int, default=30, help="feeds that get 3 new items each cycle")
    parser.add_argument("--every", type=int, default=10, help="print the curve every N cycles")
    parser.add_argument("--bin", default=RELEASE_BIN)
    args = parser.parse_args()
    if not os.path.isdir(BENCH):
        print(f"SKIPPED: {BENCH} is not here")
        return
    if not shutil.which("tmux"):
        sys.exit("tmux is needed (apt-get install tmux)")
    binary = os.path.abspath(args.bin)
    work = tempfile.mkdtemp(prefix="tidings-soak-")
    corpus, data = os.path.join(work, "corpus"), os.path.join(work, "data")
    os.makedirs(data)
    port = free_port()
    subprocess.run([sys.executable, "corpus.py", "--feeds", str(args.feeds), "--items", str(args.items),
                    "--seed", "7", "--out", corpus, "--base-url", f"http://127.0.0.1:{port}",
                    "--hosts", str(args.hosts)], cwd=BENCH, check=True, capture_output=True)
    server = serve(corpus, port, "--latency-ms", "5", "--max-runtime", "14400")
    session = f"tidings-soak-{os.getpid()}"
    try:
        config = os.path.join(data, "config.toml")
        with open(config, "w") as f:
            # Every R fetches every feed: the corpus's <ttl>s would rest half of them.
            f.write("[retention]\nkeep_articles = 40\n[refresh]\ninterval_minutes = 10000\nhonour_rest = false\n")
        env = tidings_env(data, config)
        subprocess.run([binary, "import", os.path.join(corpus, "urls")], env=env, check=True, capture_output=True)
        db_path = os.path.join(data, "tidings.db")

        def runs_done():
            conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
            try:
                return conn.execute("SELECT count(*) FROM refresh_runs WHERE wall_ms > 0").fetchone()[0]
            finally:
                conn.close()

        def articles():
            conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
            try:
                return conn.execute("SELECT count(*), coalesce(sum(read = 0), 0) FROM articles").fetchone()
            finally:
                conn.close()

        def keys(*k):
            for key in k:
                subprocess.run(["tmux", "send-keys", "-t", session, key], check=True)
                time.sleep(0.05)

        def wait_for_run(n, deadline_s=120):
            deadline = time.monotonic() + deadline_s
            while runs_done() < n:
                if time.monotonic() > deadline:
                    sys.exit(f"refresh {n} did not finish in {deadline_s} s")
                time.sleep(0.05)

        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50",
                        f"exec env TIDINGS_DATA_DIR={data} TIDINGS_CONFIG={config} {binary}"], env=env, check=True)
        pid = int(subprocess.run(["tmux", "display", "-p", "-t", session, "#{pane_pid}"],
                                 capture_output=True, text=True, check=True).stdout)
        wait_for_run(1)  # the refresh at start
        keys("l", "M", "h")
        curve = []
        started = time.monotonic()
        print(f"{args.feeds} feeds ({args.items} items in each window), {args.bump} bumped by 3 items a cycle, "
              f"retention 40 articles a feed")
        print("| cycle | reader RSS MB | database MB | WAL MB | articles (unread) | image cache MB |")
        print("|---|---|---|---|---|---|")
        for cycle in range(1, args.cycles + 1):
            subprocess.run([sys.executable, "corpus.py", "--out", corpus, "--bump", str(args.bump)],
                           cwd=BENCH, check=True, capture_output=True)
            urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/__warm", method="POST")).read()
            keys("R")
            wait_for_run(cycle + 1)
            time.sleep(0.3)  # the reader takes in the end of the run
            keys("l", "M", "h")
            time.sleep(0.2)
            if not os.path.exists(f"/proc/{pid}"):
                sys.exit(f"the reader died at cycle {cycle}")
            db_bytes = os.path.getsize(db_path)
            wal = db_path + "-wal"
            wal_bytes = os.path.getsize(wal) if os.path.exists(wal) else 0
            total, unread = articles()
            sample = dict(cycle=cycle, rss_mb=rss_kb(pid) / 1024, db_mb=db_bytes / 1e6, wal_mb=wal_bytes / 1e6,
                          articles=total,
                          unread=unread, images_mb=dir_bytes(os.path.join(data, "cache")) / 1e6)
            curve.append(sample)
            if cycle % args.every == 0 or cycle == 1:
                print(f"| {cycle} | {sample['rss_mb']:.1f} | {sample['db_mb']:.1f} | {sample['wal_mb']:.1f} | "
                      f"{total:,} ({unread:,}) | "
                      f"{sample['images_mb']:.1f} |", flush=True)
        keys("q")
        tail = curve[len(curve) // 2:]
        print(json.dumps(dict(
            cycles=args.cycles, seconds=round(time.monotonic() - started, 1),
            rss_mb_first=round(curve[0]["rss_mb"], 1), rss_mb_max=round(max(s["rss_mb"] for s in curve), 1),
            rss_mb_last=round(curve[-1]["rss_mb"], 1),
            rss_mb_second_half_growth=round(tail[-1]["rss_mb"] - tail[0]["rss_mb"], 1),
            db_mb_max=round(max(s["db_mb"] for s in curve), 1), db_mb_last=round(curve[-1]["db_mb"], 1),
            wal_mb_max=round(max(s["wal_mb"] for s in curve), 1),
            db_mb_second_half_growth=round(tail[-1]["db_mb"] - tail[0]["db_mb"], 2),
            articles_last=curve[-1]["articles"])))
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
