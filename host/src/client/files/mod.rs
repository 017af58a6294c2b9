//! `socklab files`: the §3 client.
//!
//! * `files list` — the server's files, one per line: size in bytes, then the name;
//! * `files put LOCAL [--as NAME] [--overwrite|--append]` — upload; when the name
//!   exists and neither flag says what to do, a person at a terminal is asked
//!   (overwrite / append / cancel) and anyone else gets a clear failure;
//! * `files get NAME [-o LOCAL]` — download (to `NAME` in the current folder, which
//!   must not exist yet, or to `LOCAL`, or to stdout with `-o -`);
//! * no subcommand — the lab's interactive flow: ask for the local path, show the
//!   server's files, ask for the target name, send.
//!
//! Streams: standard output carries results (the listing, `stored ...` after an upload,
//! a download with `-o -`), so scripts can read them; standard error carries progress,
//! questions and errors, and also `no files on the server` for an empty listing, so
//! that `files list | wc -l` still counts files. `saved ...` after a download goes to
//! standard error too, as the download itself may be on standard output.
//!
//! Uploads are checked: the crc32 the server returns must equal the crc32 of what was
//! sent, or the client fails loudly. A progress bar with rate and ETA is drawn on stderr
//! when it is a terminal (not with `--no-progress`). Exit status: 0 done (a cancelled
//! upload too), 1 refused or failed, 2 the server could not be reached.

mod interactive;
pub mod proto;
pub mod transfer;

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use socklab_core::files::{Command, ServerLine, validate_name};
use socklab_core::service;

use super::conn::open_or_exit;
use proto::{Conn, human, protocol, refused};
use transfer::{Answer, Choice, Sink, Stored};

/// Flags of `socklab files`. `--host`, `--port`, `--no-progress` and `-v` are accepted
/// before or after the subcommand.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct FilesClientArgs {
    /// Server address (IPv4, IPv6 or a name).
    #[arg(long, default_value = "127.0.0.1", global = true)]
    pub host: String,
    /// Server port.
    #[arg(long, default_value_t = service::FILES.port, global = true)]
    pub port: u16,
    /// Never draw progress bars.
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// Log connect, send, receive and disconnect on stderr.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Option<FilesCommand>,
}

const EXAMPLES: &str = "\
Examples:
  socklab files                          the lab's interactive flow
  socklab files list
  socklab files put notes.txt            asks on a terminal if notes.txt exists
  socklab files put big.iso --as disk.iso --overwrite
  socklab files get notes.txt -o copy.txt
  socklab files get notes.txt -o - | less";

/// What to do.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum FilesCommand {
    /// List the server's files: size in bytes and name, sorted by name.
    List,
    /// Upload a file.
    Put {
        /// The local file.
        local: PathBuf,
        /// Name on the server (default: the local file's name).
        #[arg(long = "as", value_name = "NAME")]
        name: Option<String>,
        /// Replace the file if it exists.
        #[arg(long, conflicts_with = "append")]
        overwrite: bool,
        /// Add to the end of the file if it exists.
        #[arg(long)]
        append: bool,
    },
    /// Download a file.
    Get {
        /// Name on the server.
        name: String,
        /// Where to save it (default: the same name here; `-` for standard output).
        #[arg(short = 'o', long = "output", value_name = "LOCAL")]
        output: Option<PathBuf>,
    },
}

/// Run the client.
pub fn run(args: &FilesClientArgs) -> ExitCode {
    let show = !args.no_progress && io::stderr().is_terminal();
    // Check what can be checked before connecting, so a typo costs no round trip.
    let plan = match &args.command {
        None => None,
        Some(cmd) => match plan(cmd) {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("socklab: {e}");
                return ExitCode::from(super::EXIT_FAILURE);
            }
        },
    };
    let (stream, trace) = match open_or_exit(service::FILES, &args.host, args.port, args.verbose) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let result = Conn::open(stream, trace.clone()).and_then(|mut conn| {
        let r = match plan {
            None => interactive::run(&mut conn, show),
            Some(p) => execute(&mut conn, p, show),
        };
        if r.is_ok() {
            conn.quit();
        }
        r
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            trace.disconnected("error");
            eprintln!("socklab: {e}");
            ExitCode::from(super::EXIT_FAILURE)
        }
    }
}

