//! `serve quiz`'s flags and the [`QuizService`] they build.

use clap::Args;
use socklab_core::Duration;
use socklab_core::quiz::{ConfigError, QuizConfig};

use super::QuizService;

/// `serve quiz --help`'s examples.
pub const EXAMPLES: &str = "\
Examples:
  socklab serve quiz                        10 problems, operands 0..=999
  socklab serve quiz --count 3 --seed 42    the same 3 problems for everyone
  socklab serve quiz --min=-50 --max 50     negative operands too
  nc 127.0.0.1 31337";

/// Flags of the quiz service (§2).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Quiz options")]
pub struct QuizFlags {
    /// Number of problems to solve.
    #[arg(long, value_name = "N", default_value_t = QuizConfig::DEFAULT_COUNT)]
    pub count: u32,
    /// Give every player the same problems, on every run.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Smallest operand (may be negative: --min=-50).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub min: i64,
    /// Largest operand.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 999,
        allow_negative_numbers = true
    )]
    pub max: i64,
    /// Seconds allowed for each answer.
    #[arg(long, value_name = "S", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub answer_timeout: u64,
}

impl QuizFlags {
    /// The service, its sessions closed after `idle` of silence; an error when the
    /// flags contradict each other (the command line reports it as a usage error).
    pub fn service(&self, idle: Duration) -> Result<QuizService, ConfigError> {
        let answer = Duration::from_secs(self.answer_timeout);
        let config = QuizConfig::new(self.count, self.min, self.max, answer)?;
        Ok(QuizService {
            config,
            seed: self.seed,
            idle,
        })
    }
}
