//! The lab's flow with no subcommand: ask for the local file, show the server's files,
//! ask for the target name, and send (asking overwrite / append / cancel if it exists).
//! Answers are read from stdin line by line, so the flow can be scripted too.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use socklab_core::files::validate_name;

use super::proto::{Conn, human};
use super::transfer::{self, Answer, Choice};
use crate::client::stdio::read_line;

/// Longest answer line accepted.
const MAX_ANSWER: u32 = 4096;

fn prompt(input: &mut impl BufRead, question: &str) -> io::Result<Option<String>> {
    eprint!("{question}");
    io::stderr().flush()?;
    let mut line = Vec::new();
    if !read_line(input, &mut line, MAX_ANSWER)? {
        return Ok(None);
    }
    let s = String::from_utf8(line)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "the answer is not UTF-8"))?;
    Ok(Some(s.trim_end_matches('\r').to_owned()))
}

/// Ask until the answer is one of overwrite / append / cancel (a first letter will
/// do; an empty answer or end of input cancels).
pub fn ask_choice(input: &mut impl BufRead, name: &str, size: u64) -> io::Result<Answer> {
    loop {
        let q = format!(
            "{name} already exists on the server ({}). [o]verwrite, [a]ppend or [c]ancel? ",
            human(size)
        );
        let Some(a) = prompt(input, &q)? else {
            return Ok(Answer::Cancel);
        };
        match a.trim().to_lowercase().as_str() {
            "o" | "overwrite" => return Ok(Answer::Overwrite),
            "a" | "append" => return Ok(Answer::Append),
            "" | "c" | "cancel" => return Ok(Answer::Cancel),
            _ => eprintln!("please answer o, a or c"),
        }
    }
}

/// Run the flow on a connected client.
pub fn run(conn: &mut Conn, show: bool) -> io::Result<()> {
    let stdin = io::stdin();
    let mut input = stdin.lock();
    let local = loop {
        let Some(p) = prompt(&mut input, "Local file to send: ")? else {
            return Err(io::Error::other("no file given"));
        };
        let p = PathBuf::from(p.trim());
        match std::fs::metadata(&p) {
            Ok(m) if m.is_file() => break p,
            Ok(_) => eprintln!("{} is not a file", p.display()),
            Err(e) => eprintln!(
                "cannot use {}: {}",
                p.display(),
                crate::os_error::describe(&e)
            ),
        }
    };
    let files = super::list(conn)?;
    if files.is_empty() {
        eprintln!("The server has no files yet.");
    } else {
        eprintln!("Files on the server:");
        for (size, name) in &files {
            eprintln!("  {name} ({})", human(*size));
        }
    }
    let default = local
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned);
    let name = loop {
        let q = match &default {
            Some(d) => format!("Name on the server [{d}]: "),
            None => "Name on the server: ".to_owned(),
        };
        let Some(a) = prompt(&mut input, &q)? else {
            return Err(io::Error::other("no name given"));
        };
        let a = if a.is_empty() {
            default.clone().unwrap_or_default()
        } else {
            a
        };
        match validate_name(&a) {
            Ok(_) => break a,
            Err(e) => eprintln!("{a:?} cannot be used: {e}"),
        }
    };
    let stored = transfer::put(conn, &local, &name, Choice::Ask, show, &mut |n, s| {
        ask_choice(&mut input, n, s)
    })?;
    super::report(&name, stored);
    Ok(())
}
