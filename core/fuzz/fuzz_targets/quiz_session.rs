#![no_main]
libfuzzer_sys::fuzz_target!(|input: socklab_core_fuzz::quiz::Input| {
    socklab_core_fuzz::quiz::session(input);
});
