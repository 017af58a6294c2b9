//! Clients: each is a small blocking socket loop around a core session or plain copying.

pub mod echo;
pub mod quiz;
