//! End-to-end tests that cross crates: the host clients against the smoltcp TAP build
//! and the QEMU firmware. Host-only end-to-end tests (server binary against clients over
//! loopback) live in `host/tests`, where Cargo hands them the binary's path.
//!
//! Empty until the embedded frontend lands; it exists so the workspace shape is fixed.
