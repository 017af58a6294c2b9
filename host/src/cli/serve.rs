//! `socklab serve <service>`: which flags each service takes, and the order a server
//! starts in. Each service's flags and the builder that makes the service from them
//! live next to the service (`server/<service>/flags.rs`); this module only strings
//! them together:
//!
//! 1. bind every port (known from the flags alone), before anything else;
//! 2. make the log from the flags every server shares;
//! 3. build each service with that log (opening its store);
//! 4. serve.

use std::process::ExitCode;

use clap::{Args, Subcommand};
use socklab_core::service::{self, ServiceInfo};

use crate::log::Pid;
use crate::server::auth::flags::{AllAuthFlags, ServeAuthFlags};
use crate::server::chat::flags::{ChatFlags, NotForChat};
use crate::server::echo::flags::EchoFlags;
use crate::server::files::flags::FilesFlags;
use crate::server::flags::{CommonFlags, PortFlag, ServerFlags};
use crate::server::ident::flags::{AllIdentFlags, IdentFlags};
use crate::server::quiz::flags::QuizFlags;
use crate::server::{self, Listen, Service, auth, chat, echo, files, ident, quiz};

#[derive(Debug, Args)]
#[command(
    subcommand_value_name = "SERVICE",
    subcommand_help_heading = "Services"
)]
pub struct ServeArgs {
    #[command(subcommand)]
    pub service: ServeCommand,
}

#[derive(Debug, Subcommand)]
pub enum ServeCommand {
    /// Echo every byte back (TCP 9090).
    #[command(after_help = echo::flags::EXAMPLES)]
    Echo {
        #[command(flatten)]
        port: PortFlag,
        #[command(flatten)]
        server: ServerFlags,
        #[command(flatten)]
        echo: EchoFlags,
    },
    /// The arithmetic quiz (TCP 31337).
    #[command(after_help = quiz::flags::EXAMPLES)]
    Quiz {
        #[command(flatten)]
        port: PortFlag,
        #[command(flatten)]
        server: ServerFlags,
        #[command(flatten)]
        quiz: QuizFlags,
    },
    /// List, upload and download files in one folder (TCP 8020).
    #[command(after_help = files::flags::EXAMPLES)]
    Files {
        #[command(flatten)]
        port: PortFlag,
        #[command(flatten)]
        server: ServerFlags,
        #[command(flatten)]
        files: FilesFlags,
    },
    /// Greet clients by IP address, asking the name of new ones (TCP 9091).
    #[command(after_help = ident::flags::EXAMPLES)]
    Ident {
        #[command(flatten)]
        port: PortFlag,
        #[command(flatten)]
        server: ServerFlags,
        #[command(flatten)]
        ident: IdentFlags,
    },
    /// A chat room over UDP datagrams (UDP 9093).
    #[command(after_help = chat::flags::EXAMPLES)]
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
    #[command(after_help = auth::flags::EXAMPLES)]
    Auth {
        #[command(flatten)]
        port: PortFlag,
        #[command(flatten)]
        server: ServerFlags,
        #[command(flatten)]
        auth: ServeAuthFlags,
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
        #[command(flatten)]
        ident: AllIdentFlags,
        #[command(flatten)]
        chat: ChatFlags,
        #[command(flatten)]
        auth: AllAuthFlags,
    },
}

const ALL_EXAMPLES: &str = "\
Examples:
  socklab serve all                 echo 9090, quiz 31337, files 8020, ident 9091,
                                    auth 9092, chat 9093 (UDP)
  socklab serve all --port-auto     a port that is taken moves on to the next one
  socklab serve all --host 0.0.0.0  serve the network, not only this machine";

/// `serve --help`'s examples.
pub const SERVE_EXAMPLES: &str = "\
Examples:
  socklab serve echo                  echo server on 127.0.0.1:9090
  socklab serve echo --port 0 -v      any free port; a log line per chunk
  socklab serve all --port-auto       every service; a taken port moves on
  socklab serve files --help          the files service's own flags";

/// Flags that contradict each other, found while building a service: the caller
/// reports it as clap reports a usage error, with the usage line of `serve <sub>`.
#[derive(Debug)]
pub struct Usage {
    /// The `serve` subcommand (`quiz`, `all`).
    pub sub: &'static str,
    /// What is wrong.
    pub msg: String,
}

/// How a service that cannot be built ends the start: a usage error (exit 2), or a
/// message already printed (exit 1).
enum Refused {
    Usage(Usage),
    Exit(ExitCode),
}

impl From<Usage> for Refused {
    fn from(u: Usage) -> Refused {
        Refused::Usage(u)
    }
}

/// A store that cannot be opened: say why, exit 1.
fn failed(msg: String) -> Refused {
    eprintln!("socklab: {msg}");
    Refused::Exit(ExitCode::FAILURE)
}

