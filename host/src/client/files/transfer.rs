//! Uploads and downloads: streaming in chunks with a progress bar on a terminal,
//! checking the server's crc32, and saying exactly what a broken connection cost.

use std::fs::File;
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use socklab_core::files::{Command, ServerLine};

use super::proto::{Conn, human, protocol, refused};

/// Bytes per read of the local file or the socket.
const CHUNK: usize = 64 * 1024;

/// What to do when the name exists on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// `--overwrite`.
    Overwrite,
    /// `--append`.
    Append,
    /// Neither flag: ask a person, or fail when none is there.
    Ask,
}

/// A person's answer to "overwrite, append or cancel?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Replace the file.
    Overwrite,
    /// Add to its end.
    Append,
    /// Leave it alone.
    Cancel,
}

/// How an upload ended, when nothing went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// The server confirmed: size of the whole file, crc of this upload.
    Ok {
        /// The file's size on the server.
        size: u64,
        /// The crc32 both sides agree on.
        crc: u32,
    },
    /// The person cancelled at the overwrite/append question.
    Cancelled,
}

/// A progress bar on stderr, or nothing when `show` is false.
pub fn bar(total: u64, show: bool, msg: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
    ) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(msg.to_owned());
    pb
}

/// Upload `local` as `name`. `ask` is called when the name exists and `choice` is
/// [`Choice::Ask`]; it returns the person's answer or an error explaining why no one
/// could be asked.
pub fn put(
    conn: &mut Conn,
    local: &Path,
    name: &str,
    choice: Choice,
    show: bool,
    ask: &mut dyn FnMut(&str, u64) -> io::Result<Answer>,
) -> io::Result<Stored> {
    let file = File::open(local).map_err(|e| {
        crate::client::stdio::context(&format!("cannot open {}", local.display()), &e)
    })?;
    let size = file.metadata()?.len();
    conn.send(Command::Put { size, name })?;
    match conn.reply()? {
        ServerLine::Ready => {}
        ServerLine::Exists(current) => {
            let answer = match choice {
                Choice::Overwrite => Answer::Overwrite,
                Choice::Append => Answer::Append,
                Choice::Ask => match ask(name, current) {
                    Ok(a) => a,
                    Err(e) => {
                        // Leave the server in a clean state before failing.
                        conn.send(Command::Cancel)?;
                        let _ = conn.reply();
                        return Err(e);
                    }
                },
            };
            let cmd = match answer {
                Answer::Overwrite => Command::Overwrite,
                Answer::Append => Command::Append,
                Answer::Cancel => Command::Cancel,
            };
            conn.send(cmd)?;
            match conn.reply()? {
                ServerLine::Ready => {}
                ServerLine::Cancelled if answer == Answer::Cancel => return Ok(Stored::Cancelled),
                ServerLine::Err { code, text } => return Err(refused(code, text)),
                other => return Err(protocol(format!("unexpected answer to {cmd}: {other:?}"))),
            }
        }
        ServerLine::Err { code, text } => return Err(refused(code, text)),
        other => return Err(protocol(format!("unexpected answer to PUT: {other:?}"))),
    }
    let pb = bar(size, show, name);
    let result = send_payload(conn, file, size, &pb);
    pb.finish_and_clear();
    let crc = result?;
    let what = |e: io::Error| {
        if e.kind() == io::ErrorKind::UnexpectedEof || is_broken(&e) {
            io::Error::new(
                e.kind(),
                format!(
                    "connection lost after all {} were sent, before the server confirmed; \
                     the upload may or may not have been kept",
                    human(size)
                ),
            )
        } else {
            e
        }
    };
    match conn.reply().map_err(what)? {
        ServerLine::Stored { size, crc: theirs } if theirs == crc => Ok(Stored::Ok { size, crc }),
        ServerLine::Stored { crc: theirs, .. } => Err(io::Error::other(format!(
            "crc32 MISMATCH: the server stored {theirs:08x} but we sent {crc:08x}; \
             the file on the server is damaged"
        ))),
        ServerLine::Err { code, text } => Err(refused(code, text)),
        other => Err(protocol(format!(
            "unexpected answer to the upload: {other:?}"
        ))),
    }
}

fn is_broken(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        BrokenPipe | ConnectionReset | ConnectionAborted | UnexpectedEof | TimedOut
    )
}

