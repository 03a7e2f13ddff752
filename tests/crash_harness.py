#!/usr/bin/env python3
"""Kills `tidings refresh` with SIGKILL at random moments and checks what it left.

A refresh of a few hundred feeds from ../shared/bench (corpus.py, served by
serve.py with some latency) is killed RUNS times, each time after a random
delay within the time a whole refresh takes, and each time after some feeds
got new items (corpus.py --bump). After each kill:

  * PRAGMA integrity_check is ok;
  * every feed is as before or fully updated: its article count matches its
    latest fetch record's total, its stored counters match its articles, and
    its validators changed only with a new fetch record;
  * no article is there twice (one row per feed and guid key; the full-text
    index has one row per article);
  * the read and starred state set before the kills is untouched.

Then one refresh runs to its end and must succeed.

Then the first refresh of a large import (--bulk-feeds, stored in bulk: the
indexes by date dropped and built at its end) is killed --bulk-kills times,
each in a fresh data directory: the same checks hold, and the refresh after
each kill completes with both indexes by date there again.

Prints one line per kill and a summary; exits non-zero at the first broken
promise.

    cargo build --release
    python3 tests/crash_harness.py [--runs 50] [--feeds 300] [--seed 1] [--bulk-kills 10] [--bulk-feeds 1200]
"""

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "benches"))
from loopback import BENCH, RELEASE_BIN, free_port, serve, tidings_env  # noqa: E402


def snapshot(db):
    """What the checks compare: per feed, and the reader's marks."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        feeds = {}
        for fid, etag, last_modified, count, unread in conn.execute(
            "SELECT id, etag, last_modified, article_count, unread_count FROM feeds"
        ):
            latest = conn.execute(
                "SELECT id, total_articles, error_kind, not_modified FROM fetches "
                "WHERE feed_id = ? ORDER BY id DESC LIMIT 1",
                (fid,),
            ).fetchone()
            actual, actual_unread = conn.execute(
                "SELECT count(*), coalesce(sum(read = 0), 0) FROM articles WHERE feed_id = ?",
                (fid,),
            ).fetchone()
            feeds[fid] = dict(
                validators=(etag, last_modified),
                counters=(count, unread),
                actual=(actual, actual_unread),
                latest=latest,
            )
        marks = dict(
            conn.execute("SELECT id, read * 2 + starred FROM articles WHERE read = 1 OR starred = 1")
        )
        return feeds, marks
    finally:
        conn.close()


def check(db, before_feeds, marks):
    """The promises; returns how many feeds have a new fetch saved."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        assert integrity == "ok", f"integrity_check: {integrity}"
        twice = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM articles GROUP BY feed_id, guid_key HAVING count(*) > 1)"
        ).fetchone()[0]
        assert twice == 0, f"{twice} articles stored twice"
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        # (The index itself needs a newer SQLite than Python's; its row sizes table does not.)
        indexed = conn.execute("SELECT count(*) FROM articles_fts_docsize").fetchone()[0]
        assert indexed == articles, f"{indexed} rows in the full-text index for {articles} articles"
    finally:
        conn.close()
    after_feeds, after_marks = snapshot(db)
    for aid, mark in marks.items():
        assert after_marks.get(aid) == mark, f"article {aid}: read/starred {mark} became {after_marks.get(aid)}"
    updated = 0
    for fid, before in before_feeds.items():
        after = after_feeds[fid]
        assert after["counters"] == after["actual"], f"feed {fid}: counters {after['counters']} for {after['actual']}"
        latest = after["latest"]
        if latest is not None and latest[2] is None and not latest[3]:
            assert after["actual"][0] == latest[1], (
                f"feed {fid}: {after['actual'][0]} articles but its latest fetch saved {latest[1]}"
            )
        if latest == before["latest"]:
            assert after["validators"] == before["validators"], f"feed {fid}: validators changed without a fetch"
            assert after["actual"] == before["actual"], f"feed {fid}: articles changed without a fetch"
        else:
            updated += 1
    return updated


DATE_INDEXES = ("articles_unread_by_time", "articles_for_queries")


