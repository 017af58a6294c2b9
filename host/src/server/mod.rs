//! The std server frontend: a mio event loop driving core sessions.
