//! `socklab echo`: interactive on a terminal, a binary-safe pipe otherwise (§1).

/// Flags of `socklab echo`.
#[derive(Debug, Clone, clap::Args)]
pub struct EchoClientArgs {
    /// Server address (IPv4, IPv6 or a name).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(long, default_value_t = 9090)]
    pub port: u16,
    /// Send and receive §7 frames instead of raw bytes.
    #[arg(long)]
    pub framed: bool,
}

/// Run the client; returns the process exit code.
pub fn run(_args: &EchoClientArgs, _verbose: u8) -> std::process::ExitCode {
    todo!("echo client")
}
