#!/usr/bin/env bash
# Files service benchmark (issue 3): upload and download of one file over loopback with
# `socklab files` against a raw socat pipe of the same file, in the same run, plus the
# server's peak RSS. Usage: bench/run-files.sh [SIZE_MIB] (default 1024).
# Needs socat (apt-get install socat) and a release build (built here if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
MIB=${1:-1024}
BIN=target/release/socklab
[ -x "$BIN" ] || cargo build --release -p socklab
command -v socat >/dev/null || { echo "socat is missing: apt-get install socat" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/socklab-bench.XXXXXX")
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
head -c $((MIB * 1024 * 1024)) /dev/urandom > "$WORK/big"
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
rate() { echo "scale=1; $MIB / $1" | bc; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

raw_up() {
  local p; p=$(free_port)
  socat -u TCP-LISTEN:$p,reuseaddr CREATE:"$WORK/raw-up" & local l=$!
  sleep 0.3
  local t; t=$(secs socat -u FILE:"$WORK/big" TCP:127.0.0.1:$p)
  wait $l; rm -f "$WORK/raw-up"; echo "$t"
}
raw_down() {
  local p; p=$(free_port)
  socat -u FILE:"$WORK/big" TCP-LISTEN:$p,reuseaddr & local l=$!
  sleep 0.3
  local t; t=$(secs socat -u TCP:127.0.0.1:$p CREATE:"$WORK/raw-down")
  wait $l; rm -f "$WORK/raw-down"; echo "$t"
}

PORT=$(free_port)
"$BIN" serve files --port "$PORT" --dir "$WORK/store" -q > "$WORK/server.out" &
SERVER=$!
sleep 0.5
up() { local t; t=$(secs "$BIN" files --port "$PORT" put "$WORK/big" --as big --overwrite --no-progress); echo "$t"; }
down() { local t; t=$(secs "$BIN" files --port "$PORT" get big -o "$WORK/down" --no-progress); rm -f "$WORK/down"; echo "$t"; }

echo "file: $MIB MiB, $(nproc) cores, $(uname -r)"
for round in 1 2; do
  ru=$(raw_up); su=$(up); rd=$(raw_down); sd=$(down)
  printf 'round %s  upload: raw %6.2f s (%s MiB/s)  socklab %6.2f s (%s MiB/s)  ratio %.2f\n' \
    "$round" "$ru" "$(rate "$ru")" "$su" "$(rate "$su")" "$(echo "$ru / $su" | bc -l)"
  printf 'round %s  download: raw %6.2f s (%s MiB/s)  socklab %6.2f s (%s MiB/s)  ratio %.2f\n' \
    "$round" "$rd" "$(rate "$rd")" "$sd" "$(rate "$sd")" "$(echo "$rd / $sd" | bc -l)"
done
echo "server peak RSS: $(awk '/VmHWM/ {print $2, $3}' /proc/$SERVER/status)"
