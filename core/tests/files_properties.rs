//! Property tests for §3: commands round-trip through render and parse, no input makes
//! a parser panic, and a files session answers the same however its input is split.

mod files_support;

use std::cell::RefCell;
use std::rc::Rc;

use files_support::{Conn, Disk};
use proptest::prelude::*;
use socklab_core::files::{
    Command, FilesConfig, ServerLine, parse_command, parse_entry, parse_reply, validate_name,
};

fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 _.~%:-]{1,40}|[а-яё ]{1,20}"
        .prop_filter("valid §3 name", |n| validate_name(n).is_ok())
}

fn command() -> impl Strategy<Value = (u8, u64, String)> {
    (0u8..7, any::<u64>(), name())
}

fn build(kind: u8, size: u64, name: &str) -> Command<'_> {
    match kind {
        0 => Command::List,
        1 => Command::Put { size, name },
        2 => Command::Overwrite,
        3 => Command::Append,
        4 => Command::Cancel,
        5 => Command::Get { name },
        _ => Command::Quit,
    }
}

/// The session's output for `input` fed in pieces cut at `cuts`.
fn run_split(input: &[u8], cuts: &[usize]) -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
    let disk: Rc<RefCell<Disk>> = Rc::default();
    let mut c = Conn::new(&disk, FilesConfig::default());
    let mut out = c.output();
    let mut at: Vec<usize> = cuts.iter().map(|x| x % (input.len() + 1)).collect();
    at.sort_unstable();
    let mut last = 0;
    for a in at.into_iter().chain([input.len()]) {
        out.extend(c.exchange(&input[last..a]));
        last = a;
    }
    c.eof();
    out.extend(c.output());
    let files = disk.borrow().files.clone().into_iter().collect();
    (out, files)
}

proptest! {
    #[test]
    fn commands_round_trip((kind, size, name) in command()) {
        let cmd = build(kind, size, &name);
        let line = cmd.to_string();
        prop_assert_eq!(parse_command(line.as_bytes()), Ok(cmd));
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_command(&bytes);
        let _ = parse_reply(&bytes);
        let _ = parse_entry(&bytes);
    }

    #[test]
    fn stored_replies_round_trip(size in any::<u64>(), crc in any::<u32>()) {
        let line = format!("OK {size} {crc:08x}");
        prop_assert_eq!(parse_reply(line.as_bytes()), Ok(ServerLine::Stored { size, crc }));
    }

    #[test]
    fn a_session_answers_the_same_however_input_is_split(
        payload in proptest::collection::vec(any::<u8>(), 0..3000),
        more in proptest::collection::vec(any::<u8>(), 0..700),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let mut script = format!("LIST\nPUT {} a b\n", payload.len()).into_bytes();
        script.extend_from_slice(&payload);
        script.extend_from_slice(format!("PUT {} a b\nAPPEND\n", more.len()).as_bytes());
        script.extend_from_slice(&more);
        script.extend_from_slice(b"PUT 1 a b\nCANCEL\nGET a b\nbogus\r\nLIST\nQUIT\n");
        let whole = run_split(&script, &[]);
        let split = run_split(&script, &cuts);
        prop_assert_eq!(&whole, &split);
        let mut stored = payload.clone();
        stored.extend_from_slice(&more);
        prop_assert_eq!(&whole.1, &vec![("a b".to_owned(), stored)]);
    }
}