def date_indexes(db):
    """How many of the two indexes by date the database has."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute(
            f"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN {DATE_INDEXES}"
        ).fetchone()[0]
    finally:
        conn.close()


def generate(args, out, feeds, items, port):
    """A ../shared/bench corpus of `feeds` feeds served at `port`."""
    subprocess.run(
        [sys.executable, "corpus.py", "--feeds", str(feeds), "--items", str(items),
         "--seed", str(args.seed), "--out", out, "--base-url", f"http://127.0.0.1:{port}",
         "--hosts", str(args.hosts)],
        cwd=BENCH, check=True, capture_output=True,
    )


def kill_bulk_first_refreshes(args, rng, work):
    """Kills the first refresh of a large import, each time in a fresh data
    directory, and checks what each kill left and that the next refresh
    completes with both indexes by date."""
    corpus = os.path.join(work, "bulk-corpus")
    port = free_port()
    generate(args, corpus, args.bulk_feeds, 5, port)
    server = serve(corpus, port, "--latency-ms", str(args.latency_ms), "--max-runtime", "7200")

    def imported(name):
        """A fresh data directory with the corpus imported: its database and a runner."""
        env = tidings_env(os.path.join(work, name))
        tidings = lambda *a, **kw: subprocess.run([args.bin, *a], env=env, capture_output=True, text=True, **kw)
        tidings("import", os.path.join(corpus, "urls"), check=True)
        return os.path.join(work, name, "tidings.db"), env, tidings

    try:
        # One runs to its end: how long a bulk first refresh takes.
        db, _, tidings = imported("bulk-whole")
        started = time.monotonic()
        tidings("refresh", "--quiet", check=True)
        whole = time.monotonic() - started
        assert date_indexes(db) == 2, "a bulk first refresh ends with its indexes by date"
        print(f"{args.bulk_feeds} new feeds: a bulk first refresh takes {whole:.2f} s; "
              f"killing {args.bulk_kills} within that")
        for run in range(1, args.bulk_kills + 1):
            db, env, tidings = imported(f"bulk-{run}")
            before, _ = snapshot(db)
            delay = rng.uniform(0.02, whole * 1.1)
            child = subprocess.Popen([args.bin, "refresh", "--quiet"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            exited = child.poll() is not None
            child.send_signal(signal.SIGKILL)
            child.wait()
            updated = check(db, before, {})
            left = date_indexes(db)
            after = tidings("refresh", "--force", "--quiet")
            assert after.returncode == 0, f"the refresh after the kill failed: {after.stdout}{after.stderr}"
            check(db, snapshot(db)[0], {})
            assert date_indexes(db) == 2, "the refresh after the kill builds the indexes by date"
            print(f"bulk kill {run:2}: after {delay:5.2f} s, {'it had ended; ' if exited else ''}"
                  f"{updated:4} of {len(before)} feeds saved, {left} of 2 indexes by date left; "
                  "the next refresh completed with both: ok")
            shutil.rmtree(os.path.dirname(db))
    finally:
        server.terminate()
        server.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--feeds", type=int, default=300)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--hosts", type=int, default=30)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bin", default=RELEASE_BIN)
    parser.add_argument("--bulk-kills", type=int, default=10)
    parser.add_argument("--bulk-feeds", type=int, default=1200)
    args = parser.parse_args()
    if not os.path.isdir(BENCH):
        print(f"SKIPPED: {BENCH} is not here")
        return
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="tidings-crash-")
    corpus, data = os.path.join(work, "corpus"), os.path.join(work, "data")
    port = free_port()
    generate(args, corpus, args.feeds, args.items, port)
    server = serve(corpus, port, "--latency-ms", str(args.latency_ms), "--max-runtime", "7200")
    try:
        env = tidings_env(data)
        tidings = lambda *a, **kw: subprocess.run([args.bin, *a], env=env, capture_output=True, text=True, **kw)
        tidings("import", os.path.join(corpus, "urls"), check=True)
        started = time.monotonic()
        tidings("refresh", "--force", "--quiet", check=True)
        cold = time.monotonic() - started
        # The kills land within a warm refresh (most feeds answer 304) after a bump.
        subprocess.run([sys.executable, "corpus.py", "--out", corpus, "--bump", str(args.feeds // 4)],
                       cwd=BENCH, check=True, capture_output=True)
        started = time.monotonic()
        tidings("refresh", "--force", "--quiet", check=True)
        whole = time.monotonic() - started
        db = os.path.join(data, "tidings.db")
        # The reader's marks: some articles read, some starred, before any kill.
        conn = sqlite3.connect(db, timeout=30)
        conn.execute("UPDATE articles SET read = 1 WHERE id % 3 = 0")
        conn.execute("UPDATE articles SET starred = 1 WHERE id % 7 = 0")
        conn.execute("UPDATE feeds SET unread_count = (SELECT count(*) FROM articles WHERE feed_id = feeds.id AND read = 0)")
        conn.commit()
        conn.close()
        print(f"{args.feeds} feeds on {args.hosts} hosts, {args.latency_ms} ms a request: a cold refresh "
              f"takes {cold:.2f} s, one after a bump {whole:.2f} s; killing {args.runs} refreshes within that")
        _, marks = snapshot(db)
        totals = []
        for run in range(1, args.runs + 1):
            subprocess.run([sys.executable, "corpus.py", "--out", corpus, "--bump", str(rng.randint(10, args.feeds // 2))],
                           cwd=BENCH, check=True, capture_output=True)
            before, _ = snapshot(db)
            delay = rng.uniform(0.02, whole * 1.1)
            child = subprocess.Popen([args.bin, "refresh", "--force", "--quiet"], env=env,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            exited = child.poll() is not None
            child.send_signal(signal.SIGKILL)
            child.wait()
            updated = check(db, before, marks)
            totals.append(updated)
            print(f"kill {run:2}: after {delay:5.2f} s, {'it had ended; ' if exited else ''}"
                  f"{updated:3} of {len(before)} feeds fetched and saved, the rest as before: ok")
        final = tidings("refresh", "--force", "--quiet")
        assert final.returncode == 0, f"the refresh after the kills failed: {final.stdout}{final.stderr}"
        check(db, snapshot(db)[0], marks)
        print(final.stdout.strip())
        midway = sum(1 for n in totals if n < len(before))
    finally:
        server.terminate()
        server.wait()
    if args.bulk_kills:
        kill_bulk_first_refreshes(args, rng, work)
    print(json.dumps(dict(kills=args.runs, killed_midway=midway, feeds=len(totals and before),
                          cold_refresh_s=round(cold, 2), bumped_refresh_s=round(whole, 2),
                          bulk_kills=args.bulk_kills, result="ok")))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
