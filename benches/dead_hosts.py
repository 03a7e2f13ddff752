#!/usr/bin/env python3
"""How long a refresh takes when its images sit on hosts that do not answer.

Starts, on 127.0.0.1, a feed server and three hosts that never answer as
asked: one accepts and stays silent, one never accepts (its listen backlog is
full), one trickles a byte a second. The feeds' articles show IMAGES images
spread over the three. Then `tidings refresh` runs with the default timeouts
in a fresh data directory, and this prints when its articles were stored,
when it ended, and what it deferred.

    cargo build --release
    python3 benches/dead_hosts.py [--images 500] [--feeds 20] [--bin target/release/tidings]
"""

import argparse
import http.server
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

from loopback import RELEASE_BIN, tidings_env


def silent_host():
    """Accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(512)
    held = []

    def accept():
        while True:
            conn, _ = server.accept()
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return server.getsockname()[1], held


def full_backlog_host():
    """Never accepts: a zero backlog holding one connection already."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    queued = socket.create_connection(("127.0.0.1", port))
    return port, (server, queued)


def trickling_host():
    """Answers 200 with a promised 100 kB, one byte a second."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(512)

    def serve(conn):
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n")
            for _ in range(600):
                conn.sendall(b"x")
                time.sleep(1)
        except OSError:
            pass
        finally:
            conn.close()

    def accept():
        while True:
            conn, _ = server.accept()
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return server.getsockname()[1], server


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--bin", default=RELEASE_BIN)
    args = parser.parse_args()

    hosts = [silent_host(), full_backlog_host(), trickling_host()]
    ports = [port for port, _ in hosts]
    per_feed = max(1, args.images // args.feeds)
    feeds = {}
    image = 0
    for f in range(args.feeds):
        items = []
        for i in range(per_feed):
            port = ports[image % len(ports)]
            src = f"http://127.0.0.1:{port}/img/{image}.png"
            image += 1
            items.append(
                f"<item><title>Story {f}.{i}</title><guid>s-{f}-{i}</guid>"
                f"<link>http://example.org/{f}/{i}</link>"
                f"<description>&lt;img src=\"{src}\"&gt;</description></item>"
            )
        feeds[f"/feed{f}.xml"] = (
            f"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed {f}</title>"
            f"<link>http://example.org/{f}</link>{''.join(items)}</channel></rss>"
        ).encode()

    class Feeds(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = feeds.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    feed_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Feeds)
    threading.Thread(target=feed_server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{feed_server.server_address[1]}"

    with tempfile.TemporaryDirectory() as data:
        urls = os.path.join(data, "urls")
        with open(urls, "w") as out:
            out.writelines(f"{base}{path}\n" for path in feeds)
        env = tidings_env(data)
        subprocess.run([args.bin, "import", urls], env=env, check=True, capture_output=True)
        started = time.monotonic()
        run = subprocess.run([args.bin, "refresh", "--quiet"], env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        print(run.stdout.strip())
        if run.returncode != 0:
            print(run.stderr.strip(), file=sys.stderr)
            sys.exit(run.returncode)
        print(f"{args.feeds} feeds, {image} images on 3 hosts that do not answer "
              f"(silent, full backlog, 1 byte/s): refresh took {wall:.1f} s")


if __name__ == "__main__":
    main()
