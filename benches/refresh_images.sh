#!/bin/bash
# A cold refresh with images off and on, in turn, against ../shared/bench's
# feed server: when the articles are stored, when the last image is in, and
# the process's wall, user and system time. Each run gets a data directory of
# its own that nothing was deleted from (creating thousands of files right
# after deleting thousands is slow on some file systems, which would measure
# the disk rather than tidings). Needs a release build and ../shared/bench.
#
#   benches/refresh_images.sh [--corpus DIR] [--rounds N] [--work DIR] [-- CONFIG LINES]
#
# The corpus is made once with ../shared/bench/corpus.py, e.g. the 60-host one:
#   python3 ../shared/bench/corpus.py --feeds 300 --items 50 --seed 1 \
#       --out /tmp/tidings-bench/refresh-corpus-h60 --base-url http://127.0.0.1:8765 --hosts 60
# Extra lines after `--` go into each run's config, e.g. -- '[refresh]' 'per_host = 4'.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/../shared/bench
CORPUS=/tmp/tidings-bench/refresh-corpus-h60
ROUNDS=3
WORK=$ROOT/target/refresh-images
TIDINGS=${TIDINGS_BIN:-$ROOT/target/release/tidings}
EXTRA=()
while [ $# -gt 0 ]; do
    case $1 in
        --corpus) CORPUS=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --work) WORK=$2; shift 2 ;;
        --) shift; EXTRA=("$@"); break ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
[ -d "$BENCH" ] || { echo "skipped: $BENCH is not there" >&2; exit 0; }
[ -x "$TIDINGS" ] || { echo "no release build at $TIDINGS: cargo build --release" >&2; exit 2; }
[ -f "$CORPUS/subscriptions.opml" ] || { echo "no corpus at $CORPUS (see the top of this file)" >&2; exit 2; }

LOG=$(mktemp)
setsid python3 "$BENCH/serve.py" --dir "$CORPUS" --port 8765 --latency-ms 50 \
    --max-runtime 1800 > "$LOG" 2>&1 < /dev/null &
SERVER=$!
# Wait for it to go, so that the next run's server can have the port.
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 100); do grep -q PORT= "$LOG" && break; sleep 0.1; done
if ! grep -q PORT= "$LOG" || ! kill -0 $SERVER 2>/dev/null; then
    echo "the feed server did not start:" >&2; cat "$LOG" >&2; exit 1
fi

RUN=$WORK/$(date +%s%N)
for round in $(seq "$ROUNDS"); do
    for images in false true; do
        data=$RUN/$round-$images
        mkdir -p "$data"
        { printf '[images]\ncache = %s\n' "$images"; printf '%s\n' "${EXTRA[@]}"; } > "$data/config.toml"
        "$TIDINGS" --config "$data/config.toml" --data-dir "$data" import "$CORPUS/subscriptions.opml" > /dev/null
        out=$( { /usr/bin/time -f 'wall %e s, user %U s, sys %S s' "$TIDINGS" \
            --config "$data/config.toml" --data-dir "$data" refresh --quiet; } 2>&1)
        summary=$(grep -o 'articles stored at .*' <<< "$out" || grep -o '[0-9,]* new articles' <<< "$out")
        echo "round $round, images $images: $summary; $(tail -1 <<< "$out")"
    done
done
echo "data directories kept in $RUN (rm -rf $WORK when done)"
