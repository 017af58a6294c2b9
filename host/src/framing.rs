//! §7 frames on std streams.
