//! Command-line parsing and dispatch.
//!
//! `socklab serve <service>` runs servers; every other subcommand is a client. Flags that
//! every TCP server shares live in `ServerFlags` and are flattened into each `serve`
//! subcommand, so a new service gets `--host`, `--max-conns`, `-v` and the rest for free
//! and they read the same everywhere. UDP chat has no connections: it takes only the
//! `CommonFlags` part and refuses the connection flags by name.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use socklab_core::Duration;
use socklab_core::echo::{DEFAULT_CHUNK, EchoConfig};
use socklab_core::frame::DEFAULT_MAX_FRAME;
use socklab_core::quiz::QuizConfig;

use std::sync::Arc;

use socklab_core::files::{DEFAULT_MAX_FILE_SIZE, DEFAULT_MIN_UPLOAD_RATE, FilesConfig};

mod manual;

use crate::client::auth::{self, Action};
use crate::log::{Level, Logger};
use crate::pool::Pool;
use crate::server::AuthService;
use crate::server::FilesService;
use crate::server::auth::secret::Cost;
use crate::server::chat::{ChatListen, ChatService};
use crate::server::files::dir::{Dir, Startup};
use crate::server::files::temp::Temporaries;
use crate::server::ident::IdentService;
use crate::server::ident::db::IdentDb;
use crate::server::{self, EchoService, Listen, QuizService, Service};

/// Socket-programming lab services and clients.
#[derive(Debug, Parser)]
#[command(name = "socklab", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

const EXAMPLES: &str = "\
Examples:
  socklab serve all                 every service, on this machine only
  socklab serve all --host ::       every service, on every IPv6/IPv4 address
  socklab serve quiz --seed 7       the same quiz for every player
  socklab echo                      talk to the echo server
  socklab quiz                      let the client play the quiz
  socklab files put notes.txt       upload a file to the files server
  socklab login --user alice        log in; whoami, passwd, logout use the token

Every command lists its own flags, with examples: socklab serve --help,
socklab serve all --help, socklab files --help, ...";

// Parsed once per run and matched at once: the size of the largest variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Run a server: one service, or all of them.
    Serve(ServeArgs),
    /// Talk to an echo server.
    #[command(after_help = ECHO_CLIENT_EXAMPLES)]
    Echo(crate::client::echo::EchoClientArgs),
    /// Play the arithmetic quiz.
    #[command(after_help = QUIZ_CLIENT_EXAMPLES)]
    Quiz(crate::client::quiz::QuizClientArgs),
    /// List, upload and download files (the files service).
    Files(crate::client::files::FilesClientArgs),
    /// Fetch a web page with HTTP/1.1 GET (http:// only).
    Get(crate::client::get::GetArgs),
    /// Introduce yourself to the ident server (it remembers your IP address).
    #[command(after_help = IDENT_CLIENT_EXAMPLES)]
    Ident(crate::client::ident::IdentClientArgs),
    /// Chat with everyone on a chat server (UDP).
    #[command(after_help = CHAT_CLIENT_EXAMPLES)]
    Chat(crate::client::chat::ChatClientArgs),
    /// Create a user on the auth server (asks for the password).
    #[command(after_help = AUTH_CLIENT_EXAMPLES)]
    Register(crate::client::auth::UserArgs),
    /// Log in and save the session token in your config folder.
    #[command(after_help = AUTH_CLIENT_EXAMPLES)]
    Login(crate::client::auth::UserArgs),
    /// Show who the saved token logs you in as.
    #[command(after_help = AUTH_CLIENT_EXAMPLES)]
    Whoami(crate::client::auth::AuthClientArgs),
    /// End the saved session and forget its token.
    #[command(after_help = AUTH_CLIENT_EXAMPLES)]
    Logout(crate::client::auth::AuthClientArgs),
    /// Change your password (asks for the old and the new one).
    #[command(after_help = AUTH_CLIENT_EXAMPLES)]
    Passwd(crate::client::auth::AuthClientArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = manual::COMPLETIONS_EXAMPLES)]
    Completions(manual::CompletionsArgs),
    /// Print the manual page (roff), or write one for every command.
    #[command(after_help = manual::MAN_EXAMPLES)]
    Man(manual::ManArgs),
}

const ECHO_CLIENT_EXAMPLES: &str = "\
Examples:
  socklab echo                        type lines; exit, STOP or Ctrl-D ends
  socklab echo < blob > back          a binary-safe pipe: back is blob again
  socklab echo --host ::1 --port 4000 -v
  socklab echo --framed               one frame per line (serve echo --framed)";

const QUIZ_CLIENT_EXAMPLES: &str = "\
Examples:
  socklab quiz                        the client solves every problem
  socklab quiz --interactive          you type the answers
  socklab quiz -v --host 192.168.69.1 ... and see every chunk sent and received";

