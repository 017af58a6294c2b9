#![no_main]
libfuzzer_sys::fuzz_target!(|input: socklab_core_fuzz::auth::Input| {
    socklab_core_fuzz::auth::session(input);
});
