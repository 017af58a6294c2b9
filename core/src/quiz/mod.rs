//! §2 quiz: N arithmetic problems, one per line; a wrong answer or a timeout ends it.
//!
//! [`Quiz`] is the server session; [`Player`] is the client side as a session too, so a
//! test can step a player against a server in simulated time and the `socklab quiz`
//! command is only a socket loop around it.

mod answer;
mod player;
mod problem;
mod server;

pub use answer::{AnswerError, parse_answer};
pub use player::{Outcome, Player};
pub use problem::{
    MAX_OPERAND, Op, Problem, ServerLine, parse_problem_line, parse_server_line, text,
};
pub use server::{ConfigError, Quiz, QuizConfig};