/// Stream exactly `size` bytes of `file`; returns their crc32.
fn send_payload(conn: &mut Conn, file: File, size: u64, pb: &ProgressBar) -> io::Result<u32> {
    let mut hasher = crc32fast::Hasher::new();
    let mut src = file.take(size);
    let mut buf = vec![0u8; CHUNK];
    let mut sent = 0u64;
    while sent < size {
        let n = match src.read(&mut buf) {
            Ok(0) => {
                return Err(io::Error::other(format!(
                    "the local file shrank while it was being sent ({} of {}); the server kept nothing",
                    human(sent),
                    human(size)
                )));
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(crate::client::stdio::context(
                    "cannot read the local file",
                    &e,
                ));
            }
        };
        if let Err(e) = conn.send_bytes(&buf[..n]) {
            // The server may have said why before closing (a full disk): show that.
            let _ = conn
                .reader()
                .get_ref()
                .set_read_timeout(Some(Duration::from_secs(2)));
            if let Ok(ServerLine::Err { code, text }) = conn.reply() {
                return Err(refused(code, text));
            }
            let why = crate::os_error::describe(&e);
            return Err(io::Error::new(
                e.kind(),
                format!(
                    "connection lost after {} of {} ({why}); the server kept nothing",
                    human(sent),
                    human(size)
                ),
            ));
        }
        hasher.update(&buf[..n]);
        sent += n as u64;
        pb.set_position(sent);
    }
    conn.trace()
        .log(format_args!("sent {size} bytes of payload"));
    Ok(hasher.finalize())
}

/// Where a download goes.
#[derive(Debug, Clone)]
pub enum Sink {
    /// Standard output (`-o -`).
    Stdout,
    /// A file, written under a temporary name and renamed when complete.
    File(PathBuf),
}

/// Download `name` into `sink`; returns its size.
pub fn get(conn: &mut Conn, name: &str, sink: &Sink, show: bool) -> io::Result<u64> {
    conn.send(Command::Get { name })?;
    let size = match conn.reply()? {
        ServerLine::Data(n) => n,
        ServerLine::Err { code, text } => return Err(refused(code, text)),
        other => return Err(protocol(format!("unexpected answer to GET: {other:?}"))),
    };
    let pb = bar(size, show, name);
    let result = match sink {
        Sink::Stdout => {
            let mut out = io::stdout().lock();
            let lost = "the output is incomplete";
            receive(conn, size, &mut out, &pb, lost).and_then(|()| out.flush())
        }
        Sink::File(path) => save(conn, size, path, &pb),
    };
    pb.finish_and_clear();
    result.map(|()| size)
}

/// Receive into `<path>.socklab-part` and rename it into place only when complete, so
/// a broken download never leaves a truncated file under the real name.
fn save(conn: &mut Conn, size: u64, path: &Path, pb: &ProgressBar) -> io::Result<()> {
    let mut part = path.as_os_str().to_owned();
    part.push(".socklab-part");
    let part = PathBuf::from(part);
    let mut file = File::create(&part).map_err(|e| {
        crate::client::stdio::context(&format!("cannot create {}", part.display()), &e)
    })?;
    let result = receive(conn, size, &mut file, pb, "nothing was saved")
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&part, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&part);
    }
    result
}

/// Copy exactly `size` payload bytes to `out`; `lost` says what a broken connection
/// leaves behind.
fn receive(
    conn: &mut Conn,
    size: u64,
    out: &mut dyn Write,
    pb: &ProgressBar,
    lost: &str,
) -> io::Result<()> {
    let mut got = 0u64;
    while got < size {
        let chunk = match conn.reader().fill_buf() {
            Ok([]) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed")),
            Ok(b) => Ok(b),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => Err(e),
        };
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                let why = match e.kind() {
                    io::ErrorKind::UnexpectedEof => "the server closed it".to_owned(),
                    _ => crate::os_error::describe(&e),
                };
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "connection lost after {} of {} ({why}); {lost}",
                        human(got),
                        human(size)
                    ),
                ));
            }
        };
        let n = chunk.len().min((size - got) as usize);
        out.write_all(&chunk[..n])
            .map_err(|e| crate::client::stdio::context("cannot write the download", &e))?;
        conn.reader().consume(n);
        got += n as u64;
        pb.set_position(got);
    }
    conn.trace()
        .log(format_args!("received {size} bytes of payload"));
    Ok(())
}