/// A command with its arguments checked.
enum Plan {
    List,
    Put {
        local: PathBuf,
        name: String,
        choice: Choice,
    },
    Get {
        name: String,
        sink: Sink,
    },
}

fn plan(cmd: &FilesCommand) -> io::Result<Plan> {
    let bad = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
    Ok(match cmd {
        FilesCommand::List => Plan::List,
        FilesCommand::Put {
            local,
            name,
            overwrite,
            append,
        } => {
            let name = match name {
                Some(n) => n.clone(),
                None => default_name(local)?,
            };
            validate_name(&name)
                .map_err(|e| bad(format!("{name:?} cannot be a name on the server: {e}")))?;
            match std::fs::metadata(local) {
                Ok(m) if m.is_file() => {}
                Ok(_) => return Err(bad(format!("{} is not a file", local.display()))),
                Err(e) => {
                    return Err(crate::client::stdio::context(
                        &format!("cannot open {}", local.display()),
                        &e,
                    ));
                }
            }
            let choice = match (overwrite, append) {
                (true, _) => Choice::Overwrite,
                (_, true) => Choice::Append,
                _ => Choice::Ask,
            };
            Plan::Put {
                local: local.clone(),
                name,
                choice,
            }
        }
        FilesCommand::Get { name, output } => {
            validate_name(name).map_err(|e| bad(format!("{name:?} is not a valid name: {e}")))?;
            let sink = match output {
                Some(p) if p.as_os_str() == "-" => Sink::Stdout,
                Some(p) => Sink::File(p.clone()),
                None => {
                    let p = PathBuf::from(name);
                    if p.exists() {
                        return Err(bad(format!(
                            "{name} already exists here; choose where to save with -o \
                             (-o {name} replaces it)"
                        )));
                    }
                    Sink::File(p)
                }
            };
            Plan::Get {
                name: name.clone(),
                sink,
            }
        }
    })
}

/// The local file's own name, if it can be a name on the server.
fn default_name(local: &Path) -> io::Result<String> {
    local
        .file_name()
        .and_then(|n| n.to_str())
        .map(str::to_owned)
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} has no usable file name; give one with --as NAME",
                    local.display()
                ),
            )
        })
}

fn execute(conn: &mut Conn, plan: Plan, show: bool) -> io::Result<()> {
    match plan {
        Plan::List => {
            let entries = list(conn)?;
            if entries.is_empty() {
                eprintln!("no files on the server");
            }
            let mut out = io::stdout().lock();
            for (size, name) in entries {
                writeln!(out, "{size} {name}")?;
            }
            Ok(())
        }
        Plan::Put {
            local,
            name,
            choice,
        } => {
            let stored = transfer::put(conn, &local, &name, choice, show, &mut ask_terminal)?;
            report(&name, stored);
            Ok(())
        }
        Plan::Get { name, sink } => {
            let size = transfer::get(conn, &name, &sink, show)?;
            if let Sink::File(p) = &sink {
                eprintln!("saved {name} to {} ({})", p.display(), human(size));
            }
            Ok(())
        }
    }
}

/// `LIST`: every entry the server announces.
pub fn list(conn: &mut Conn) -> io::Result<Vec<(u64, String)>> {
    conn.send(Command::List)?;
    let n = match conn.reply()? {
        ServerLine::Count(n) => n,
        ServerLine::Err { code, text } => return Err(refused(code, text)),
        other => return Err(protocol(format!("unexpected answer to LIST: {other:?}"))),
    };
    (0..n).map(|_| conn.entry()).collect()
}

/// The outcome of an upload: a result, so on standard output.
fn report(name: &str, stored: Stored) {
    match stored {
        Stored::Ok { size, crc } => {
            println!("stored {name} ({}, crc32 {crc:08x} verified)", human(size));
        }
        Stored::Cancelled => println!("cancelled: {name} left as it was"),
    }
}

/// Ask at the terminal; with no terminal, say which flag to use instead.
fn ask_terminal(name: &str, size: u64) -> io::Result<Answer> {
    if !io::stdin().is_terminal() {
        return Err(io::Error::other(format!(
            "{name} already exists on the server ({}); use --overwrite or --append \
             to say what to do (nothing was sent)",
            human(size)
        )));
    }
    let stdin = io::stdin();
    interactive::ask_choice(&mut stdin.lock(), name, size)
}
