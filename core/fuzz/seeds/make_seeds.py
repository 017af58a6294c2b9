#!/usr/bin/env python3
"""Write the seed corpora (corpus/<target>/seed-*) from the transcripts of PROTOCOLS.md.

Parser targets get the transcript lines as they are. State-machine targets take a
`#[derive(Arbitrary)]` input, so their seeds are the transcripts encoded the way
arbitrary 1.x decodes (little-endian integers, an enum variant from a u32 as
`(v * variants) >> 32`, a bool from a byte's low bit, each collection element after a
`true` byte and the collection ended by a `false` one); `cargo fuzz fmt <target>
<seed>` prints what a seed decodes to. Run from core/fuzz: `python3 seeds/make_seeds.py`.
"""
import os
import struct


def u8(v): return struct.pack('<B', v & 0xff)
def u16(v): return struct.pack('<H', v)
def u32(v): return struct.pack('<I', v)
def u64(v): return struct.pack('<Q', v)
def i64(v): return struct.pack('<q', v)
def boolean(b): return b'\x01' if b else b'\x00'


def variant(i, n):
    """Smallest u32 that derive(Arbitrary) maps to variant i of n."""
    return u32(-((-i << 32) // n))


def seq(items):
    return b''.join(b'\x01' + it for it in items) + b'\x00'


def write(target, name, data):
    d = os.path.join('corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'seed-' + name), 'wb') as f:
        f.write(data)


# ---- parsers: transcript lines as they are -------------------------------------------
write('line', 'quiz-answers', b'\x00' + b'68\n729\n2435\n')
write('line', 'files-crlf-split', b'\x03\x02\x04\x00' + b'PUT 5 a\r\nhello\nLIST\r\n')
write('frame', 'frames', b'\x06' + b'\0\0\0\x05hello' + b'\0\0\0\0' + b'\0\0\0\x04quit')
write('frame', 'too-large', b'\x06' + b'\xff\xff\xff\xff')
for i, a in enumerate([b'68', b'  -12  ', b'+7', b'-9223372036854775808', b'9223372036854775808']):
    write('quiz_answer', f'{i}', a)
for i, l in enumerate([b'1. 23 + 45', b'2. 682 + 47', b'3. 669 * 364', b'4. -5 * 17',
                       b'> Hi! You need to solve 10 arithmetic problems:',
                       b"> It's wrong!", b'> Time is up!', b'> You won! All 10 answers are correct.']):
    write('quiz_problem', f'{i}', l)
for i, l in enumerate([b'LIST', b'PUT 12 my notes.txt', b'GET notes.txt', b'OVERWRITE',
                       b'APPEND', b'CANCEL', b'QUIT', b'put 5 a', b'GET ../etc/passwd']):
    write('files_command', f'{i}', l)
for i, l in enumerate([b'OK socklab-files 1', b'OK 2', b'12 notes.txt', b'READY', b'EXISTS 5',
                       b'OK 10 3610a686', b'DATA 5', b'OK cancelled', b'BYE',
                       b'ERR bad-name a name must not start with a dot']):
    write('files_reply', f'{i}', l)
for i, l in enumerate([b'REGISTER alice correct horse', b'LOGIN alice correct horse',
                       b'TOKEN 0123456789abcdef0123456789abcdef', b'WHOAMI', b'PASSWD correct horse',
                       b'LOGOUT', b'QUIT', b'OK socklab-auth 1', b'OK 0123456789abcdef0123456789abcdef',
                       b'ERR throttled too many failed logins; try again in a minute']):
    write('auth_command', f'{i}', l)
for i, l in enumerate([b'JOIN ann', b'JOIN ann\r\n', b'MSG hi there', b'WHO', b'PING', b'LEAVE',
                       b'WELCOME ann 1', b'* ann joined', b'ERR join-first',
                       b'bob: hi', b'WHO ann bob', b'PONG', b'* bob timed out', b'* ann left']):
    write('chat_datagram', f'{i}', l)
for i, l in enumerate([b'Ann', b'  Ann Lee  ', 'Анна'.encode(), b'a\tb']):
    write('ident_name', f'{i}', l)
write('http_head', 'length', b'\x04' + b'HTTP/1.1 200 OK\r\nContent-Length: 12\r\nServer: x\r\n\r\nhello world\n')
write('http_head', 'chunked', b'\x04' + b'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n')
write('http_head', 'lf-only', b'\x04' + b'HTTP/1.0 404 Not Found\nConnection: close\n\n')
write('http_chunked', 'body', b'\x04' + b'1a;x="y"\r\nabcdefghijklmnopqrstuvwxyz\r\n3\nabc\n0\r\nT: v\r\n\r\n')

# ---- echo_session: Op = Input | Command | Drain | Eof | Advance | Timeout --------------
def echo(upper, allow_stop, framed, ops):
    return boolean(upper) + boolean(allow_stop) + boolean(framed) + u8(6) + u16(60000) + seq(ops)
E_INPUT = lambda b: variant(0, 6) + seq([u8(x) for x in b])
E_CMD = lambda i: variant(1, 6) + u8(i)
E_DRAIN = lambda n: variant(2, 6) + u8(n)
E_EOF = variant(3, 6)
write('echo_session', 'lines-quit', echo(False, False, False, [
    E_INPUT(b'hello\n'), E_DRAIN(200), E_INPUT(b'qui'), E_INPUT(b't\r\nafter\n'), E_DRAIN(200)]))
write('echo_session', 'upper-stop', echo(True, True, False, [
    E_INPUT(b'Hi there\n'), E_DRAIN(3), E_CMD(1), E_DRAIN(200)]))
write('echo_session', 'framed', echo(False, False, True, [
    E_INPUT(b'\0\0\0\x05hello'), E_DRAIN(200), E_CMD(0), E_EOF]))

# ---- quiz_session: the lab's transcript (two right answers, then a wrong one) ----------
Q_RIGHT, Q_DRAIN = variant(0, 8), lambda n: variant(3, 8) + u8(n)
Q_WRONG = lambda d: variant(1, 8) + u8(d)
Q_DEADLINE = variant(7, 8)
def quiz(count, ops):
    return u64(7) + u8(count - 1) + i64(0) + u64(999) + u16(60000) + seq(ops)
write('quiz_session', 'lab-transcript', quiz(10, [Q_DRAIN(255), Q_RIGHT, Q_DRAIN(255), Q_RIGHT,
                                                  Q_DRAIN(255), Q_WRONG(5), Q_DRAIN(255)]))
write('quiz_session', 'win', quiz(3, [Q_DRAIN(255), Q_RIGHT, Q_DRAIN(255), Q_RIGHT, Q_DRAIN(255),
                                      Q_RIGHT, Q_DRAIN(255)]))
write('quiz_session', 'time-up', quiz(2, [Q_DRAIN(255), Q_DEADLINE, Q_DRAIN(255)]))

# ---- quiz_player: the server's side of the transcript -----------------------------------
def player(chunks):
    return seq([boolean(False) + seq([u8(x) for x in c]) + u8(64) for c in chunks])
write('quiz_player', 'lab-transcript', player([
    b'> Hi! You need to solve 10 arithmetic problems:\n1. 23 + 45\n', b'2. 682 + 47\n',
    b"3. 669 * 364\n> It's wrong!\n"]))

# ---- files_session: the §3 transcript against a storage that says yes -----------------
F_LINE = lambda line: variant(0, 8) + line
L_LIST, L_PUT, L_GET = variant(0, 7), lambda size, n: variant(1, 7) + u16(size) + u8(n), lambda n: variant(2, 7) + u8(n)
L_OVER, L_APPEND, L_QUIT = variant(3, 7), variant(4, 7), variant(6, 7)
F_RAW = lambda b: variant(1, 8) + seq([u8(x) for x in b])
F_DRAIN = lambda n: variant(3, 8) + u16(n)
F_OK = variant(4, 8) + variant(0, 2) + u8(255)
F_NOSPACE = variant(4, 8) + variant(1, 2) + variant(0, 4)
def files(ops, preload=()):
    return u16(4000) + u8(60) + seq([u8(n) + u8(s) for n, s in preload]) + seq(ops)
write('files_session', 'put-list-get', files([
    F_DRAIN(500), F_LINE(L_PUT(5, 1)), F_OK, F_DRAIN(500), F_RAW(b'hello'), F_OK, F_OK, F_DRAIN(500),
    F_LINE(L_LIST), F_OK, F_OK, F_DRAIN(500), F_LINE(L_GET(1)), F_OK, F_OK, F_DRAIN(500), F_OK,
    F_DRAIN(500), F_LINE(L_QUIT), F_DRAIN(500)]))
write('files_session', 'exists-append', files([
    F_DRAIN(500), F_LINE(L_PUT(3, 0)), F_OK, F_DRAIN(500), F_LINE(L_APPEND), F_OK, F_RAW(b'abc'),
    F_OK, F_OK, F_DRAIN(500)], preload=[(0, 4)]))
write('files_session', 'no-space-mid-payload', files([
    F_LINE(L_PUT(700, 2)), F_OK, F_RAW(b'x' * 600), F_NOSPACE, F_DRAIN(500)]))
write('files_session', 'exists-overwrite', files([
    F_LINE(L_PUT(2, 1)), F_OK, F_LINE(L_OVER), F_OK, F_RAW(b'hi'), F_OK, F_OK, F_DRAIN(500)],
    preload=[(1, 9)]))

# ---- ident_session ------------------------------------------------------------------------
I_INPUT = lambda b: variant(0, 5) + seq([u8(x) for x in b])
I_DRAIN, I_EOF, I_POLL = lambda n: variant(1, 5) + u16(n), variant(2, 5), variant(3, 5)
I_STORED = lambda ok: variant(4, 5) + boolean(ok)
write('ident_session', 'unknown-stored', boolean(False) + seq([
    I_DRAIN(100), I_INPUT(b'  Ann Lee  \r\n'), I_POLL, I_STORED(True), I_DRAIN(100)]))
write('ident_session', 'invalid', boolean(False) + seq([I_INPUT(b'a\tb\n'), I_DRAIN(100)]))
write('ident_session', 'eof-while-storing', boolean(False) + seq([
    I_INPUT(b'Bob'), I_INPUT(b'\nextra'), I_EOF, I_POLL, I_STORED(True), I_DRAIN(100)]))

# ---- auth_session: the §5 transcript against an honest backend ------------------------
A_LINE = lambda l: variant(0, 6) + l
REG, LOGIN = lambda u, p: variant(0, 8) + u8(u) + u8(p), lambda u, p: variant(1, 8) + u8(u) + u8(p)
TOKEN, WHOAMI = lambda i: variant(2, 8) + u8(i), variant(3, 8)
PASSWD, BARE = lambda p: variant(4, 8) + u8(p), lambda p: variant(5, 8) + u8(p)
LOGOUT, QUIT = variant(6, 8), variant(7, 8)
A_DRAIN = lambda n: variant(2, 6) + u16(n)
A_HONEST = variant(3, 6) + variant(0, 3)
A_ADVANCE = lambda ms: variant(5, 6) + u16(ms)
def auth(ops):
    return u16(5000) + seq(ops)
write('auth_session', 'register-login-whoami', auth([
    A_DRAIN(300), A_LINE(REG(1, 3)), A_HONEST, A_DRAIN(300), A_LINE(LOGIN(1, 3)), A_HONEST,
    A_DRAIN(300), A_LINE(WHOAMI), A_HONEST, A_LINE(LOGOUT), A_HONEST, A_LINE(QUIT), A_DRAIN(300)]))
write('auth_session', 'wrong-password', auth([
    A_LINE(LOGIN(0, 1)), A_HONEST, A_LINE(LOGIN(0, 0)), A_HONEST, A_DRAIN(300)]))
write('auth_session', 'passwd', auth([
    A_LINE(LOGIN(0, 0)), A_HONEST, A_LINE(PASSWD(0)), A_HONEST, A_LINE(BARE(3)), A_HONEST,
    A_LINE(TOKEN(0)), A_HONEST, A_DRAIN(300)]))
write('auth_session', 'expired', auth([
    A_LINE(LOGIN(0, 0)), A_HONEST, A_ADVANCE(6000), A_LINE(WHOAMI), A_DRAIN(300)]))

# ---- chat_server: two members chat, a stranger pokes -------------------------------------
# Input = limit, host_limit, timeout_ms, ops; peers 2k and 2k+1 are one host.
C_SEND = lambda a, d: variant(0, 4) + u8(a) + d
D_JOIN, D_WHO, D_PING, D_LEAVE = lambda i: variant(0, 7) + u8(i), variant(2, 7), variant(3, 7), variant(4, 7)
D_RAW = lambda b: variant(5, 7) + seq([u8(x) for x in b])
C_TX = lambda n: variant(1, 4) + u8(n)
C_ADV, C_TIMEOUT = lambda ms: variant(2, 4) + u16(ms), variant(3, 4)
write('chat_server', 'two-members', u8(4) + u8(3) + u16(60000) + seq([
    C_SEND(1, D_JOIN(0)), C_TX(9), C_SEND(2, D_JOIN(1)), C_TX(9), C_SEND(1, D_RAW(b'MSG hi there')),
    C_TX(9), C_SEND(2, D_WHO), C_TX(9), C_SEND(3, D_RAW(b'MSG hi')), C_TX(9), C_SEND(3, D_PING), C_TX(9),
    C_SEND(1, D_LEAVE), C_TX(9)]))
write('chat_server', 'timeout', u8(4) + u8(3) + u16(1000) + seq([
    C_SEND(1, D_JOIN(0)), C_TX(9), C_SEND(2, D_JOIN(1)), C_TX(9), C_ADV(900), C_SEND(2, D_PING), C_TX(9),
    C_ADV(200), C_TIMEOUT, C_TX(9)]))
# A member's ESC and U+202E are refused, its second JOIN too; one host holds one member.
write('chat_server', 'refused', u8(4) + u8(1) + u16(60000) + seq([
    C_SEND(2, D_JOIN(0)), C_TX(9), C_SEND(4, D_JOIN(1)), C_TX(9),
    C_SEND(2, D_RAW(b'MSG \x1b[2J')), C_TX(9), C_SEND(2, D_RAW('MSG x\u202egnp.exe'.encode())), C_TX(9),
    C_SEND(2, D_JOIN(0)), C_TX(9), C_SEND(3, D_JOIN(3)), C_TX(9), C_SEND(2, D_RAW(b'MSG a\tb')), C_TX(9)]))

# ---- files_pair: two or three sessions on one 4-slot RAM disk ------------------------------
# Op = To(session, Step) | Advance; Step = Line | Raw | Fill | Drain | Storage | Pump | Eof | Timeout
def to(s, step): return variant(0, 2) + u8(s) + step
P_LINE = lambda l: variant(0, 8) + l
P_RAW = lambda b: variant(1, 8) + seq([u8(x) for x in b])
P_FILL = lambda n: variant(2, 8) + u16(n)
P_DRAIN = lambda n: variant(3, 8) + u16(n)
P_READ = lambda k: variant(4, 8) + variant(0, 2) + u8(k)
P_PUMP, P_EOF = variant(5, 8), variant(6, 8)
def pair(ops, preload=(), three=False):
    return u16(4000) + u8(60) + boolean(three) + seq([u8(n) + u8(s) for n, s in preload]) + seq(ops)
write('files_pair', 'busy-then-append', pair([
    to(0, P_LINE(L_PUT(5, 0))), to(0, P_PUMP), to(1, P_LINE(L_PUT(3, 0))), to(1, P_PUMP),
    to(1, P_DRAIN(500)), to(0, P_RAW(b'hello')), to(0, P_PUMP), to(0, P_DRAIN(500)),
    to(1, P_LINE(L_PUT(3, 0))), to(1, P_PUMP), to(1, P_LINE(L_APPEND)), to(1, P_PUMP),
    to(1, P_RAW(b'abc')), to(1, P_PUMP), to(1, P_DRAIN(500)), to(0, P_LINE(L_GET(0))), to(0, P_PUMP),
    to(0, P_DRAIN(500))]))
write('files_pair', 'replaced-mid-download', pair([
    to(1, P_LINE(L_GET(0))), to(1, P_READ(0)), to(1, P_READ(9)), to(1, P_DRAIN(40)),
    to(0, P_LINE(L_PUT(4, 0))), to(0, P_PUMP), to(0, P_LINE(L_OVER)), to(0, P_PUMP),
    to(0, P_RAW(b'new!')), to(0, P_PUMP), to(0, P_DRAIN(500)), to(1, P_DRAIN(40)), to(1, P_PUMP),
    to(1, P_DRAIN(500)), to(1, P_PUMP), to(1, P_LINE(L_LIST)), to(1, P_PUMP), to(1, P_DRAIN(500))],
    preload=[(0, 200)]))
write('files_pair', 'slots-run-out', pair([
    to(0, P_LINE(L_PUT(1, 0))), to(0, P_PUMP), to(0, P_LINE(L_OVER)), to(0, P_PUMP),
    to(1, P_LINE(L_PUT(1, 1))), to(1, P_PUMP), to(1, P_LINE(L_OVER)), to(1, P_PUMP),
    to(2, P_LINE(L_LIST)), to(2, P_PUMP), to(0, P_RAW(b'z')), to(0, P_PUMP),
    to(1, P_DRAIN(500)), to(2, P_DRAIN(500))], preload=[(0, 7), (1, 8), (2, 9)], three=True))
write('files_pair', 'too-big-for-a-slot', pair([
    to(0, P_LINE(L_PUT(1500, 2))), to(0, P_PUMP), to(0, P_FILL(1500)), to(0, P_PUMP),
    to(1, P_LINE(L_LIST)), to(1, P_PUMP), to(0, P_DRAIN(500)), to(1, P_DRAIN(500))],
    preload=[(1, 30)]))
