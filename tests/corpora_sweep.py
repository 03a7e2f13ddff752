#!/usr/bin/env python3
"""Every file of ../shared/corpora served over HTTP and refreshed by the real binary.

Serves ../shared/corpora on 127.0.0.1 (Python's file server: Content-Type by
file name, no validators), subscribes a fresh data directory to every file in
it (a newsboat urls file, through `tidings import`), runs `tidings refresh`
once under a deadline, and reads the outcome of each subscription from the
database: stored (with its article count and any warning), or failed with the
reason recorded in its fetch record. It fails when the refresh panics, hangs
past the deadline or exits non-zero, or when any subscription has no fetch
record; it prints a table of outcomes per corpus.

    cargo build --release
    python3 tests/corpora_sweep.py [--bin target/release/tidings] [--images]
"""

import argparse
import collections
import functools
import http.server
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "benches"))
from loopback import CORPORA, RELEASE_BIN, tidings_env  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=RELEASE_BIN)
    parser.add_argument("--deadline", type=int, default=900, help="seconds the refresh may take")
    parser.add_argument("--images", action="store_true", help="also download the images the feeds show")
    args = parser.parse_args()
    if not os.path.isdir(CORPORA):
        print(f"SKIPPED: {CORPORA} is not here")
        return

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=CORPORA))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    files = []
    for root, _, names in os.walk(CORPORA):
        files.extend(os.path.relpath(os.path.join(root, n), CORPORA) for n in names)
    files.sort()
    url_of = {f: f"{base}/{urllib.parse.quote(f)}" for f in files}

    with tempfile.TemporaryDirectory() as data:
        with open(os.path.join(data, "urls"), "w") as out:
            out.writelines(url_of[f] + "\n" for f in files)
        with open(os.path.join(data, "config.toml"), "w") as out:
            out.write(f"[images]\ncache = {'true' if args.images else 'false'}\n")
        env = tidings_env(data, os.path.join(data, "config.toml"))
        imported = subprocess.run([args.bin, "import", os.path.join(data, "urls")], env=env,
                                  capture_output=True, text=True)
        if imported.returncode != 0:
            sys.exit(f"import failed: {imported.stdout}{imported.stderr}")
        started = time.monotonic()
        try:
            run = subprocess.run([args.bin, "refresh", "--quiet"], env=env, capture_output=True,
                                 text=True, timeout=args.deadline)
        except subprocess.TimeoutExpired:
            sys.exit(f"HANG: the refresh took more than {args.deadline} s")
        wall = time.monotonic() - started
        said = run.stdout + run.stderr
        log = ""
        for root, _, names in os.walk(data):
            for n in names:
                if n.endswith(".log"):
                    log += open(os.path.join(root, n), errors="replace").read()
        if run.returncode != 0 or "panicked" in said or "panicked" in log:
            sys.exit(f"the refresh failed (exit {run.returncode}):\n{said[-3000:]}")

        db = sqlite3.connect(os.path.join(data, "tidings.db"))
        by_url = {}
        for url, count, kind, message, warning in db.execute(
            """SELECT f.url, f.article_count, x.error_kind, x.error_message, x.warning
               FROM feeds f LEFT JOIN fetches x ON x.id = (SELECT max(id) FROM fetches WHERE feed_id = f.id)"""
        ):
            by_url[url] = (count, kind, message, warning)

    table = collections.OrderedDict()
    skipped_at_import = []
    reasons = collections.Counter()
    for f in files:
        corpus = f.split(os.sep)[0]
        row = table.setdefault(corpus, collections.Counter())
        row["files"] += 1
        outcome = by_url.get(url_of[f])
        if outcome is None:
            skipped_at_import.append(f)
            row["not subscribed"] += 1
            continue
        count, kind, message, warning = outcome
        if kind is None and message is None and count is not None:
            row["stored"] += 1
            row["articles"] += count
            if count == 0:
                row["stored, empty"] += 1
            if warning:
                row["with a warning"] += 1
        elif kind is not None:
            row["failed"] += 1
            reasons[kind] += 1
        else:
            row["no record"] += 1
    columns = ["files", "stored", "articles", "stored, empty", "with a warning", "failed", "not subscribed", "no record"]
    print(f"{len(files)} files, one refresh in {wall:.1f} s (exit {run.returncode}, no panic)")
    print("| corpus | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    total = collections.Counter()
    for corpus, row in table.items():
        total.update(row)
        print(f"| {corpus} | " + " | ".join(f"{row[c]:,}" for c in columns) + " |")
    print("| all | " + " | ".join(f"{total[c]:,}" for c in columns) + " |")
    print("failures by kind: " + ", ".join(f"{k} {n}" for k, n in reasons.most_common()))
    if skipped_at_import:
        print(f"{len(skipped_at_import)} files not subscribed by the import (the same address twice, or not a usable URL):")
        for f in skipped_at_import[:10]:
            print("   ", f)
    if total["no record"]:
        sys.exit(f"{total['no record']} subscriptions have no fetch record")


if __name__ == "__main__":
    main()
