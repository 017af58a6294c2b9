//! End-to-end tests that cross crates: the host clients against the smoltcp TAP build
//! (`tests/tap.rs`, in a private network namespace) and the QEMU firmware
//! (`tests/qemu.rs`). Host-only end-to-end tests (server binary against clients over
//! loopback) live in `host/tests`, where Cargo hands them the binary's path.
//!
//! This library is their shared support: finding the built binaries, child processes
//! that die with the test, a network namespace that is deleted with the test, the
//! client checks both frontends must pass, and a harness that reports a test that
//! cannot run here as ignored, with the reason ([`harness`]).

pub mod checks;
pub mod harness;
pub mod netns;
pub mod process;

use std::path::PathBuf;

/// `target/<profile>/`, where Cargo put the binaries of this `cargo test` run.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test>-<hash>
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("test executable lives in target/<profile>/deps")
        .to_path_buf()
}

/// A binary of the workspace built by this `cargo test` run (`socklab`, `socklab-tap`).
///
/// `cargo test` at the workspace root builds every default member's binaries; a test
/// run of this package alone does not, hence the message.
pub fn workspace_bin(name: &str) -> PathBuf {
    let path = target_dir().join(name);
    assert!(
        path.exists(),
        "{} is missing: run the tests with `cargo test` at the workspace root, or \
         `cargo build -p socklab -p socklab-tap` first",
        path.display()
    );
    path
}

/// True when the environment variable `name` is set to `1`: CI uses it to turn a skip
/// (no namespaces, no QEMU) into a failure.
pub fn required(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| v == "1")
}

/// Deterministic pseudo-random bytes, so a failing run can be reproduced.
pub fn random_bytes(len: usize, seed: u64) -> Vec<u8> {
    use socklab_core::rng::{Rng, SplitMix64};
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}
