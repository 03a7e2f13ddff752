#!/usr/bin/env python3
"""Runs tidings' fuzz targets one after another for a set time each.

Seeds each target's corpus from ../shared/corpora (copied at run time into
fuzz/corpus/TARGET, which git ignores: nothing from ../shared is committed),
runs `cargo fuzz run` with libFuzzer's -max_total_time, and prints per
target the executions, the coverage (edges `cov` and features `ft`), and the
findings (crash, timeout, OOM and leak files in fuzz/artifacts/TARGET).
libFuzzer stops a target at its first finding; the report names the file,
and `cargo fuzz fmt TARGET FILE` / `cargo fuzz tmin TARGET FILE` take it on.

    fuzz/run.py [SECONDS_PER_TARGET] [TARGET ...]     (default 600, all four)

Seeds: every feed file for `feed`; the HTML bodies inside those feeds
(descriptions, content, summaries) and the HTML files for `article_html`;
the OPML and newsboat urls files, plus a few made here, for `import`; header
blocks made here for `headers`. Without ../shared it says so and exits 0.
Needs cargo-fuzz (`cargo install cargo-fuzz`); on a stable toolchain it runs
with RUSTC_BOOTSTRAP=1, and builds without a sanitizer (safe Rust: libFuzzer's
own checks, panics, timeouts and memory limits are what find bugs here).
"""

import gzip
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zlib
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
CORPORA = Path(os.environ.get("TIDINGS_CORPORA", ROOT.parent / "shared" / "corpora"))
TARGETS = ["feed", "article_html", "import", "headers"]
# Longest input each target is given (libFuzzer's -max_len).
MAX_LEN = {"feed": 64 << 10, "article_html": 32 << 10, "import": 16 << 10, "headers": 8 << 10}
SEED_BYTES = 1 << 20  # larger corpus files are left out


def put(target, data):
    """Adds one seed, named by its hash (so runs do not duplicate seeds)."""
    if not data or len(data) > SEED_BYTES:
        return
    out = FUZZ / "corpus" / target
    out.mkdir(parents=True, exist_ok=True)
    path = out / hashlib.sha1(data).hexdigest()
    if not path.exists():
        path.write_bytes(data)


def corpus_files():
    for path in sorted(CORPORA.rglob("*")):
        if path.is_file() and path.name != "LICENSE" and not path.name.endswith(".md"):
            yield path


def read(path):
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":  # gzip files, as a Content-Encoding: gzip answer
        try:
            data = gzip.decompress(data)
        except OSError:
            pass
    return data


BODY = re.compile(
    rb"<(description|content:encoded|content|summary|body|itunes:summary|media:description)"
    rb"\b[^>]*>(.*?)</\1>",
    re.S | re.I,
)
JSON_BODY = re.compile(rb'"(?:content_html|content_text|summary)"\s*:\s*"((?:[^"\\]|\\.)*)"')


def html_bodies(data):
    """The HTML an article body would hold, as a feed carries it."""
    for m in BODY.finditer(data):
        body = m.group(2).strip()
        if body.startswith(b"<![CDATA["):
            body = body[9:].rsplit(b"]]>", 1)[0]
        elif b"&lt;" in body or b"&amp;" in body:
            body = html.unescape(body.decode("utf-8", "replace")).encode()
        yield body
    for m in JSON_BODY.finditer(data):
        try:
            yield json.loads(b'"' + m.group(1) + b'"').encode("utf-8", "replace")
        except ValueError:
            pass


URLS_SEEDS = [
    b'https://example.org/feed.xml tech "news & views" "~My Title" !hidden\n'
    b"# a comment\n\nhttp://example.com/rss\n",
    b'exec:~/bin/feed.sh\nfilter:~/f.sh:http://x.test/\n"query:unread:unread = \\"yes\\""\n'
    b"file:///etc/passwd\n|cat\n",
    b'http://x.test/a "tag with space" tag tag\nhttp://x.test/a other\n',
    b"\xef\xbb\xbf  https://bom.test/\n\thttp://tab.test/\t~\x1b[31mred\n",
]

OPML_SEEDS = [
    b'<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>'
    b'<outline text="Tech"><outline text="Blog" title="A &amp; B" type="rss" '
    b'xmlUrl="https://blog.test/feed" category="/a,/b/c"/></outline>'
    b'<outline text="x" xmlUrl="javascript:alert(1)"/></body></opml>',
    b'<opml><body><outline text="&#27;[2J" xmlUrl="http://e.test/&#x202e;"/>'
    b'<outline><outline><outline xmlUrl="https://deep.test/"/></outline></outline></outline>'
    b"</body></opml>",
    b'<!DOCTYPE opml [<!ENTITY a "aaaaaaaaaa">]><opml><body><outline xmlUrl="http://a.test/&a;"/>'
    b"</body></opml>",
]


