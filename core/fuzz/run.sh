#!/usr/bin/env bash
# Fuzz socklab-core: build every cargo-fuzz target once, then run each for SECONDS
# (default 20), one after another. Exits non-zero if any target crashes, panics, leaks
# or hangs, printing its reproducer. CI runs exactly this (`.ci/run`); so can anyone:
#
#     core/fuzz/run.sh 60          # every target for a minute
#     core/fuzz/run.sh 600 frame   # one target for ten minutes
#
# New corpus entries are kept in corpus/<target>/ (ignored by git except seed-* files),
# so repeated local runs start from what earlier runs found.
set -euo pipefail
cd "$(dirname "$0")"

secs="${1:-20}"
shift || true

# cargo-fuzz needs a nightly compiler (-Z sanitizer flags); install what is missing, so a
# fresh CI machine and a developer's laptop run the same thing.
if ! rustup toolchain list | grep -q '^nightly'; then
    rustup toolchain install nightly --profile minimal
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# -O: optimised like a release build; -a: with debug assertions and overflow checks,
# which the core relies on to turn arithmetic mistakes into crashes.
flags=(-O -a)
cargo +nightly fuzz build "${flags[@]}"

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

failed=()
logs="$(mktemp -d)"
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    log="$logs/$t.log"
    # -timeout: one input taking over 10 s is a hang, and fails like a crash.
    if cargo +nightly fuzz run "${flags[@]}" "$t" -- \
        -max_total_time="$secs" -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
        stats="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 | tr -s ' \t' ' ' || true)"
        printf '%-16s ok   %s\n' "$t" "$stats"
    else
        failed+=("$t")
        printf '%-16s FAILED\n' "$t"
        # The panic message (or libFuzzer's own verdict: leak, timeout, OOM), not the
        # whole backtrace; the log has everything.
        grep -E -A4 'panicked at' "$log" | head -12 || true
        grep -E 'ERROR: libFuzzer|==ERROR|SUMMARY' "$log" | head -4 || true
        repro="$(grep -oE 'Test unit written to [^ ]+' "$log" | tail -1 | cut -d' ' -f5 || true)"
        if [ -n "$repro" ]; then
            echo "reproducer: core/fuzz/${repro#"$PWD"/}"
            echo "reproduce:  (cd core/fuzz && cargo +nightly fuzz run ${flags[*]} $t ${repro#"$PWD"/})"
        fi
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzzing failed: ${failed[*]}"
    exit 1
fi
echo "fuzzing: ${#targets[@]} targets, ${secs}s each, no crash"