const IDENT_CLIENT_EXAMPLES: &str = "\
Examples:
  socklab ident --name Ann            give this name if the server asks
  socklab ident                       asks you for your name if the server does";

const CHAT_CLIENT_EXAMPLES: &str = "\
Examples:
  socklab chat --nick ann             type lines; /who lists members, /quit leaves
  socklab chat --nick bob --host 192.168.1.20";

const AUTH_CLIENT_EXAMPLES: &str = "\
Examples:
  socklab register --user alice       create the user (asks the password twice)
  socklab login --user alice          saves the token for the commands below
  socklab whoami                      who the saved token logs you in as
  socklab passwd                      asks the old password, then the new one
  socklab logout                      ends the session, forgets the token
  printf 'secret pw\\n' | socklab login --user alice   a script: no prompt";

#[derive(Debug, Args)]
#[command(
    subcommand_value_name = "SERVICE",
    subcommand_help_heading = "Services"
)]
struct ServeArgs {
    #[command(subcommand)]
    service: ServeCommand,
}

#[derive(Debug, Subcommand)]
enum ServeCommand {
    /// Echo every byte back (TCP 9090).
    #[command(after_help = ECHO_EXAMPLES)]
    Echo {
        #[command(flatten)]
        port: PortFlag,
        #[command(flatten)]
        server: ServerFlags,
        #[command(flatten)]
        echo: EchoFlags,
    },
    /// The arithmetic quiz (TCP 31337).
    #[command(after_help = QUIZ_EXAMPLES)]
    Quiz {
        #[command(flatten)]
        port: PortFlag,
        #[command(flatten)]
        server: ServerFlags,
        #[command(flatten)]
        quiz: QuizFlags,
    },
    /// List, upload and download files in one folder (TCP 8020).
    #[command(after_help = FILES_EXAMPLES)]
    Files {
        #[command(flatten)]
        port: PortFlag,
        #[command(flatten)]
        server: ServerFlags,
        #[command(flatten)]
        files: FilesFlags,
    },
    /// Greet clients by IP address, asking the name of new ones (TCP 9091).
    #[command(after_help = IDENT_EXAMPLES)]
    Ident {
        #[command(flatten)]
        port: PortFlag,
        #[command(flatten)]
        server: ServerFlags,
        /// The name table (`ip<TAB>name` lines); created with the first name.
        #[arg(long, value_name = "FILE", default_value = IDENT_DB, help_heading = IDENT_HEADING)]
        db: PathBuf,
        /// Remember at most N addresses (and at most 256 in one IPv6 /64); a new client
        /// beyond that hears "Sorry, I cannot remember any more names."
        #[arg(long, value_name = "N", default_value_t = server::ident::db::MAX_NAMES,
              help_heading = IDENT_HEADING)]
        max_names: usize,
        /// Milliseconds each name store sleeps first: a slow disk, for tests.
        #[arg(long, value_name = "MS", default_value_t = 0, hide = true)]
        store_delay: u64,
    },
    /// A chat room over UDP datagrams (UDP 9093).
    #[command(after_help = CHAT_EXAMPLES)]
    Chat {
        #[command(flatten)]
        port: PortFlag,
        #[command(flatten)]
        server: CommonFlags,
        #[command(flatten)]
        chat: ChatFlags,
        #[command(flatten)]
        refused: NotForChat,
    },
    /// Users, passwords and session tokens (TCP 9092).
    #[command(after_help = AUTH_EXAMPLES)]
    Auth {
        #[command(flatten)]
        port: PortFlag,
        #[command(flatten)]
        server: ServerFlags,
        /// Folder holding the user file and the session file; created if missing.
        #[arg(long, value_name = "DIR", default_value = "socklab-auth", help_heading = AUTH_HEADING)]
        dir: PathBuf,
        #[command(flatten)]
        auth: AuthFlags,
    },
    /// Every service, each on its default port, in one process.
    #[command(after_help = ALL_EXAMPLES)]
    All {
        #[command(flatten)]
        server: ServerFlags,
        #[command(flatten)]
        echo: EchoFlags,
        #[command(flatten)]
        quiz: QuizFlags,
        #[command(flatten)]
        files: FilesFlags,
        /// The ident service's name table (`serve ident --db`).
        #[arg(long, value_name = "FILE", default_value = IDENT_DB, help_heading = IDENT_HEADING)]
        ident_db: PathBuf,
        /// The ident service's address limit (`serve ident --max-names`).
        #[arg(long, value_name = "N", default_value_t = server::ident::db::MAX_NAMES,
              help_heading = IDENT_HEADING)]
        ident_max_names: usize,
        #[command(flatten)]
        chat: ChatFlags,
        /// Folder of the auth service's user and session files (`serve auth --dir`).
        #[arg(long, value_name = "DIR", default_value = "socklab-auth", help_heading = AUTH_HEADING)]
        auth_dir: PathBuf,
        #[command(flatten)]
        auth: AuthFlags,
    },
}

