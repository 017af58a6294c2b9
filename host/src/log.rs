//! The server event log of §0.
