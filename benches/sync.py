#!/usr/bin/env python3
"""Sync side by side: tidings and newsboat's `ttrss` backend on one real
Tiny Tiny RSS server holding the same articles.

A ../shared/bench corpus (--feeds feeds of --items items: 100 x 50 = 5,000
articles by default) is served on loopback by serve.py; a tt-rss instance
(../shared/sync/ttrss-up.sh) subscribes to every feed and fetches them. Then,
for --runs rounds, each client in a fresh data directory: a first sync (every
article pulled from the server) and a second one with nothing changed, each
under /usr/bin/time: wall seconds, CPU seconds, peak resident memory, and the
articles each client then holds. The server is warmed by one untimed sync
first, and the clients take turns going first. tidings runs with images
off, as newsboat downloads none; its requests per sync come from its own
statistics.

    cargo build --release
    python3 benches/sync.py [--feeds 100] [--items 50] [--runs 3] [--bin target/release/tidings]

newsboat's settings are those of its documentation: `urls-source "ttrss"`,
`ttrss-url`, `ttrss-login`, `ttrss-password`, `ttrss-mode "multi"`.
"""

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import urllib.request

from loopback import BENCH, RELEASE_BIN, SHARED, free_port, serve, tidings_env

SYNC = os.path.join(SHARED, "sync")


