//! A test harness for tests that need something this machine may not have (QEMU, the
//! release firmware, network namespaces, thousands of file descriptors).
//!
//! With the standard harness such a test can only return early, and `cargo test` counts
//! it as passed: a laptop without QEMU reported the firmware test green. Here (with
//! `harness = false` and libtest-mimic) a test that cannot run ends as
//! `ignored (<reason>)` on its line and in the summary's "ignored" count, which is where
//! a person looks. A variable such as `SOCKLAB_REQUIRE_QEMU=1` turns the skip into a
//! failure, so CI, which provides everything, cannot silently skip.
//!
//! ```no_run
//! use socklab_tests::harness::{self, Skip, Test};
//!
//! fn boots() -> Test {
//!     if !std::path::Path::new("/usr/bin/qemu-system-arm").exists() {
//!         return Err(Skip::unless_required("SOCKLAB_REQUIRE_QEMU", "no qemu-system-arm"));
//!     }
//!     Ok(())
//! }
//!
//! fn main() {
//!     harness::main(&[("boots", boots)]);
//! }
//! ```

use libtest_mimic::{Arguments, Completion, Trial};

/// Why a test could not run here.
#[derive(Debug)]
pub struct Skip(String);

impl Skip {
    /// The test cannot run, for `reason`. Always a skip: for what no one is made to
    /// provide (a raised open-file limit).
    pub fn because(reason: impl Into<String>) -> Skip {
        Skip(reason.into())
    }

    /// The test cannot run, for `reason`; a failure (panic) instead when `require_var`
    /// is `1`, as CI sets it. The reason names the variable.
    pub fn unless_required(require_var: &str, reason: &str) -> Skip {
        assert!(
            !crate::required(require_var),
            "{require_var}=1 but the test cannot run: {reason}"
        );
        Skip(format!("{reason}; {require_var}=1 makes this a failure"))
    }
}

/// What a test returns: `Ok` when it ran and passed (a failure panics, as in any
/// test), `Err(Skip)` when it could not run here.
pub type Test = Result<(), Skip>;

/// A test as [`main`] takes it: its name and its function.
pub type Named = (&'static str, fn() -> Test);

/// Run the named tests as `cargo test` would (filters, `--list`, `--test-threads`, `-q`,
/// `--ignored` all work) and exit with its status.
pub fn main(tests: &[Named]) -> ! {
    let args = Arguments::from_args();
    let trials = tests
        .iter()
        .map(|&(name, test)| {
            Trial::ignorable_test(name, move || match test() {
                Ok(()) => Ok(Completion::Completed),
                Err(Skip(reason)) => Ok(Completion::ignored_with(reason)),
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit()
}