const CHAT_EXAMPLES: &str = "\
Examples:
  socklab serve chat                          UDP 127.0.0.1:9093, up to 1000 members
  socklab serve chat --host 0.0.0.0 -v        the whole network, one log line per datagram
  socklab chat --nick ann                     join it (type lines; /who, /quit)";

/// Flags of the chat service (§6).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Chat options")]
struct ChatFlags {
    /// Drop a member that sent nothing for this many seconds (clients PING every 20).
    #[arg(long, value_name = "S", default_value_t = server::chat::DEFAULT_MEMBER_TIMEOUT,
          value_parser = clap::value_parser!(u64).range(1..))]
    member_timeout: u64,
    /// Most members at once; a JOIN over it gets `ERR busy`.
    #[arg(long, value_name = "N", default_value_t = server::chat::DEFAULT_MAX_MEMBERS,
          value_parser = clap::value_parser!(u32).range(1..=server::chat::CAPACITY as i64))]
    max_members: u32,
    /// Most members from one IP address (an IPv6 client by its /64) at once; a JOIN
    /// over it gets `ERR busy`.
    #[arg(long, value_name = "N", default_value_t = server::chat::DEFAULT_MAX_MEMBERS_PER_IP,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_members_per_ip: u32,
}

impl ChatFlags {
    fn listen(&self, port: Option<u16>) -> ChatListen {
        ChatListen {
            service: ChatService {
                member_timeout: Duration::from_secs(self.member_timeout),
                max_members: self.max_members as usize,
                max_members_per_ip: self.max_members_per_ip as usize,
            },
            port: port.unwrap_or(ChatService::DEFAULT_PORT),
        }
    }
}

/// The help heading of the ident service's flags: `serve ident` and `serve all` both
/// flatten flags of several services, so each flag names its heading itself rather
/// than inheriting whichever flattened struct came before it.
const IDENT_HEADING: &str = "Ident options";

/// The help heading of the auth service's flags (see [`IDENT_HEADING`]).
const AUTH_HEADING: &str = "Auth options";

/// Default `--db` of the ident service (§4).
const IDENT_DB: &str = "socklab-ident.tsv";

const IDENT_EXAMPLES: &str = "\
Examples:
  socklab serve ident                        names kept in ./socklab-ident.tsv
  socklab serve ident --host :: --db /srv/lab/ident.tsv
  socklab ident --name Ann                   introduce yourself
  nc 127.0.0.1 9091";

const AUTH_EXAMPLES: &str = "\
Examples:
  socklab serve auth                      users and sessions in ./socklab-auth
  socklab serve auth --token-ttl 3600     tokens live one hour
  socklab register --user alice           then login, whoami, passwd, logout";

/// Flags of the auth service (§5).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = AUTH_HEADING)]
struct AuthFlags {
    /// Seconds a login token stays valid.
    #[arg(long, value_name = "S", default_value_t = socklab_core::auth::DEFAULT_TOKEN_TTL,
          value_parser = clap::value_parser!(u64).range(1..))]
    token_ttl: u64,
    /// Accept at most N users; REGISTER beyond that answers `ERR busy`.
    #[arg(long, value_name = "N", default_value_t = server::auth::backend::MAX_USERS)]
    max_users: usize,
    /// Accept at most N new users per IP address (an IPv6 client by its /64) within any
    /// hour; REGISTER beyond that answers `ERR throttled`.
    #[arg(long, value_name = "N",
          default_value_t = server::auth::register_limit::DEFAULT_PER_HOUR,
          value_parser = clap::value_parser!(u32).range(1..))]
    register_limit: u32,
    /// Argon2id memory in KiB (tests only; the default is OWASP's 19456).
    #[arg(long, value_name = "KIB", default_value_t = 19 * 1024, hide = true)]
    argon2_memory: u32,
    /// Argon2id passes (tests only; the default is OWASP's 2).
    #[arg(long, value_name = "N", default_value_t = 2, hide = true)]
    argon2_passes: u32,
}

impl AuthFlags {
    fn service(&self, dir: &std::path::Path, idle: Duration) -> Result<AuthService, String> {
        let cost = Cost {
            memory_kib: self.argon2_memory,
            passes: self.argon2_passes,
        };
        let ttl = std::time::Duration::from_secs(self.token_ttl);
        Ok(AuthService::new(dir, ttl, cost, idle)?
            .with_max_users(self.max_users)
            .with_register_limit(self.register_limit))
    }
}

const ECHO_EXAMPLES: &str = "\
Examples:
  socklab serve echo                       listen on 127.0.0.1:9090
  socklab serve echo --upper --allow-stop  capitals; the line `stop` stops it
  socklab serve echo --port 0 -vv          any free port, hex dump of each chunk
  printf 'hello\\nquit\\n' | nc 127.0.0.1 9090";

