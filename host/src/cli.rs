//! Command-line parsing and dispatch.
//!
//! `socklab serve <service>` runs servers ([`serve`]); every other subcommand is a
//! client. Flags that every TCP server shares live in `ServerFlags`
//! (`server/flags.rs`) and are flattened into each `serve` subcommand, so a new service
//! gets `--host`, `--max-conns`, `-v` and the rest for free and they read the same
//! everywhere. UDP chat has no connections: it takes only the `CommonFlags` part and
//! refuses the connection flags by name. Each service's own flags live next to it
//! (`server/<service>/flags.rs`).
//!
//! * [`serve`] — `serve <service>`: its flags, and the order a server starts in;
//! * [`manual`] — `completions` and `man`, from the same [`command`].

use std::process::ExitCode;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};

mod manual;
mod serve;

use crate::client::auth::{self, Action};
use crate::server::flags::{PortFlag, ServerFlags};
use serve::{SERVE_EXAMPLES, ServeArgs, Usage};

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

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit());
    match cli.command {
        Command::Echo(a) => crate::client::echo::run(&a, a.verbose),
        Command::Quiz(a) => crate::client::quiz::run(&a, a.verbose),
        Command::Files(a) => crate::client::files::run(&a),
        Command::Serve(s) => serve::serve(s.service).unwrap_or_else(|u| usage_error(u)),
        Command::Get(a) => crate::client::get::run(&a),
        Command::Ident(a) => crate::client::ident::run(&a),
        Command::Chat(a) => crate::client::chat::run(&a),
        Command::Register(a) => auth::run(Action::Register, &a.server, Some(&a.user)),
        Command::Login(a) => auth::run(Action::Login, &a.server, Some(&a.user)),
        Command::Whoami(a) => auth::run(Action::Whoami, &a, None),
        Command::Logout(a) => auth::run(Action::Logout, &a, None),
        Command::Passwd(a) => auth::run(Action::Passwd, &a, None),
        Command::Completions(a) => manual::completions(&a, command()),
        Command::Man(a) => manual::man(&a, command_wrapped_at(Some(manual::PAGE_WIDTH))),
    }
}

/// Exit with a clap-style error whose usage line is that of `socklab serve <sub>`.
fn usage_error(Usage { sub, msg }: Usage) -> ! {
    let mut cmd = command();
    cmd.build();
    let serve = cmd.find_subcommand_mut("serve").expect("serve subcommand");
    let sub = serve.find_subcommand_mut(sub).expect("serve subcommand");
    sub.error(clap::error::ErrorKind::ValueValidation, msg)
        .exit()
}

#[cfg(test)]
mod tests {
    use super::serve::ServeCommand;
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
