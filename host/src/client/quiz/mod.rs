//! `socklab quiz`: plays the §2 quiz, solving each problem itself.
//!
//! The output reads like the lab's transcript: every line the server sends is printed as
//! it arrives, and each answer the client sends is printed on its own line right after
//! the problem it answers (no `S:`/`C:` labels — the lab adds those only on paper):
//!
//! ```text
//! > Hi! You need to solve 2 arithmetic problems:
//! 1. 23 + 45
//! 68
//! 2. 682 + 47
//! 729
//! > You won! All 2 answers are correct.
//! ```
//!
//! Exit status: 0 on `> You won!`, 1 on `> It's wrong!`, `> Time is up!`, a server that
//! closes without a verdict or an I/O error, 2 when the server cannot be reached.
//!
//! With `--interactive` a person types the answers: each stdin line is sent as it is
//! typed (the terminal already shows it, so it is not printed again), end of input
//! half-closes the connection, and the server's verdict still decides the exit status.

mod auto;
mod interactive;

use super::conn::open_or_exit;
use socklab_core::quiz::Outcome;
use socklab_core::service;
use std::process::ExitCode;

/// Flags of `socklab quiz`.
#[derive(Debug, Clone, clap::Args)]
pub struct QuizClientArgs {
    /// Log connect, send, receive and disconnect to stderr (-v).
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Server address (IPv4, IPv6 or a name).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(long, default_value_t = service::QUIZ.port)]
    pub port: u16,
    /// Let a person type the answers instead of solving them.
    #[arg(long)]
    pub interactive: bool,
}

/// Run the client; exit code 0 on a win, 1 otherwise.
pub fn run(args: &QuizClientArgs, verbose: u8) -> ExitCode {
    let (stream, trace) = match open_or_exit(service::QUIZ, &args.host, args.port, verbose) {
        Ok(c) => c,
        Err(code) => return code,
    };
    // One short answer per problem: send each at once rather than let Nagle hold it.
    let _ = stream.set_nodelay(true);
    let played = if args.interactive {
        interactive::play(stream, &trace)
    } else {
        auto::play(stream, &trace)
    };
    let outcome = match played {
        Ok(outcome) => outcome,
        Err(e) => {
            trace.disconnected("error");
            eprintln!("socklab: {e}");
            return ExitCode::from(super::EXIT_FAILURE);
        }
    };
    trace.disconnected(match outcome {
        Outcome::Disconnected => "closed by server",
        _ => "game over",
    });
    exit_code(outcome)
}

/// The exit status for how the game ended, explaining on stderr the one ending that the
/// transcript does not show.
fn exit_code(outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Won => ExitCode::SUCCESS,
        Outcome::Wrong | Outcome::TimeUp => ExitCode::from(super::EXIT_FAILURE),
        Outcome::Disconnected => {
            eprintln!("socklab: the server closed the connection before the game was over");
            ExitCode::from(super::EXIT_FAILURE)
        }
    }
}
