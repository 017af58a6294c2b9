//! Model-based property tests of the ident name table (`server::ident::db`) and the
//! service that fills it (issue 6).
//!
//! `ident_table_matches_the_model`: arbitrary visits of peers (IPv4, IPv6, IPv4-mapped
//! and IPv4-compatible IPv6, from a small pool so they repeat, and arbitrary ones) to a
//! real `IdentService`, each opened with `Service::open` as the event loop does and
//! answered with an arbitrary name line (valid names with spaces around, arbitrary
//! unicode, arbitrary bytes, a CR before the LF, over-long names); pairs of visits
//! opened before either answers; restarts that reload the file, also after a crash in
//! the middle of a rewrite (the killed writer's temporary left behind, cut anywhere).
//! After every step the greeting is the one the model predicts (`Hello again, <stored
//! name>!`, or the question then `Nice to meet you, <name>!` / `Sorry, ...`), the table
//! answers every lookup as the model does, the file is exactly the model's
//! `ip<TAB>name` lines in address order, and no temporary is left next to it (a restart
//! removes the killed writer's); after every restart the loaded table equals the model
//! with nothing skipped.
//!
//! `hand_edited_files_load_as_documented`: files made of good lines, duplicate
//! addresses, lines without a TAB, bad addresses, empty / over-long / control-character
//! / invalid UTF-8 names, lines cut at any byte, blank lines, CRLF endings and a missing
//! final LF. `IdentDb::open` never fails or panics on them: it keeps each line that is
//! `ip<TAB>valid name` (the last one wins for a repeated address, mapped addresses
//! become IPv4), counts every other non-empty line as skipped, and the next store
//! rewrites the file with the kept entries only.
//!
//! Cases: 64 and 256 by default (`PROPTEST_CASES` overrides both).

mod prop_support;

use prop_support::cases;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;
use socklab::server::ident::IdentService;
use socklab::server::ident::db::{IdentDb, Loaded, normalise};
use socklab::server::service::Service;
use socklab::server::wake::Wake;
use socklab_core::Instant;
use socklab_core::ident::valid_name;
use socklab_core::session::Session;

/// Addresses that meet each other: mapped and plain IPv4 are one client, an
/// IPv4-compatible IPv6 address is not.
fn fixed_peers() -> Vec<IpAddr> {
    [
        "127.0.0.1",
        "::ffff:127.0.0.1",
        "10.0.0.1",
        "::ffff:10.0.0.1",
        "::10.0.0.1",
        "0.0.0.0",
        "255.255.255.255",
        "::1",
        "::",
        "2001:db8::1",
        "2001:db8::1:0:0:1",
        "fe80::1",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect()
}

fn any_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        4 => (0..usize::MAX).prop_map(|i| {
            let p = fixed_peers();
            p[i % p.len()]
        }),
        1 => any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        1 => any::<[u8; 4]>().prop_map(|b| IpAddr::V6(Ipv4Addr::from(b).to_ipv6_mapped())),
        1 => any::<[u8; 16]>().prop_map(|b| IpAddr::V6(Ipv6Addr::from(b))),
    ]
}

/// `v` without its LFs: one line.
fn no_lf(mut v: Vec<u8>) -> Vec<u8> {
    v.retain(|&b| b != b'\n');
    v
}

/// A name line as a peer sends it (without the LF).
fn name_line() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Mostly valid: printable text with spaces around, maybe a CR before the LF.
        6 => ("[ ]{0,3}", "[^\\p{Cc}]{1,30}", "[ ]{0,3}", any::<bool>()).prop_map(
            |(a, n, b, cr)| format!("{a}{n}{b}{}", if cr { "\r" } else { "" }).into_bytes()
        ),
        2 => ".{0,70}".prop_map(|s| no_lf(s.into_bytes())),
        2 => proptest::collection::vec(any::<u8>(), 0..80).prop_map(no_lf),
        // Around the 64-character limit, in 4-byte characters.
        1 => (60..70usize).prop_map(|n| "😀".repeat(n).into_bytes()),
        // Over §0's line limit.
        1 => Just(vec![b'x'; 1100]),
    ]
}

