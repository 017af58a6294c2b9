//! socklab's services on smoltcp. This crate is a placeholder until the embedded issue
//! lands: it only proves that the core builds as a dependency of a `no_std` crate.
#![no_std]

pub use socklab_core as core_proto;
