#!/usr/bin/env python3
"""Echo over one connection: the smoltcp TAP build beside the host build, same run.

Usage (inside the network namespace that holds the TAP device, see BENCHMARKS.md):
    bench/tap-vs-host.py NAME=HOST:PORT [NAME=HOST:PORT ...]

For each server, interleaved over ROUNDS rounds: throughput of echoing MIB MiB through one
connection (a writer thread sends 1 KiB writes while the main thread reads the echo),
and round-trip p50/p99 of PINGS 32-byte ping-pongs with TCP_NODELAY. The TAP build
has two echo slots, so one connection at a time is what both can serve. Every loop is
bounded by count and by a socket timeout.
"""
import socket, statistics, sys, threading, time

MIB, PINGS, ROUNDS, TIMEOUT = 16, 1000, 3, 20.0


def connect(addr):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def throughput(addr):
    s = connect(addr)
    total = MIB << 20
    chunk = (b"0123456789abcdef" * 64)[:1024]

    def writer():
        sent = 0
        while sent < total:
            s.sendall(chunk)
            sent += len(chunk)
        s.shutdown(socket.SHUT_WR)

    t0 = time.perf_counter()
    w = threading.Thread(target=writer)
    w.start()
    got = 0
    while got < total:
        b = s.recv(65536)
        if not b:
            break
        got += len(b)
    dt = time.perf_counter() - t0
    w.join()
    s.close()
    if got != total:
        raise SystemExit(f"{addr}: echoed {got} of {total} bytes")
    return total / dt / 1e6


def rtt(addr):
    s = connect(addr)
    msg = b"x" * 31 + b"\n"
    samples = []
    for _ in range(50 + PINGS):
        t0 = time.perf_counter()
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            b = s.recv(64)
            if not b:
                raise SystemExit(f"{addr}: closed during ping-pong")
            got += b
        samples.append((time.perf_counter() - t0) * 1e6)
    s.close()
    samples = sorted(samples[50:])
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99) - 1]


def main():
    servers = [a.split("=", 1) for a in sys.argv[1:]]
    res = {n: {"mbs": [], "p50": [], "p99": []} for n, _ in servers}
    for _ in range(ROUNDS):
        for name, addr in servers:
            res[name]["mbs"].append(throughput(addr))
            p50, p99 = rtt(addr)
            res[name]["p50"].append(p50)
            res[name]["p99"].append(p99)
            time.sleep(0.2)  # let closed connections leave the TAP build's slots
    best = max(statistics.median(r["mbs"]) for r in res.values())
    print("| server | echo MB/s, 1 conn x 1 KiB writes | RTT p50 us | RTT p99 us |")
    print("|---|---:|---:|---:|")
    for name, r in res.items():
        m = statistics.median(r["mbs"])
        print(f"| {name} | {m:.1f} ({m / best:.2f}x) | {statistics.median(r['p50']):.0f} "
              f"| {statistics.median(r['p99']):.0f} |")
    print(f"\nmedian of {ROUNDS} interleaved rounds; {MIB} MiB per throughput cell; {PINGS} pings")


main()
