//! Command-line parsing and dispatch.

use clap::{Parser, Subcommand};

/// socket-programming lab services and clients.
#[derive(Debug, Parser)]
#[command(name = "socklab", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Talk to an echo server.
    Echo(crate::client::echo::EchoClientArgs),
    /// Play the arithmetic quiz.
    Quiz(crate::client::quiz::QuizClientArgs),
    /// Fetch a web page with HTTP/1.1 GET (http:// only).
    Get(crate::client::get::GetArgs),
}

/// Entry point of the binary.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Echo(a) => crate::client::echo::run(&a, 0),
        Command::Quiz(a) => crate::client::quiz::run(&a, 0),
        Command::Get(a) => crate::client::get::run(&a),
    }
}
