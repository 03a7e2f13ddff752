"""What the scripts that run the tidings binary on loopback share.

Where ../shared's bench harness and corpora are, a free port on 127.0.0.1,
the environment a tidings command runs in (its own data directory and
config, no proxy between it and the loopback servers), and serve.py started
on a corpus and ready. Imported by the scripts in benches/ and tests/.
"""

import os
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared"))
BENCH = os.path.join(SHARED, "bench")
CORPORA = os.path.join(SHARED, "corpora")
RELEASE_BIN = os.path.normpath(os.path.join(HERE, "..", "target", "release", "tidings"))

PROXY_VARIABLES = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")


def free_port():
    """A port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tidings_env(data, config=None):
    """The environment for a tidings command on data directory `data`."""
    env = dict(os.environ, TIDINGS_DATA_DIR=data)
    if config:
        env["TIDINGS_CONFIG"] = config
    for key in PROXY_VARIABLES:
        env.pop(key, None)
    return env


def serve(corpus, port, *options):
    """serve.py on `corpus` at `port` with `options`, once it listens."""
    server = subprocess.Popen(
        [sys.executable, "serve.py", "--dir", corpus, "--port", str(port), *options],
        cwd=BENCH, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    for line in server.stdout:
        if line.startswith("PORT="):
            return server
    server.wait()
    sys.exit(f"serve.py ended before it listened (exit {server.returncode})")
