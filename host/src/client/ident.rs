//! `socklab ident`: the §4 conversation from the client's side.
//!
//! Prints every line the server sends. When asked `What is your name?` it sends
//! `--name N`, or else the first line of standard input (typed at a terminal, or piped
//! by a script), and prints the answer.
//!
//! Exit status: 0 when greeted (`Hello again` or `Nice to meet you`), 1 when the name was
//! refused, no name was given, or the server closed without a greeting (for instance
//! because it could not store the name), 2 when the server cannot be reached.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::Shutdown;
use std::process::ExitCode;
use std::time::Duration;

use socklab_core::ident::QUESTION;
use socklab_core::service;

use super::conn::{Trace, connect, display_addr};
use crate::os_error::describe;

/// Flags of `socklab ident`.
#[derive(Debug, Clone, clap::Args)]
pub struct IdentClientArgs {
    /// Log connect, send, receive and disconnect to stderr (-v).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Server address (IPv4, IPv6 or a name).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(long, default_value_t = service::IDENT.port)]
    pub port: u16,
    /// The name to give if the server asks (default: read a line from standard input).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

/// How long the server may take to say anything: a name store waits for an `fsync`.
const REPLY_TIMEOUT: Duration = Duration::from_secs(30);

/// Run the client.
pub fn run(args: &IdentClientArgs) -> ExitCode {
    let trace = Trace::new(args.verbose, &display_addr(&args.host, args.port));
    let stream = match connect(&args.host, args.port, &trace) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "socklab: {}",
                e.serve_hint(service::IDENT, &args.host, args.port)
            );
            return ExitCode::from(super::EXIT_CONNECT);
        }
    };
    match talk(stream, args, &trace) {
        Ok(code) => code,
        Err(e) => {
            trace.disconnected("error");
            eprintln!("socklab: ident: {}", describe(&e));
            ExitCode::from(super::EXIT_FAILURE)
        }
    }
}

fn talk(
    stream: std::net::TcpStream,
    args: &IdentClientArgs,
    trace: &Trace,
) -> io::Result<ExitCode> {
    stream.set_read_timeout(Some(REPLY_TIMEOUT))?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut out = io::stdout().lock();
    let Some(first) = read_line(&mut reader, trace)? else {
        return Ok(closed_early(trace));
    };
    writeln!(out, "{first}")?;
    out.flush()?;
    if first != QUESTION {
        trace.disconnected("greeted");
        return Ok(greeting_code(&first));
    }
    let name = match &args.name {
        Some(n) => n.clone(),
        None => {
            let mut line = String::new();
            if io::stdin().lock().read_line(&mut line)? == 0 {
                let _ = writer.shutdown(Shutdown::Both);
                eprintln!("socklab: ident: no name given (end of input)");
                return Ok(ExitCode::from(super::EXIT_FAILURE));
            }
            line.trim_end_matches(['\n', '\r']).to_owned()
        }
    };
    let mut bytes = name.into_bytes();
    bytes.push(b'\n');
    writer.write_all(&bytes)?;
    trace.sent(bytes.len());
    let Some(answer) = read_line(&mut reader, trace)? else {
        return Ok(closed_early(trace));
    };
    writeln!(out, "{answer}")?;
    out.flush()?;
    trace.disconnected("answered");
    Ok(greeting_code(&answer))
}

/// One line from the server without its LF (or CR LF); `None` at EOF.
fn read_line(r: &mut impl BufRead, trace: &Trace) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    // The server's lines are short; 4 KiB bounds a misbehaving one.
    let n = r.by_ref().take(4096).read_until(b'\n', &mut buf)?;
    if n == 0 {
        return Ok(None);
    }
    trace.received(n);
    let text = String::from_utf8_lossy(&buf);
    Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()))
}

fn greeting_code(line: &str) -> ExitCode {
    if line.starts_with("Hello again, ") || line.starts_with("Nice to meet you, ") {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(super::EXIT_FAILURE)
    }
}

fn closed_early(trace: &Trace) -> ExitCode {
    trace.disconnected("closed by server");
    eprintln!("socklab: ident: the server closed the connection without a greeting");
    ExitCode::from(super::EXIT_FAILURE)
}