const QUIZ_EXAMPLES: &str = "\
Examples:
  socklab serve quiz                        10 problems, operands 0..=999
  socklab serve quiz --count 3 --seed 42    the same 3 problems for everyone
  socklab serve quiz --min=-50 --max 50     negative operands too
  nc 127.0.0.1 31337";

const FILES_EXAMPLES: &str = "\
Examples:
  socklab serve files                         store files in ./socklab-files
  socklab serve files --dir /srv/lab --max-file-size 10485760
  printf 'LIST\\nQUIT\\n' | nc 127.0.0.1 8020";

const ALL_EXAMPLES: &str = "\
Examples:
  socklab serve all                 echo 9090, quiz 31337, files 8020, ident 9091,
                                    auth 9092, chat 9093 (UDP)
  socklab serve all --port-auto     a port that is taken moves on to the next one
  socklab serve all --host 0.0.0.0  serve the network, not only this machine";

const SERVE_EXAMPLES: &str = "\
Examples:
  socklab serve echo                  echo server on 127.0.0.1:9090
  socklab serve echo --port 0 -v      any free port; a log line per chunk
  socklab serve all --port-auto       every service; a taken port moves on
  socklab serve files --help          the files service's own flags";

/// The command line as parsed, documented and completed. Derive cannot say one thing:
/// `serve --help` should list the flags every server takes, yet they belong to each
/// service's command (they go after the service's name) and clap shows a command's
/// own flags only. So they are rendered here from the very structs each service
/// flattens, and cannot drift from them.
pub fn command() -> clap::Command {
    command_wrapped_at(None)
}

/// [`command`], with the text rendered into `serve`'s help wrapped at `width` columns
/// (the man page's) instead of the terminal's.
fn command_wrapped_at(width: Option<usize>) -> clap::Command {
    let cli = Cli::command().mut_subcommand("serve", |serve| {
        let styles = serve.get_styles().clone();
        let mut common = clap::Command::new("serve");
        if let Some(width) = width {
            common = common.term_width(width);
        }
        let common = ServerFlags::augment_args(PortFlag::augment_args(common))
            .disable_help_flag(true)
            .styles(styles.clone())
            .help_template("{options}")
            .render_help();
        let heading = styles.get_header();
        let text = format!(
            "{heading}Options every server takes{heading:#} (after the service's name; \
             `all` takes no --port):\n{}\n\n`serve chat` (UDP: no connections) takes only --host, \
             --port, --port-auto and the log flags.\n\n{SERVE_EXAMPLES}",
            common.ansi().to_string().trim_end()
        );
        serve.after_help(clap::builder::StyledStr::from(text))
    });
    inherit_examples(cli)
}

/// A command without examples of its own (`files put`) shows its parent's, which cover
/// it: every help screen ends with examples.
fn inherit_examples(cmd: clap::Command) -> clap::Command {
    let examples = cmd.get_after_help().cloned();
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .collect();
    names.into_iter().fold(cmd, |cmd, name| {
        cmd.mut_subcommand(name, |sub| {
            let sub = match (&examples, sub.get_after_help()) {
                (Some(text), None) => sub.after_help(text.clone()),
                _ => sub,
            };
            inherit_examples(sub)
        })
    })
}

/// Flags of the TCP servers (§0): every server's [`CommonFlags`] and the connection
/// flags.
#[derive(Debug, Clone, Args)]
struct ServerFlags {
    #[command(flatten)]
    common: CommonFlags,
    /// Close a connection that sent nothing for this many seconds.
    #[arg(long, value_name = "S", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..))]
    idle_timeout: u64,
    /// Most connections open at once; more are closed as soon as accepted.
    #[arg(long, value_name = "N", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_conns: u32,
    /// Event-loop threads; connections are spread over them round-robin. Defaults to
    /// the number of CPU cores; 1 gives the lab's classic single-threaded server.
    #[arg(long, value_name = "N",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    threads: Option<u16>,
    /// On SIGINT/SIGTERM, let a file transfer or a command under way go on for up to
    /// this many seconds before cutting it (idle connections close at once).
    #[arg(long, value_name = "S", default_value_t = 5)]
    drain_timeout: u64,
}

/// Connection flags `serve chat` refuses with a reason rather than ignore: UDP has no
/// connections. Hidden, so help lists only what applies.
#[derive(Debug, Clone, Args)]
struct NotForChat {
    #[arg(long, value_name = "N", hide = true)]
    max_conns: Option<String>,
    #[arg(long, value_name = "S", hide = true)]
    idle_timeout: Option<String>,
    #[arg(long, value_name = "N", hide = true)]
    threads: Option<String>,
    #[arg(long, value_name = "S", hide = true)]
    drain_timeout: Option<String>,
}