#[derive(Debug, Clone)]
enum Op {
    /// One connection: greeting, and the name line if asked.
    Visit {
        peer: IpAddr,
        port: u16,
        line: Vec<u8>,
    },
    /// Two connections opened before either answers, answered in order.
    Both {
        a: IpAddr,
        b: IpAddr,
        line_a: Vec<u8>,
        line_b: Vec<u8>,
    },
    /// Stop the service and load the file again.
    Restart,
    /// The server is killed while it rewrites the file for `peer` (its temporary is
    /// half written, the rename never happens), then started again.
    CrashRestart {
        peer: IpAddr,
        name: String,
        cut: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (any_ip(), any::<u16>(), name_line())
            .prop_map(|(peer, port, line)| Op::Visit { peer, port, line }),
        2 => (any_ip(), any_ip(), name_line(), name_line())
            .prop_map(|(a, b, line_a, line_b)| Op::Both { a, b, line_a, line_b }),
        2 => Just(Op::Restart),
        1 => (any_ip(), valid_name_text(), any::<usize>())
            .prop_map(|(peer, name, cut)| Op::CrashRestart { peer, name, cut }),
    ]
}

const WAIT: Duration = Duration::from_secs(10);

/// Store failures go to stderr (errors only), where a failing case shows them.
fn quiet() -> socklab::log::Logger {
    socklab::log::Logger::stderr(socklab::log::Level::Quiet)
}

/// A connection's session and the bytes it sent that are not yet a whole line.
struct Conn {
    s: Box<dyn Session + Send>,
    out: Vec<u8>,
}

impl Conn {
    fn open(service: &mut IdentService, peer: IpAddr, port: u16) -> Conn {
        let now = Instant::from_millis(0);
        let s = service.open(now, SocketAddr::new(peer, port), Wake::unbound());
        Conn { s, out: Vec::new() }
    }

    /// The next line the server writes; the store runs on the service's writer thread,
    /// so this polls as the event loop would after a wake-up.
    fn line(&mut self) -> Result<String, TestCaseError> {
        prop_support::next_line(self.s.as_mut(), &mut self.out, WAIT, false)
    }

    fn send(&mut self, line: &[u8]) {
        let mut bytes = line.to_vec();
        bytes.push(b'\n');
        // The session takes what it needs (up to the LF, or to §0's limit).
        let _ = self.s.handle_input(Instant::from_millis(1), &bytes);
    }

    /// The server has said everything and closed.
    fn assert_closed(&mut self) -> Result<(), TestCaseError> {
        let mut buf = [0u8; 512];
        prop_assert_eq!(
            self.s.poll_output(&mut buf),
            0,
            "output after the last line"
        );
        prop_assert!(self.out.is_empty());
        prop_assert!(self.s.close_reason().is_some(), "still open");
        Ok(())
    }
}

/// The name the server stores for a line, per §4 (the line reader drops a CR before
/// the LF; a line over §0's limit is refused whatever it holds).
fn expected_name(line: &[u8]) -> Option<String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.len() > 1024 {
        return None;
    }
    valid_name(line).map(str::to_owned)
}

struct World {
    path: PathBuf,
    db: Arc<IdentDb>,
    service: IdentService,
    model: BTreeMap<IpAddr, String>,
}