/// Run the server `cmd` asks for until it stops.
pub fn serve(cmd: ServeCommand) -> Result<ExitCode, Usage> {
    let takes_port = !matches!(cmd, ServeCommand::All { .. });
    let shared = cmd.server();
    let opts = shared.options();
    // Every port first, before any store is opened: a server that cannot have one of
    // them says only that, and leaves the folders of the server that has it alone.
    let sockets = match server::bind(&cmd.sockets(), &opts) {
        Ok(b) => b,
        Err(e) => {
            match bind_hint(&e, takes_port) {
                Some(hint) => eprintln!("socklab: {e} ({hint})"),
                None => eprintln!("socklab: {e}"),
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    // The log before any service, so that each is handed it as it is built.
    let log = match shared.common.logger() {
        Ok(log) => log,
        Err(msg) => {
            eprintln!("socklab: {msg}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let (listens, datagrams) = match cmd.services(&shared, &log) {
        Ok(built) => built,
        Err(Refused::Usage(u)) => return Err(u),
        Err(Refused::Exit(code)) => return Ok(code),
    };
    Ok(
        match server::serve(sockets, listens, datagrams, &opts, log.clone()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                // The message must reach the user even when the log goes to a file.
                eprintln!("socklab: {e:#}");
                if shared.common.log_file.is_some() {
                    log.error("socklab", Pid, format_args!("{e:#}"));
                }
                ExitCode::FAILURE
            }
        },
    )
}

impl ServeCommand {
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
        let socket = |service: ServiceInfo, port: Option<u16>| server::Socket {
            service,
            port: port.unwrap_or(service.port),
        };
        match self {
            ServeCommand::Echo { port, .. } => vec![socket(service::ECHO, port.port)],
            ServeCommand::Quiz { port, .. } => vec![socket(service::QUIZ, port.port)],
            ServeCommand::Files { port, .. } => vec![socket(service::FILES, port.port)],
            ServeCommand::Ident { port, .. } => vec![socket(service::IDENT, port.port)],
            ServeCommand::Chat { port, .. } => vec![socket(service::CHAT, port.port)],
            ServeCommand::Auth { port, .. } => vec![socket(service::AUTH, port.port)],
            ServeCommand::All { .. } => service::ALL.map(|s| socket(s, None)).to_vec(),
        }
    }

    /// Build the services, in the order of [`sockets`](Self::sockets), each handed
    /// `log`: the TCP ones with their ports, and the chat.
    fn services(
        &self,
        flags: &ServerFlags,
        log: &crate::log::Logger,
    ) -> Result<(Vec<Listen>, Vec<chat::ChatListen>), Refused> {
        let idle = flags.idle();
        let quiz = |quiz: &QuizFlags, sub| {
            quiz.service(idle).map_err(|e| Usage {
                sub,
                msg: e.to_string(),
            })
        };
        let one = |service: Box<dyn Service>, port: Option<u16>| -> Result<_, Refused> {
            let port = port.unwrap_or(service.info().port);
            Ok((vec![Listen { service, port }], Vec::new()))
        };
        match self {
            ServeCommand::Echo { port, echo, .. } => one(Box::new(echo.service(idle)), port.port),
            ServeCommand::Quiz { port, quiz: q, .. } => one(Box::new(quiz(q, "quiz")?), port.port),
            ServeCommand::Files { port, files, .. } => {
                let svc = files.service(idle, log).map_err(failed)?;
                one(Box::new(svc), port.port)
            }
            ServeCommand::Ident { port, ident, .. } => {
                let svc = ident.service(idle, log).map_err(failed)?;
                one(Box::new(svc), port.port)
            }
            ServeCommand::Chat {
                port,
                chat,
                refused,
                ..
            } => {
                if let Some(why) = refused.reason() {
                    return Err(Usage {
                        sub: "chat",
                        msg: why.to_owned(),
                    }
                    .into());
                }
                Ok((Vec::new(), vec![chat.listen(port.port)]))
            }
            ServeCommand::Auth { port, auth, .. } => {
                let svc = auth.service(idle, log).map_err(failed)?;
                one(Box::new(svc), port.port)
            }
            ServeCommand::All {
                echo,
                quiz: q,
                files,
                ident,
                chat,
                auth,
                ..
            } => {
                // Every service of §0, each on its default port, in the table's order.
                let services: Vec<Box<dyn Service>> = vec![
                    Box::new(echo.service(idle)),
                    Box::new(quiz(q, "all")?),
                    Box::new(files.service(idle, log).map_err(failed)?),
                    Box::new(ident.flags().service(idle, log).map_err(failed)?),
                    Box::new(auth.service(idle, log).map_err(failed)?),
                ];
                let listens = services
                    .into_iter()
                    .map(|service| Listen {
                        port: service.info().port,
                        service,
                    })
                    .collect();
                Ok((listens, vec![chat.listen(None)]))
            }
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
