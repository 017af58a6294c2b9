#!/usr/bin/env bash
# Build the release binaries and run loadgen against socklab and both peer servers.
# socklab runs twice for echo: as shipped (--chunk 1024, the lab's read size) and with
# --chunk 8192, the buffer size both peers' copy loops use.
# loadgen spawns every server itself (port 0), reads its `listening on` line, and kills
# exactly those PIDs when done. Each throughput and latency cell is run RUNS times
# (default 3) and the median kept, since the 2 cores are shared. Extra arguments go to
# loadgen (e.g. --secs 5, --only throughput).
# Output: a markdown table on stdout, progress on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p socklab -p socklab-bench --bins
T=target/release
exec "$T/loadgen" \
  --echo "socklab=$T/socklab serve echo --port 0 -q --max-conns 20000" \
  --echo "socklab-chunk8k=$T/socklab serve echo --port 0 -q --max-conns 20000 --chunk 8192" \
  --echo "tokio=$T/peer-tokio-echo --port 0" \
  --echo "thread=$T/peer-thread-echo --port 0" \
  --quiz "socklab=$T/socklab serve quiz --port 0 -q --seed 1" \
  --quiz "thread-core=$T/peer-thread-quiz --port 0 --seed 1" \
  --runs "${RUNS:-3}" \
  "$@"