impl World {
    fn start(path: &Path, model: BTreeMap<IpAddr, String>) -> Result<World, TestCaseError> {
        let (db, loaded) =
            IdentDb::open(path, quiet()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let expected = Loaded {
            names: model.len(),
            skipped: 0,
        };
        prop_assert_eq!(loaded, expected, "loaded after a restart");
        let db = Arc::new(db);
        let service = IdentService::new(db.clone(), socklab_core::Duration::from_secs(300))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        Ok(World {
            path: path.to_owned(),
            db,
            service,
            model,
        })
    }

    /// The first line of a visit by `peer`, as the model predicts it.
    fn greeting(&self, peer: IpAddr) -> String {
        match self.model.get(&normalise(peer)) {
            Some(name) => format!("Hello again, {name}!\n"),
            None => "What is your name?\n".to_owned(),
        }
    }

    /// Answer the question (if it was asked) and check the outcome.
    fn answer(
        &mut self,
        conn: &mut Conn,
        peer: IpAddr,
        asked: bool,
        line: &[u8],
    ) -> TestCaseResult {
        if asked {
            conn.send(line);
            let reply = conn.line()?;
            match expected_name(line) {
                Some(name) => {
                    prop_assert_eq!(reply, format!("Nice to meet you, {name}!\n"));
                    self.model.insert(normalise(peer), name);
                }
                None => prop_assert_eq!(reply, "Sorry, that is not a valid name.\n"),
            }
        }
        conn.assert_closed()
    }

    fn check(&self, peers: &[IpAddr]) -> TestCaseResult {
        for (ip, name) in &self.model {
            prop_assert_eq!(self.db.lookup(*ip), Some(name.clone()), "lookup {}", ip);
        }
        for ip in peers {
            let ip = normalise(*ip);
            prop_assert_eq!(
                self.db.lookup(ip),
                self.model.get(&ip).cloned(),
                "lookup {}",
                ip
            );
        }
        let folder = self.path.parent().unwrap();
        let entries: Vec<String> = std::fs::read_dir(folder)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        if self.model.is_empty() {
            prop_assert!(entries.is_empty(), "{:?}", entries);
        } else {
            prop_assert_eq!(entries, ["ident.tsv"], "no temporary left");
            let text: String = self
                .model
                .iter()
                .map(|(ip, name)| format!("{ip}\t{name}\n"))
                .collect();
            prop_assert_eq!(std::fs::read_to_string(&self.path).unwrap(), text);
        }
        Ok(())
    }
}

fn run(ops: &[Op]) -> TestCaseResult {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("db")).unwrap();
    let path = dir.path().join("db").join("ident.tsv");
    let mut w = World::start(&path, BTreeMap::new())?;
    let mut peers = fixed_peers();
    for op in ops {
        match op {
            Op::Visit { peer, port, line } => {
                peers.push(*peer);
                let greeting = w.greeting(*peer);
                let mut c = Conn::open(&mut w.service, *peer, *port);
                prop_assert_eq!(c.line()?, greeting.clone());
                w.answer(&mut c, *peer, greeting.starts_with("What"), line)?;
            }
            Op::Both {
                a,
                b,
                line_a,
                line_b,
            } => {
                peers.extend([*a, *b]);
                let (ga, gb) = (w.greeting(*a), w.greeting(*b));
                let mut ca = Conn::open(&mut w.service, *a, 1);
                let mut cb = Conn::open(&mut w.service, *b, 2);
                prop_assert_eq!(ca.line()?, ga.clone());
                prop_assert_eq!(cb.line()?, gb.clone());
                w.answer(&mut ca, *a, ga.starts_with("What"), line_a)?;
                w.answer(&mut cb, *b, gb.starts_with("What"), line_b)?;
            }
            Op::Restart => {
                let model = std::mem::take(&mut w.model);
                drop(w);
                w = World::start(&path, model)?;
            }
            Op::CrashRestart { peer, name, cut } => {
                // What the writer of a killed server (another pid) leaves: the new table
                // in its temporary, cut anywhere; the file itself is the old one.
                let mut table = w.model.clone();
                table.insert(normalise(*peer), name.clone());
                let mut text: Vec<u8> = table
                    .iter()
                    .flat_map(|(ip, name)| format!("{ip}\t{name}\n").into_bytes())
                    .collect();
                text.truncate(cut % (text.len() + 1));
                let temp = path.with_file_name(".ident.tsv.socklab-tmp-999999");
                let model = std::mem::take(&mut w.model);
                drop(w);
                std::fs::write(&temp, text).unwrap();
                w = World::start(&path, model)?;
            }
        }
        w.check(&peers)?;
    }
    Ok(())
}

/// One line of a hand-edited or damaged table file.
#[derive(Debug, Clone)]
enum Line {
    /// `ip<TAB>name`, the name maybe with spaces around it.
    Good {
        ip: IpAddr,
        name: String,
        pad: (usize, usize),
    },
    /// Arbitrary bytes (no LF).
    Junk(Vec<u8>),
    /// A good line cut after `at` bytes.
    Cut { ip: IpAddr, name: String, at: usize },
    /// `ip<TAB>` followed by arbitrary bytes.
    BadName { ip: IpAddr, name: Vec<u8> },
    /// A name of `n` characters (valid up to 64).
    Long { ip: IpAddr, n: usize },
    /// An address with a zone, which `IpAddr` does not take.
    Zone { name: String },
    /// Nothing.
    Blank,
}

fn valid_name_text() -> impl Strategy<Value = String> {
    "[^\\p{Cc}]{1,20}".prop_filter_map("a valid §4 name", |s| {
        valid_name(s.as_bytes()).map(str::to_owned)
    })
}

fn file_line() -> impl Strategy<Value = Line> {
    prop_oneof![
        6 => (any_ip(), valid_name_text(), (0..3usize, 0..3usize))
            .prop_map(|(ip, name, pad)| Line::Good { ip, name, pad }),
        2 => proptest::collection::vec(any::<u8>(), 0..60).prop_map(|v| Line::Junk(no_lf(v))),
        2 => (any_ip(), valid_name_text(), 0..80usize)
            .prop_map(|(ip, name, at)| Line::Cut { ip, name, at }),
        2 => (any_ip(), proptest::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(ip, name)| Line::BadName { ip, name: no_lf(name) }),
        1 => (any_ip(), 60..70usize).prop_map(|(ip, n)| Line::Long { ip, n }),
        1 => valid_name_text().prop_map(|name| Line::Zone { name }),
        1 => Just(Line::Blank),
    ]
}