impl NotForChat {
    /// Why the first refused flag given does not apply, if any was given.
    fn reason(&self) -> Option<&'static str> {
        let given = |f: &Option<String>| f.is_some();
        if given(&self.max_conns) {
            Some(
                "--max-conns does not apply to chat: UDP has no connections (--max-members limits the room)",
            )
        } else if given(&self.idle_timeout) {
            Some(
                "--idle-timeout does not apply to chat: UDP has no connections (--member-timeout drops silent members)",
            )
        } else if given(&self.threads) {
            Some("--threads does not apply to chat: one thread serves its one UDP socket")
        } else if given(&self.drain_timeout) {
            Some("--drain-timeout does not apply to chat: a datagram has nothing to drain")
        } else {
            None
        }
    }
}

/// Flags every server shares, TCP or UDP (§0).
#[derive(Debug, Clone, Args)]
struct CommonFlags {
    /// Address to listen on: 127.0.0.1 for this machine only, 0.0.0.0 or :: for the
    /// network. IPv4 or IPv6.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    host: IpAddr,
    /// When the port is taken, try the next ones (up to 100).
    #[arg(long)]
    port_auto: bool,
    /// Log more: -v one line per chunk, -vv also a hex dump of each chunk.
    #[arg(short, long, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Log only errors.
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
    /// Append the log to FILE instead of standard error.
    #[arg(long, value_name = "FILE")]
    log_file: Option<PathBuf>,
}

/// `--port`, for the commands that serve a single service.
#[derive(Debug, Clone, Args)]
struct PortFlag {
    /// Port to listen on (default: the service's own port); 0 lets the OS choose.
    #[arg(long)]
    port: Option<u16>,
}

/// Flags of the echo service (§1).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Echo options")]
struct EchoFlags {
    /// Read at most this many bytes at a time.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_CHUNK,
          value_parser = parse_chunk)]
    chunk: usize,
    /// Upper-case ASCII letters on the way back.
    #[arg(long)]
    upper: bool,
    /// Let a client stop the whole server with the line `stop`.
    #[arg(long)]
    allow_stop: bool,
    /// Echo length-prefixed frames (4-byte big-endian length, then payload).
    #[arg(long)]
    framed: bool,
    /// Largest frame payload accepted with --framed; a longer one closes the connection.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FRAME)]
    max_frame: u32,
}

/// Flags of the quiz service (§2).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Quiz options")]
struct QuizFlags {
    /// Number of problems to solve.
    #[arg(long, value_name = "N", default_value_t = QuizConfig::DEFAULT_COUNT)]
    count: u32,
    /// Give every player the same problems, on every run.
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Smallest operand (may be negative: --min=-50).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    min: i64,
    /// Largest operand.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 999,
        allow_negative_numbers = true
    )]
    max: i64,
    /// Seconds allowed for each answer.
    #[arg(long, value_name = "S", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    answer_timeout: u64,
}

/// Flags of the files service (§3).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Files options")]
struct FilesFlags {
    /// Folder the files are kept in; created if missing.
    #[arg(long, value_name = "DIR", default_value = "socklab-files")]
    dir: PathBuf,
    /// Largest file stored, in bytes (an APPEND counts the whole file).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_FILE_SIZE)]
    max_file_size: u64,
    /// Slowest upload kept going, in bytes per second over a minute: a slower one is
    /// ended like an idle connection, so nobody holds a name by trickling (0: no limit).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MIN_UPLOAD_RATE)]
    min_upload_rate: u64,
    /// Seconds the upload rate is measured over (60); shorter for tests.
    #[arg(long, value_name = "S", default_value_t = 60, hide = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    upload_rate_window: u64,
    /// Milliseconds each chunk write sleeps: a slow disk, for tests.
    #[arg(long, value_name = "MS", default_value_t = 0, hide = true)]
    io_delay: u64,
    /// Give upload temporaries random names even where O_TMPFILE works: the fallback
    /// for filesystems without it, for tests.
    #[arg(long, hide = true)]
    named_temporaries: bool,
}

impl FilesFlags {
    /// Open the folder (removing stale temporaries) and start the worker pool. The
    /// message says what went wrong with which folder.
    fn service(&self, idle: Duration) -> Result<(FilesService, Startup), String> {
        let temporaries = if self.named_temporaries {
            Temporaries::Named
        } else {
            Temporaries::Unnamed
        };
        let (dir, stale) = Dir::open_with(&self.dir, temporaries).map_err(|e| {
            format!(
                "cannot use {} as the files folder: {}",
                self.dir.display(),
                crate::os_error::describe(&e)
            )
        })?;
        let pool = Pool::new("socklab-io", server::files::WORKERS)
            .map_err(|e| format!("cannot start the file I/O threads: {e}"))?;
        let config = FilesConfig {
            max_file_size: self.max_file_size,
            idle,
            min_upload_rate: self.min_upload_rate,
            rate_window: Duration::from_secs(self.upload_rate_window),
        };
        let svc = FilesService {
            config,
            dir,
            pool: Arc::new(pool),
            io_delay: std::time::Duration::from_millis(self.io_delay),
        };
        Ok((svc, stale))
    }
}

