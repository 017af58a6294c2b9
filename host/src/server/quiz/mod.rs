//! `serve quiz` (§2): the core [`Quiz`] session, all its work done on the loop.
//!
//! * [`flags`] — `serve quiz`'s flags and the service they build.

pub mod flags;

use std::net::SocketAddr;

use socklab_core::quiz::{Quiz, QuizConfig};
use socklab_core::rng::SplitMix64;
use socklab_core::service::{self, ServiceInfo};
use socklab_core::session::{Idle, Session};
use socklab_core::{Duration, Instant};

use super::service::Service;
use super::wake::Wake;

/// `serve quiz` (§2).
#[derive(Debug, Clone)]
pub struct QuizService {
    /// Protocol flags, already validated by [`QuizConfig::new`].
    pub config: QuizConfig,
    /// `--seed`: every session replays the same problems; `None` draws a fresh seed per
    /// session from the OS-seeded thread RNG.
    pub seed: Option<u64>,
    /// `--idle-timeout`.
    pub idle: Duration,
}

impl QuizService {
    /// Answers are short lines: the §0 line limit is all a read ever needs.
    const CHUNK: usize = 1024;
}

impl Service for QuizService {
    fn info(&self) -> ServiceInfo {
        service::QUIZ
    }

    fn chunk(&self) -> usize {
        Self::CHUNK
    }

    fn open(&mut self, now: Instant, _peer: SocketAddr, _wake: Wake) -> Box<dyn Session + Send> {
        let seed = self.seed.unwrap_or_else(rand::random);
        let quiz = Quiz::new(now, self.config, SplitMix64::new(seed));
        Box::new(Idle::new(quiz, now, self.idle))
    }
}
