#!/usr/bin/env python3
"""Peak stack of the MPS2 firmware, measured in QEMU.

Build with the paint-stack feature (the stack is filled with 0xCCCCCCCC at reset), boot
it, play every service with the real clients, then dump RAM through QEMU's monitor and
find the lowest word the stack scrubbed:

    cargo build --release -p socklab-mps2 --target thumbv7m-none-eabi --features paint-stack
    cargo build -p socklab
    python3 embedded/mps2/tools/peak_stack.py target/thumbv7m-none-eabi/release/socklab-mps2 \
        target/debug/socklab

Only 127.0.0.1 ports are used (QEMU user networking).
"""
import os, re, socket, subprocess, sys, tempfile, time

fw, client = sys.argv[1], sys.argv[2]
syms = subprocess.run(["llvm-nm", fw], capture_output=True, text=True, check=True).stdout
addr = {l.split()[2]: int(l.split()[0], 16) for l in syms.splitlines() if len(l.split()) == 3}
lo, hi = addr["_stack_end"], addr["_stack_start"]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

ports = {g: free_port() for g in (31337, 9090, 8020, 80)}
chat_port = free_port()
fwd = ",".join(f"hostfwd=tcp:127.0.0.1:{p}-:{g}" for g, p in ports.items())
fwd += f",hostfwd=udp:127.0.0.1:{chat_port}-:9093"
mon = os.path.join(tempfile.mkdtemp(), "monitor.sock")
qemu = subprocess.Popen(
    ["qemu-system-arm", "-machine", "mps2-an385", "-nographic", "-serial", "none",
     "-monitor", f"unix:{mon},server,nowait", "-semihosting-config", "enable=on,target=native",
     "-kernel", fw, "-nic", "user," + fwd],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
def chat(i):
    """Two members: join, a full-size relay, WHO, PING, an oversized datagram, leave."""
    a, b = (socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2))
    for s in (a, b):
        s.settimeout(5); s.connect(("127.0.0.1", chat_port))
    def ask(s, d):
        s.send(d); return s.recv(2048)
    assert ask(a, f"JOIN a{i}".encode()).startswith(b"WELCOME")
    assert ask(b, f"JOIN b{i}".encode()).startswith(b"WELCOME")
    assert a.recv(2048).endswith(b" joined")
    b.send(b"MSG " + b"x" * 508); assert a.recv(2048).startswith(f"b{i}: x".encode())
    assert ask(a, b"WHO").startswith(b"WHO ")
    assert ask(b, b"PING") == b"PONG"
    assert ask(b, b"MSG " + b"y" * 600) == b"ERR bad-message"
    a.send(b"LEAVE"); assert b.recv(2048).endswith(b" left")
    b.send(b"LEAVE")

try:
    time.sleep(1.5)
    def run(args, data=b""):
        return subprocess.run([client] + args, input=data, capture_output=True, timeout=30)
    blob = os.urandom(65536)
    note = os.path.join(os.path.dirname(mon), "note")
    with open(note, "wb") as f:
        f.write(os.urandom(3000))
    for i in range(2):
        run(["quiz", "--port", str(ports[31337])])
        run(["quiz", "--port", str(ports[31337]), "--interactive"], b"x\n")
        assert run(["echo", "--port", str(ports[9090])], blob).stdout == blob
        files = ["files", "--port", str(ports[8020]), "--no-progress"]
        assert run(files + ["put", note, "--as", f"n{i}"]).returncode == 0
        run(files + ["put", note, "--as", f"n{i}", "--append"])
        run(files + ["get", f"n{i}", "-o", "-"])
        run(files + ["list"])
        page = run(["echo", "--port", str(ports[80])], b"GET / HTTP/1.0\r\n\r\n").stdout
        assert page.startswith(b"HTTP/1.1 200")
        chat(i)
    m = socket.socket(socket.AF_UNIX); m.connect(mon); m.settimeout(2)
    def command(c):
        m.sendall(c.encode() + b"\n"); time.sleep(1.0); out = b""
        try:
            while chunk := m.recv(1 << 20):
                out += chunk
        except socket.timeout:
            pass
        return out.decode(errors="replace")
    command("")
    words = {}
    for line in command(f"xp /{(hi - lo) // 4}xw {lo:#x}").splitlines():
        if (g := re.match(r"\s*([0-9a-f]+):((?:\s+0x[0-9a-f]+)+)", line)):
            base = int(g.group(1), 16)
            for k, w in enumerate(g.group(2).split()):
                words[base + 4 * k] = int(w, 16)
    used = [a for a, w in words.items() if w != 0xCCCCCCCC]
    peak = hi - min(used) if used else 0
    print(f"stack region {lo:#x}..{hi:#x} ({hi - lo} B), peak stack {peak} B")
    if peak >= hi - lo:
        print("the whole region was used: the stack may have overflowed into .bss")
finally:
    qemu.kill()
