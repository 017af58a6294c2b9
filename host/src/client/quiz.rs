//! `socklab quiz`: plays the quiz, solving each problem itself (§2).

/// Flags of `socklab quiz`.
#[derive(Debug, Clone, clap::Args)]
pub struct QuizClientArgs {
    /// Server address (IPv4, IPv6 or a name).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(long, default_value_t = 31337)]
    pub port: u16,
    /// Let a person type the answers instead of solving them.
    #[arg(long)]
    pub interactive: bool,
}

/// Run the client; exit code 0 on a win, 1 otherwise.
pub fn run(_args: &QuizClientArgs, _verbose: u8) -> std::process::ExitCode {
    todo!("quiz client")
}
