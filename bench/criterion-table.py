#!/usr/bin/env python3
"""Print the criterion results of `cargo bench -p socklab-bench --bench parsers` as a
markdown table: median time, throughput at the median, and speed relative to the
peer of the same group and input (peer median / our median: above 1 is faster)."""
import json
import pathlib
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
rows = []
for bench in sorted(root.glob("**/new/benchmark.json")):
    meta = json.loads(bench.read_text())
    est = json.loads((bench.parent / "estimates.json").read_text())
    rows.append((meta, est["median"]["point_estimate"]))

def fmt_time(ns):
    for unit, div in (("ms", 1e6), ("µs", 1e3)):
        if ns >= div:
            return f"{ns / div:.2f} {unit}"
    return f"{ns:.2f} ns"

def fmt_rate(bps):
    for unit, div in (("GiB/s", 2**30), ("MiB/s", 2**20)):
        if bps >= div:
            return f"{bps / div:.2f} {unit}"
    return f"{bps / 1024:.2f} KiB/s"

peers = {(m["group_id"], m["value_str"]): t for m, t in rows if "peer" in m["function_id"]}
print("| benchmark | median time | throughput | speed vs peer |")
print("|---|---:|---:|---:|")
for meta, t in rows:
    nbytes = (meta.get("throughput") or {}).get("Bytes")
    rate = fmt_rate(nbytes / t * 1e9) if nbytes else ""
    peer = peers.get((meta["group_id"], meta["value_str"]))
    ratio = "peer" if "peer" in meta["function_id"] else (f"{peer / t:.2f}×" if peer else "")
    print(f"| {meta['full_id']} | {fmt_time(t)} | {rate} | {ratio} |")
