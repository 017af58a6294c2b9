#![no_main]
libfuzzer_sys::fuzz_target!(|input: socklab_core_fuzz::files::Input| {
    socklab_core_fuzz::files::session(input);
});
