//! `socklab get URL`: the lab's "read a web page over a raw socket" (§8), done properly.
//!
//! The lab's Python version sends a request and reads until the server closes, keeping
//! the head in the output. This client sends `GET <target> HTTP/1.1` with `Host`,
//! `User-Agent: socklab/<version>` and `Connection: close`, parses the head with the
//! core's zero-copy parser (at most 100 headers, 64 KiB), then delimits the body the way
//! HTTP/1.1 says — `Content-Length`, chunked, or to the close — so a body cut short is an
//! error instead of a silently truncated page.
//!
//! The body is streamed (never held whole in memory) to stdout, or with `-o FILE` to a
//! temporary file renamed into place once complete (see [`output`]). Only a 2xx body is
//! written to `-o FILE` or, without `-i`, to stdout, so a script never takes an error
//! page for the page it asked for; the message on stderr says the status and that a
//! body was not shown. With `-i` the whole answer is shown on stdout, head and body, as
//! `curl -i` does, since an error page often says why. The exit status is 3 either way.

mod error;
mod fetch;
pub mod output;
pub mod url;

use crate::client::conn::Trace;
pub use error::{EXIT_REDIRECTS, EXIT_STATUS, EXIT_TIMEOUT, EXIT_URL, GetError};
use fetch::Exchange;
use output::Sink;
use socklab_core::http::BodyKind;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use url::Url;

/// Redirects `-L` follows before giving up (§8).
pub const MAX_REDIRECTS: usize = 5;

const AFTER_HELP: &str = "\
Exit status:
  0  the server answered 2xx and the whole body arrived
  1  the transfer failed: malformed response, body cut short (\"connection closed
     after N of M bytes\"), I/O error, or FILE cannot be written
  2  the server cannot be reached (name lookup or connect failed); bad arguments
  3  the final answer was not 2xx (a 3xx without -L counts): \"404 Not Found from
     URL\"
  4  timed out: no data for --timeout seconds
  5  more than 5 redirects with -L
  6  the URL cannot be fetched: malformed, https:// (no TLS), another scheme

-o FILE writes to a temporary file beside FILE and renames it once the body is
complete, so a failed download never leaves a partial FILE. -o - means standard
output. With -i the head (of every response, when -L follows redirects) goes to
standard output. The body of an answer that is not 2xx (an error page) is shown
only with -i, on standard output after its head, and never written to -o FILE.

Examples:
  socklab get http://127.0.0.1:8000/             print a page
  socklab get -i http://example.com/             status line and headers first
  socklab get -L -o page.html http://example.com/a
                                                 follow redirects, save the page
  socklab get 'http://[::1]:8080/x?q=1' --timeout 5
                                                 IPv6, 5 s of silence at most
  socklab get -i http://127.0.0.1:8000/missing   a 404 page, head and body";

/// Flags of `socklab get`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct GetArgs {
    /// The page: http://host[:port][/path][?query]; IPv6 as http://[::1]:8080/.
    pub url: String,
    /// Write the body to FILE (complete, or not at all) instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print the response head (status line and headers) before the body.
    #[arg(short, long)]
    pub include: bool,
    /// Follow redirects (301, 302, 303, 307, 308 with a Location), at most 5.
    #[arg(short = 'L', long)]
    pub location: bool,
    /// Give up when connecting, or any single read or write, takes longer than S seconds.
    #[arg(long, value_name = "S", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Log connect, send, receive and disconnect on stderr.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Run the client; returns the process exit code.
pub fn run(args: &GetArgs) -> ExitCode {
    match get(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("socklab: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn is_redirect(code: u16) -> bool {
    matches!(code, 301 | 302 | 303 | 307 | 308)
}

fn get(args: &GetArgs) -> Result<(), GetError> {
    let mut url = Url::parse(&args.url).map_err(GetError::Url)?;
    let timeout = Duration::from_secs(args.timeout);
    let mut redirects = 0;
    loop {
        let trace = Trace::new(args.verbose, &url.addr());
        trace.log(format_args!("GET {url}"));
        let mut ex = Exchange::open(&url, timeout, trace.clone())?;
        let head = ex.read_head(args.include)?;
        let status = format!("{} {} from {url}", head.code, head.reason);
        if let (true, true, Some(location)) =
            (args.location, is_redirect(head.code), &head.location)
        {
            if redirects == MAX_REDIRECTS {
                return Err(GetError::Redirects(format!(
                    "too many redirects (more than {MAX_REDIRECTS}): {status} to {location}"
                )));
            }
            redirects += 1;
            url = url.join(location).map_err(GetError::Url)?;
            trace.log(format_args!("redirected to {url}"));
            continue;
        }
        if !(200..300).contains(&head.code) {
            let redirect = match &head.location {
                Some(l) if is_redirect(head.code) && !args.location => Some(l),
                _ => None,
            };
            let mut status = match redirect {
                Some(l) => format!("{status} (redirect to {l}; -L follows it)"),
                None => status,
            };
            if args.include {
                // The whole answer, as `curl -i` shows it: an error page often says why.
                let mut sink = Sink::open(None).map_err(GetError::Failed)?;
                ex.copy_body(head.body, &mut sink)?;
                sink.finish().map_err(GetError::Failed)?;
            } else if redirect.is_none() {
                // Not read (a stalled server must not delay the answer), only mentioned.
                match head.body {
                    BodyKind::Length(0) | BodyKind::None => {}
                    BodyKind::Length(n) => {
                        status.push_str(&format!(" (its {n}-byte body is not shown; -i shows it)"));
                    }
                    BodyKind::Chunked | BodyKind::ToClose => {
                        status.push_str(" (-i shows its body, if any)");
                    }
                }
            }
            return Err(GetError::Status(status));
        }
        let mut sink = Sink::open(args.output.as_deref()).map_err(GetError::Failed)?;
        let len = ex.copy_body(head.body, &mut sink)?;
        sink.finish().map_err(GetError::Failed)?;
        if head.body != BodyKind::None {
            trace.log(format_args!("body complete: {len} bytes"));
        }
        return Ok(());
    }
}