impl Line {
    fn bytes(&self) -> Vec<u8> {
        match self {
            Line::Good { ip, name, pad } => {
                format!("{ip}\t{}{name}{}", " ".repeat(pad.0), " ".repeat(pad.1)).into_bytes()
            }
            Line::Junk(b) => b.clone(),
            Line::Cut { ip, name, at } => {
                let mut b = format!("{ip}\t{name}").into_bytes();
                b.truncate(*at);
                b
            }
            Line::BadName { ip, name } => {
                let mut b = format!("{ip}\t").into_bytes();
                b.extend_from_slice(name);
                b
            }
            Line::Long { ip, n } => format!("{ip}\t{}", "é".repeat(*n)).into_bytes(),
            Line::Zone { name } => format!("fe80::1%eth0\t{name}").into_bytes(),
            Line::Blank => Vec::new(),
        }
    }
}

/// What the loader must make of one line (without its LF): `Some(entry)` to keep,
/// `None` to skip. Written from §4 and DESIGN ("ip<TAB>name", the name rule of core).
fn expected_entry(line: &[u8]) -> Option<(IpAddr, String)> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let tab = line.iter().position(|&b| b == b'\t')?;
    let ip: IpAddr = std::str::from_utf8(&line[..tab]).ok()?.parse().ok()?;
    let name = valid_name(&line[tab + 1..])?;
    Some((ip.to_canonical(), name.to_owned()))
}

fn load_damaged(lines: &[Line], crlf: &[bool], final_lf: bool) -> TestCaseResult {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ident.tsv");
    let mut file = Vec::new();
    let mut model = BTreeMap::new();
    let mut skipped = 0;
    for (i, line) in lines.iter().enumerate() {
        let mut bytes = line.bytes();
        if crlf[i % crlf.len()] {
            bytes.push(b'\r');
        }
        let last = i + 1 == lines.len();
        if bytes.is_empty() && last && !final_lf {
            continue; // nothing to write, nothing to read
        }
        match expected_entry(&bytes) {
            Some((ip, name)) => {
                model.insert(ip, name);
            }
            None if bytes.is_empty() => {}
            None => skipped += 1,
        }
        file.extend_from_slice(&bytes);
        if !last || final_lf {
            file.push(b'\n');
        }
    }
    std::fs::write(&path, &file).unwrap();
    let (db, loaded) =
        IdentDb::open(&path, quiet()).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(
        loaded,
        Loaded {
            names: model.len(),
            skipped
        }
    );
    for line in lines {
        if let Some((ip, _)) = expected_entry(&line.bytes()) {
            prop_assert_eq!(db.lookup(ip), model.get(&ip).cloned(), "lookup {}", ip);
        }
    }
    for (ip, name) in &model {
        prop_assert_eq!(db.lookup(*ip), Some(name.clone()), "lookup {}", ip);
    }
    // The next store rewrites the file with what was kept (and the new pair) only.
    let new_ip: IpAddr = "192.0.2.77".parse().unwrap();
    db.store(new_ip, "Newcomer").unwrap();
    model.insert(new_ip, "Newcomer".to_owned());
    let text: String = model
        .iter()
        .map(|(ip, name)| format!("{ip}\t{name}\n"))
        .collect();
    prop_assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    let (again, loaded) = IdentDb::open(&path, quiet()).unwrap();
    prop_assert_eq!(
        loaded,
        Loaded {
            names: model.len(),
            skipped: 0
        }
    );
    for (ip, name) in &model {
        prop_assert_eq!(again.lookup(*ip), Some(name.clone()));
    }
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    prop_assert_eq!(entries.len(), 1, "no temporary left");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(64),
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn ident_table_matches_the_model(ops in proptest::collection::vec(op(), 1..=40)) {
        run(&ops)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(256),
        ..ProptestConfig::default()
    })]

    #[test]
    fn hand_edited_files_load_as_documented(
        lines in proptest::collection::vec(file_line(), 0..30),
        crlf in proptest::collection::vec(any::<bool>(), 1..4),
        final_lf in any::<bool>(),
    ) {
        load_damaged(&lines, &crlf, final_lf)?;
    }
}