def ttrss_up(directory):
    out = subprocess.run([os.path.join(SYNC, "ttrss-up.sh"), directory],
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def api(url, body, session=None):
    if session:
        body = dict(body, sid=session)
    request = urllib.request.Request(url, json.dumps(body).encode(),
                                     headers={"User-Agent": "sync-bench"})
    with urllib.request.urlopen(request) as answer:
        reply = json.load(answer)
    if reply.get("status") != 0:
        sys.exit(f"tt-rss said {reply} to {body.get('op')}")
    return reply["content"]


def timed(command, env=None):
    """(wall s, cpu s, peak MB, exit) of `command` under /usr/bin/time."""
    with tempfile.NamedTemporaryFile("r") as report:
        done = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", report.name, *command],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        wall, user, system, rss = report.read().split()[-4:]
    if done.returncode != 0:
        print(f"  {command[0]} failed: {done.stderr.strip()[-300:]}", file=sys.stderr)
    return float(wall), float(user) + float(system), int(rss) / 1024, done.returncode


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--feeds", type=int, default=100)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bin", default=RELEASE_BIN)
    parser.add_argument("--cache", default="/tmp/tidings-bench")
    args = parser.parse_args()
    if not os.path.isdir(SYNC):
        sys.exit("../shared/sync is not in this checkout")

    port = free_port()
    corpus = os.path.join(args.cache, f"sync-corpus-{args.feeds}x{args.items}-{port}")
    subprocess.run([sys.executable, "corpus.py", "--feeds", str(args.feeds), "--items", str(args.items),
                    "--seed", "7", "--out", corpus,
                    "--base-url", f"http://127.0.0.1:{port}"],
                   cwd=BENCH, check=True, stdout=subprocess.DEVNULL)
    feeds = serve(corpus, port)
    instance = "/tmp/tidings-bench-ttrss"
    shutil.rmtree(instance, ignore_errors=True)
    work = tempfile.mkdtemp(prefix="sync-bench-")
    try:
        server = ttrss_up(instance)
        session = api(server["TTRSS_API"], {"op": "login", "user": server["TTRSS_USER"],
                                            "password": server["TTRSS_PASSWORD"]})["session_id"]
        with open(os.path.join(corpus, "urls")) as urls:
            for line in urls:
                if line.strip():
                    api(server["TTRSS_API"], {"op": "subscribeToFeed",
                                              "feed_url": line.split()[0]}, session)
        subprocess.run([server["TTRSS_UPDATE"]], check=True)
        counters = api(server["TTRSS_API"], {"op": "getCounters"}, session)
        total = next(c["counter"] for c in counters if c.get("id") == "global-unread")
        print(f"tt-rss {server['TTRSS_URL']} holds {total} unread articles of {args.feeds} feeds")

        rows = {"tidings": [], "newsboat": []}

        def run_tidings(run):
            data = os.path.join(work, f"tidings-{run}")
            os.makedirs(data)
            config = os.path.join(data, "config.toml")
            with open(config, "w") as fh:
                fh.write(f'[sync]\nbackend = "ttrss"\nurl = "{server["TTRSS_URL"]}"\n'
                         f'user = "{server["TTRSS_USER"]}"\npassword = "{server["TTRSS_PASSWORD"]}"\n'
                         '[images]\ncache = false\n')
            os.chmod(config, 0o600)
            env = tidings_env(data)
            first = timed([args.bin, "sync"], env)
            second = timed([args.bin, "sync"], env)
            db = sqlite3.connect(os.path.join(data, "tidings.db"))
            held = db.execute("SELECT count(*) FROM articles").fetchone()[0]
            requests = [r[0] for r in db.execute("SELECT requests FROM syncs ORDER BY id")]
            stages = db.execute("SELECT ms_login, ms_push, ms_feeds, ms_articles, ms_state, ms_total"
                                " FROM syncs ORDER BY id LIMIT 1").fetchone()
            print("  tidings first sync, ms: login %d, push %d, feeds %d, articles %d, state %d, total %d"
                  % stages)
            db.close()
            return first, second, held, requests

        def run_newsboat(run):
            nb = os.path.join(work, f"newsboat-{run}")
            os.makedirs(nb)
            with open(os.path.join(nb, "config"), "w") as fh:
                fh.write(f'urls-source "ttrss"\nttrss-url "{server["TTRSS_URL"]}"\n'
                         f'ttrss-login "{server["TTRSS_USER"]}"\n'
                         f'ttrss-password "{server["TTRSS_PASSWORD"]}"\nttrss-mode "multi"\n')
            open(os.path.join(nb, "urls"), "w").close()
            command = ["newsboat", "-C", os.path.join(nb, "config"), "-c", os.path.join(nb, "cache.db"),
                       "-u", os.path.join(nb, "urls"), "-x", "reload"]
            env = dict(os.environ, HOME=nb)
            first = timed(command, env)
            second = timed(command, env)
            db = sqlite3.connect(os.path.join(nb, "cache.db"))
            held = db.execute("SELECT count(*) FROM rss_item").fetchone()[0]
            db.close()
            return first, second, held, None

        # The server's database warms up first (its first pass over the
        # articles is the slowest), then the clients take turns going first.
        run_tidings("warm-up")
        for run in range(args.runs):
            order = [("tidings", run_tidings), ("newsboat", run_newsboat)]
            for client, go in order if run % 2 == 0 else reversed(order):
                rows[client].append(go(run))

        print(f"\n{args.runs} runs, medians; a fresh data directory each run")
        print(f"{'client':10} {'first sync':>11} {'cpu':>7} {'peak MB':>8} {'articles':>9}"
              f" {'2nd sync':>9} {'cpu':>7} {'requests 1st/2nd':>17}")
        for client, runs in rows.items():
            med = lambda f: statistics.median(f(r) for r in runs)
            requests = runs[0][3]
            print(f"{client:10} {med(lambda r: r[0][0]):10.2f}s {med(lambda r: r[0][1]):6.2f}s"
                  f" {med(lambda r: r[0][2]):8.1f} {med(lambda r: r[2]):9.0f}"
                  f" {med(lambda r: r[1][0]):8.2f}s {med(lambda r: r[1][1]):6.2f}s"
                  f" {('%d/%d' % tuple(requests)) if requests else '':>17}")
    finally:
        subprocess.run([os.path.join(SYNC, "ttrss-down.sh"), instance], capture_output=True)
        shutil.rmtree(instance, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
        feeds.terminate()
        feeds.wait()


if __name__ == "__main__":
    main()
