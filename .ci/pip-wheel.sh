#!/usr/bin/env bash
# The Python packaging as a student meets it: build the wheel with maturin in a fresh
# venv, install it into a second fresh venv (no Rust there), and play a quiz and an echo
# round trip with the installed `socklab`. Run from anywhere; uses the repository's target/.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

tmp=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "pip-wheel: build venv with maturin"
python3 -m venv "$tmp/build"
"$tmp/build/bin/pip" install -q --disable-pip-version-check 'maturin>=1.9,<2.0'
"$tmp/build/bin/maturin" --version

echo "pip-wheel: maturin build --release --locked"
# Bounded like every wait here; a cold release build takes a few minutes on 2 cores.
timeout 1800 "$tmp/build/bin/maturin" build --release --locked -o "$tmp/wheels"
wheels=("$tmp"/wheels/socklab-*.whl)
[ "${#wheels[@]}" -eq 1 ] && [ -f "${wheels[0]}" ] || { echo "expected one wheel, got: ${wheels[*]}" >&2; exit 1; }
echo "pip-wheel: built $(basename "${wheels[0]}")"

echo "pip-wheel: install into a fresh venv"
python3 -m venv "$tmp/run"
"$tmp/run/bin/pip" install -q --disable-pip-version-check --no-index "${wheels[0]}"
export PATH="$tmp/run/bin:$PATH"
[ "$(command -v socklab)" = "$tmp/run/bin/socklab" ] || { echo "socklab on PATH is $(command -v socklab), not the venv's" >&2; exit 1; }
socklab --version

# Starts `socklab serve ARGS...` in the background; sets $port from its
# `listening on <addr>:<port>` line (waiting at most 10 s) and records its PID.
serve() {
  local name=$1; shift
  socklab serve "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  local pid=$!
  pids+=("$pid")
  port=
  for _ in $(seq 100); do
    port=$(sed -n 's/^listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$tmp/$name.out" | head -n1)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "socklab serve $* did not report its port" >&2
    cat "$tmp/$name.out" "$tmp/$name.err" >&2
    exit 1
  fi
  echo "pip-wheel: socklab serve $* listening on port $port (pid $pid)"
}

# Stops a server by PID with SIGTERM (graceful, exits 0), waiting at most 10 s.
stop() {
  local pid=$1
  kill "$pid"
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "server $pid still running 10 s after SIGTERM" >&2
    kill -KILL "$pid"
    exit 1
  fi
  wait "$pid"
}

serve quiz quiz --port 0 --seed 7
quiz_pid=$!
quiz_port=$port
serve echo echo --port 0
echo_pid=$!
echo_port=$port

echo "pip-wheel: socklab quiz --port $quiz_port"
timeout 60 socklab quiz --port "$quiz_port" >"$tmp/quiz.play"
tail -n1 "$tmp/quiz.play"

echo "pip-wheel: 1 MiB of random bytes through socklab echo --port $echo_port"
head -c 1048576 /dev/urandom >"$tmp/blob"
timeout 60 socklab echo --port "$echo_port" <"$tmp/blob" >"$tmp/back"
cmp "$tmp/blob" "$tmp/back"
echo "pip-wheel: echo round trip identical"

stop "$quiz_pid"
stop "$echo_pid"
pids=()
echo "pip-wheel: ok in $((SECONDS - start)) s"
