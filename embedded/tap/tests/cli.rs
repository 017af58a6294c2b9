//! The command line of `socklab-tap`, without any network device.
//!
//! Besides what it checks, this file makes `cargo test` build the `socklab-tap` binary
//! (Cargo builds a package's binaries for its own integration tests only), which the
//! namespace tests in `tests/tests/tap.rs` then run.

use std::process::Command;

fn tap() -> Command {
    Command::new(env!("CARGO_BIN_EXE_socklab-tap"))
}

#[test]
fn a_missing_tap_device_is_explained() {
    // Checked before anything is opened, so this runs anywhere and touches nothing.
    let out = tap().args(["--tap", "socklabnone0"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no network device \"socklabnone0\"")
            && err.contains("ip tuntap add name socklabnone0 mode tap"),
        "{err}"
    );
}

#[test]
fn help_names_every_flag() {
    let out = tap().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in ["--tap", "--ip", "--gateway", "--mac", "--pcap"] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}