/// Entries named like upload temporaries shown one by one at start; more are counted.
const SKIPPED_SHOWN: usize = 10;

/// What opening the files folder found, for the person running the server.
fn log_files_startup(log: &Logger, dir: &Dir, startup: &Startup) {
    let path = dir.path().display();
    if startup.removed > 0 {
        let what = format_args!(
            "removed {} unfinished upload(s) left in {path} by an earlier run",
            startup.removed
        );
        log.event("files", server::Pid, what);
    }
    for (name, why) in startup.skipped.iter().take(SKIPPED_SHOWN) {
        let what = format_args!("skipped {name:?} in {path} at start: {why}; left as it is");
        log.event("files", server::Pid, what);
    }
    if startup.skipped.len() > SKIPPED_SHOWN {
        let more = startup.skipped.len() - SKIPPED_SHOWN;
        let what = format_args!("skipped {more} more entries named like upload temporaries");
        log.event("files", server::Pid, what);
    }
    if dir.temporaries() == Temporaries::Named {
        let what = format_args!(
            "upload temporaries in {path} get random names (no O_TMPFILE here, or \
             --named-temporaries)"
        );
        log.event("files", server::Pid, what);
    }
}

/// Load the ident table and start its writer thread; the message names the file.
fn open_ident(
    path: &std::path::Path,
    max_names: usize,
    idle: Duration,
) -> Result<(IdentService, server::ident::db::Loaded), String> {
    let (db, loaded) = IdentDb::open(path).map_err(|e| {
        format!(
            "cannot read the ident table {}: {}",
            path.display(),
            crate::os_error::describe(&e)
        )
    })?;
    let svc = IdentService::new(Arc::new(db.with_max_names(max_names)), idle)
        .map_err(|e| format!("cannot start the ident writer thread: {e}"))?;
    Ok((svc, loaded))
}

/// The largest `--chunk`: reads land in one shared buffer of this size at most.
const MAX_CHUNK: usize = 1 << 20;

fn parse_chunk(s: &str) -> Result<usize, String> {
    let n: usize = s.parse().map_err(|e| format!("{e}"))?;
    if (1..=MAX_CHUNK).contains(&n) {
        Ok(n)
    } else {
        Err(format!("must be between 1 and {MAX_CHUNK} bytes"))
    }
}

impl EchoFlags {
    fn service(&self, idle: Duration) -> EchoService {
        EchoService {
            config: EchoConfig {
                upper: self.upper,
                allow_stop: self.allow_stop,
                framed: self.framed,
                max_frame: self.max_frame,
            },
            chunk: self.chunk,
            idle,
        }
    }
}

impl QuizFlags {
    /// The quiz service, or clap's usage error for `serve <subcommand>` (exit 2) when
    /// the flags contradict each other.
    fn service(&self, idle: Duration, subcommand: &str) -> QuizService {
        let answer = Duration::from_secs(self.answer_timeout);
        let config = match QuizConfig::new(self.count, self.min, self.max, answer) {
            Ok(c) => c,
            Err(e) => usage_error(subcommand, e),
        };
        QuizService {
            config,
            seed: self.seed,
            idle,
        }
    }
}

impl ServerFlags {
    fn idle(&self) -> Duration {
        Duration::from_secs(self.idle_timeout)
    }

    /// Chat serves no TCP connection: the connection flags keep their defaults, which
    /// only size an event loop with no listener.
    fn udp_only(common: CommonFlags) -> ServerFlags {
        ServerFlags {
            common,
            idle_timeout: 300,
            max_conns: 10_000,
            threads: Some(1),
            drain_timeout: 0,
        }
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit());
    match cli.command {
        Command::Echo(a) => crate::client::echo::run(&a, a.verbose),
        Command::Quiz(a) => crate::client::quiz::run(&a, a.verbose),
        Command::Files(a) => crate::client::files::run(&a),
        Command::Serve(s) => serve(s.service),
        Command::Get(a) => crate::client::get::run(&a),
        Command::Ident(a) => crate::client::ident::run(&a),
        Command::Chat(a) => crate::client::chat::run(&a),
        Command::Register(a) => auth::run(Action::Register, &a.server, Some(&a.user)),
        Command::Login(a) => auth::run(Action::Login, &a.server, Some(&a.user)),
        Command::Whoami(a) => auth::run(Action::Whoami, &a, None),
        Command::Logout(a) => auth::run(Action::Logout, &a, None),
        Command::Passwd(a) => auth::run(Action::Passwd, &a, None),
        Command::Completions(a) => manual::completions(&a),
        Command::Man(a) => manual::man(&a),
    }
}