def header_seeds():
    body = b'<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel>' \
        b"<title>caf\xe9</title></channel></rss>"
    page = b"<!DOCTYPE html><html><head><title>x</title></head></html>"
    codings = {
        b"gzip": gzip.compress(body),
        b"x-gzip": gzip.compress(body) * 2,
        b"deflate": zlib.compress(body),
        b"identity": body,
        b"br": b"\x8b\x03\x80" + body[:40] + b"\x03",
        b"zstd": body,
    }
    raw = zlib.compressobj(wbits=-15)
    codings[b"Deflate "] = raw.compress(body) + raw.flush()
    values = {
        b"Content-Type": [b"application/rss+xml; charset=UTF-8", b'text/xml; charset="ISO-8859-1"',
                          b"text/html", b"text/xml;charset=;", b"application/xml; CHARSET = utf-16 ; q=1",
                          b"text/plain; charset=\xff\xfe"],
        b"Retry-After": [b"120", b"0", b"Wed, 21 Oct 2015 07:28:00 GMT", b"Fri, 31 Dec 9999 23:59:59 GMT",
                         b"Sunday, 06-Nov-94 08:49:37 GMT", b"Sun Nov  6 08:49:37 1994",
                         b"18446744073709551615", b"-1", b"9223372036854775807"],
        b"Cache-Control": [b"public, max-age=3600", b"max-age=\"60\"", b"no-cache, MAX-AGE = 5",
                           b"max-age=99999999999999999999", b"max-age=9223372036854775807"],
        b"ETag": [b'W/"abc"', b'"\xe9t\xe9"', b"  spaced  "],
        b"Last-Modified": [b"Wed, 21 Oct 2015 07:28:00 GMT", b"yesterday", b"\x80\xff"],
    }
    for coding, encoded in codings.items():
        yield b"Content-Encoding: " + coding + b"\nContent-Type: text/xml\n\n" + encoded
    for name, vals in values.items():
        for v in vals:
            yield name + b": " + v + b"\r\n\r\n" + (page if b"html" in v else body)


def seed(target):
    if target == "feed":
        for path in corpus_files():
            if path.suffix != ".json" or "/parser/json/" in str(path) or "/translator/json/" in str(path):
                put(target, read(path))
    elif target == "article_html":
        for path in corpus_files():
            data = read(path)
            if path.suffix == ".html":
                put(target, data)
            else:
                for body in html_bodies(data):
                    put(target, body)
    elif target == "import":
        for path in corpus_files():
            data = read(path)
            if path.suffix == ".opml" or b"<opml" in data[:4096] or path.name in (
                    "926-urls", "test-urls.txt", "test-duplicate-urls.txt"):
                put(target, data)
        for data in URLS_SEEDS + OPML_SEEDS:
            put(target, data)
    elif target == "headers":
        for data in header_seeds():
            put(target, data)
    return len(list((FUZZ / "corpus" / target).iterdir()))


STAT = re.compile(r"^stat::(\w+):\s*(\d+)", re.M)
PROGRESS = re.compile(r"^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+)", re.M)


def run(target, seconds, env):
    artifacts = FUZZ / "artifacts" / target
    artifacts.mkdir(parents=True, exist_ok=True)
    before = set(artifacts.iterdir())
    log = FUZZ / "logs" / f"{target}.log"
    log.parent.mkdir(exist_ok=True)
    cmd = ["cargo", "fuzz", "run", "--sanitizer", "none", target, str(FUZZ / "corpus" / target),
           "--", f"-max_total_time={seconds}", f"-max_len={MAX_LEN[target]}",
           "-timeout=10", "-rss_limit_mb=2048", "-print_final_stats=1"]
    started = time.time()
    with open(log, "w") as out:
        code = subprocess.call(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    text = log.read_text(errors="replace")
    stats = dict(STAT.findall(text))
    progress = PROGRESS.findall(text)
    found = sorted(set(artifacts.iterdir()) - before)
    execs = stats.get("number_of_executed_units") or (progress[-1][0] if progress else "?")
    cov = f"cov {progress[-1][1]} edges, ft {progress[-1][2]} features, corpus {progress[-1][3]}" \
        if progress else "no coverage line"
    print(f"{target}: {time.time() - started:.0f} s, {execs} executions "
          f"({stats.get('average_exec_per_sec', '?')}/s), {cov}, "
          f"peak RSS {stats.get('peak_rss_mb', '?')} MB, exit {code}")
    for path in found:
        print(f"  FINDING {path.name.split('-')[0]}: {path.relative_to(ROOT)}")
    if code != 0 and not found:
        print(f"  exit {code} without an artifact: see {log.relative_to(ROOT)}")
    if not found and code == 0:
        print("  findings: none")
    return bool(found) or code != 0


def main():
    args = sys.argv[1:]
    seconds = int(args.pop(0)) if args and args[0].isdigit() else 600
    targets = args or TARGETS
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        sys.exit(f"unknown targets {unknown}; the targets are {TARGETS}")
    if not CORPORA.is_dir():
        print(f"{CORPORA} is missing: no seeds, so no fuzzing run (nothing failed).")
        return 0
    if shutil.which("cargo-fuzz") is None:
        sys.exit("cargo-fuzz is not installed: cargo install cargo-fuzz")
    env = dict(os.environ, RUSTC_BOOTSTRAP="1")
    env.pop("CARGO_TARGET_DIR", None)  # fuzz/target: instrumented builds apart
    print("building the fuzz targets…", flush=True)
    subprocess.check_call(["cargo", "fuzz", "build", "--sanitizer", "none"], cwd=ROOT, env=env)
    bad = False
    for target in targets:
        print(f"{target}: {seed(target)} inputs in fuzz/corpus/{target}", flush=True)
        bad |= run(target, seconds, env)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