fn serve(cmd: ServeCommand) -> ExitCode {
    // Stale upload temporaries removed from the files folder, reported once logging is up.
    let mut stale = None;
    // The auth service, told about the log once it exists.
    let mut auth_log: Option<AuthService> = None;
    let mut files = |flags: &FilesFlags, idle| match flags.service(idle) {
        Ok((svc, n)) => {
            stale = Some((n, svc.dir.clone()));
            Ok(svc)
        }
        Err(msg) => {
            eprintln!("socklab: {msg}");
            Err(ExitCode::FAILURE)
        }
    };
    // The ident table, whose logger is set once logging is up.
    let mut ident_db = None;
    let mut ident = |path: &PathBuf, max, idle| match open_ident(path, max, idle) {
        Ok((svc, loaded)) => {
            ident_db = Some((svc.db.clone(), loaded));
            Ok(svc)
        }
        Err(msg) => {
            eprintln!("socklab: {msg}");
            Err(ExitCode::FAILURE)
        }
    };
    let mut datagrams = Vec::new();
    let takes_port = !matches!(cmd, ServeCommand::All { .. });
    let shared = cmd.server();
    let opts = server::Options {
        host: shared.common.host,
        port_auto: shared.common.port_auto,
        max_conns: shared.max_conns as usize,
        threads: shared.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            usize::from,
        ),
        drain: Duration::from_secs(shared.drain_timeout),
    };
    // Every port first, before any store is opened: a server that cannot have one of
    // them says only that, and leaves the folders of the server that has it alone.
    let sockets = match server::bind(&cmd.sockets(), &opts) {
        Ok(b) => b,
        Err(e) => {
            match bind_hint(&e, takes_port) {
                Some(hint) => eprintln!("socklab: {e} ({hint})"),
                None => eprintln!("socklab: {e}"),
            }
            return ExitCode::FAILURE;
        }
    };
    let (flags, listens) = match cmd {
        ServeCommand::Echo { server, port, echo } => {
            let svc = echo.service(server.idle());
            let listen = single(Box::new(svc), port.port);
            (server, vec![listen])
        }
        ServeCommand::Quiz { server, port, quiz } => {
            let svc = quiz.service(server.idle(), "quiz");
            let listen = single(Box::new(svc), port.port);
            (server, vec![listen])
        }
        ServeCommand::Files {
            server,
            port,
            files: f,
        } => {
            let svc = match files(&f, server.idle()) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let listen = single(Box::new(svc), port.port);
            (server, vec![listen])
        }
        ServeCommand::Ident {
            server,
            port,
            db,
            max_names,
            store_delay,
        } => {
            let mut svc = match ident(&db, max_names, server.idle()) {
                Ok(s) => s,
                Err(code) => return code,
            };
            svc.store_delay = std::time::Duration::from_millis(store_delay);
            (server, vec![single(Box::new(svc), port.port)])
        }
        ServeCommand::Chat {
            server,
            port,
            chat,
            refused,
        } => {
            if let Some(why) = refused.reason() {
                usage_error("chat", why);
            }
            datagrams.push(chat.listen(port.port));
            (ServerFlags::udp_only(server), Vec::new())
        }
        ServeCommand::Auth {
            server,
            port,
            dir,
            auth,
        } => {
            let svc = match auth.service(&dir, server.idle()) {
                Ok(s) => {
                    auth_log = Some(s.clone());
                    s
                }
                Err(msg) => {
                    eprintln!("socklab: {msg}");
                    return ExitCode::FAILURE;
                }
            };
            let listen = single(Box::new(svc), port.port);
            (server, vec![listen])
        }
        ServeCommand::All {
            server,
            echo,
            quiz,
            files: f,
            ident_db: db,
            ident_max_names,
            chat,
            auth_dir,
            auth,
        } => {
            datagrams.push(chat.listen(None));
            let files = match files(&f, server.idle()) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let ident = match ident(&db, ident_max_names, server.idle()) {
                Ok(s) => s,
                Err(code) => return code,
            };
            let auth = match auth.service(&auth_dir, server.idle()) {
                Ok(s) => {
                    auth_log = Some(s.clone());
                    s
                }
                Err(msg) => {
                    eprintln!("socklab: {msg}");
                    return ExitCode::FAILURE;
                }
            };
            // Every service implemented so far, each on its §0 default port.
            let services: Vec<Box<dyn Service>> = vec![
                Box::new(echo.service(server.idle())),
                Box::new(quiz.service(server.idle(), "all")),
                Box::new(files),
                Box::new(ident),
                Box::new(auth),
            ];
            let listens = services.into_iter().map(|s| single(s, None)).collect();
            (server, listens)
        }
    };
    let common = &flags.common;
    let level = Level::from_flags(common.quiet, common.verbose);
    let log = match &common.log_file {
        None => Logger::stderr(level),
        Some(path) => match Logger::file(level, path) {
            Ok(l) => l,
            Err(e) => {
                let why = crate::os_error::describe(&e);
                eprintln!("socklab: cannot open log file {}: {why}", path.display());
                return ExitCode::FAILURE;
            }
        },
    };
    if let Some((startup, dir)) = stale {
        dir.set_logger(log.clone());
        log_files_startup(&log, &dir, &startup);
    }
    if let Some((db, loaded)) = ident_db {
        db.set_logger(log.clone());
        let what = format_args!(
            "{} name(s) loaded from {}{}",
            loaded.names,
            db.path().display(),
            if loaded.skipped > 0 {
                format!(" ({} malformed line(s) ignored)", loaded.skipped)
            } else {
                String::new()
            }
        );
        log.event("ident", server::Pid, what);
    }
    if let Some(svc) = auth_log {
        svc.set_logger(&log);
    }
    match server::serve(sockets, listens, datagrams, &opts, log.clone()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // The message must reach the user even when the log goes to a file.
            eprintln!("socklab: {e:#}");
            if common.log_file.is_some() {
                log.error("socklab", server::Pid, format_args!("{e:#}"));
            }
            ExitCode::FAILURE
        }
    }
}

impl ServeCommand {
    /// The flags every server shares.
    /// The server flags, with chat's connection flags (which it refuses) at defaults.
    fn server(&self) -> ServerFlags {
        match self {
            ServeCommand::Echo { server, .. }
            | ServeCommand::Quiz { server, .. }
            | ServeCommand::Files { server, .. }
            | ServeCommand::Ident { server, .. }
            | ServeCommand::Auth { server, .. }
            | ServeCommand::All { server, .. } => server.clone(),
            ServeCommand::Chat { server, .. } => ServerFlags::udp_only(server.clone()),
        }
    }

    /// The sockets this command listens on, known before any service is set up, in
    /// the order `serve` takes them: TCP as the listening lines go, then UDP (chat).
    fn sockets(&self) -> Vec<server::Socket> {
        let socket = |service: &'static str, port: Option<u16>| server::Socket {
            service,
            port: port.unwrap_or_else(|| server::default_port(service)),
            udp: service == ChatService::NAME,
        };
        match self {
            ServeCommand::Echo { port, .. } => vec![socket("echo", port.port)],
            ServeCommand::Quiz { port, .. } => vec![socket("quiz", port.port)],
            ServeCommand::Files { port, .. } => vec![socket("files", port.port)],
            ServeCommand::Ident { port, .. } => vec![socket("ident", port.port)],
            ServeCommand::Chat { port, .. } => vec![socket(ChatService::NAME, port.port)],
            ServeCommand::Auth { port, .. } => vec![socket("auth", port.port)],
            ServeCommand::All { .. } => ["echo", "quiz", "files", "ident", "auth", "chat"]
                .into_iter()
                .map(|service| socket(service, None))
                .collect(),
        }
    }
}

/// What to do about a port that cannot be had, in the flags of the command that failed
/// (`serve all` has no `--port`).
fn bind_hint(e: &server::listener::BindError, takes_port: bool) -> Option<&'static str> {
    match (e.in_use(), e.exhausted(), takes_port) {
        (true, false, true) => Some(
            "another server has this port: stop it, choose another with --port, \
             or add --port-auto to move on to the next free one",
        ),
        (true, false, false) => Some(
            "another server has this port: stop it, or add --port-auto to move on to \
             the next free one",
        ),
        (true, true, true) => Some("choose another port with --port"),
        _ => None,
    }
}

/// Exit with a clap-style error whose usage line is that of `socklab serve <sub>`.
fn usage_error(sub: &str, msg: impl std::fmt::Display) -> ! {
    let mut cmd = command();
    cmd.build();
    let serve = cmd.find_subcommand_mut("serve").expect("serve subcommand");
    let sub = serve.find_subcommand_mut(sub).expect("serve subcommand");
    sub.error(clap::error::ErrorKind::ValueValidation, msg)
        .exit()
}

fn single(service: Box<dyn Service>, port: Option<u16>) -> Listen {
    let port = port.unwrap_or_else(|| service.default_port());
    Listen { service, port }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_well_formed() {
        command().debug_assert();
    }

    #[test]
    fn negative_operands_parse() {
        let cli =
            Cli::try_parse_from(["socklab", "serve", "quiz", "--min", "-5", "--max=7"]).unwrap();
        let Command::Serve(ServeArgs {
            service: ServeCommand::Quiz { quiz, .. },
        }) = cli.command
        else {
            panic!("not serve quiz");
        };
        assert_eq!((quiz.min, quiz.max), (-5, 7));
    }

    #[test]
    fn chunk_zero_is_refused() {
        let err = Cli::try_parse_from(["socklab", "serve", "echo", "--chunk", "0"]).unwrap_err();
        assert!(err.to_string().contains("must be between 1 and"), "{err}");
    }

    #[test]
    fn all_takes_no_port() {
        assert!(Cli::try_parse_from(["socklab", "serve", "all", "--port", "1"]).is_err());
    }
}
