#![no_main]
libfuzzer_sys::fuzz_target!(|input: socklab_core_fuzz::echo::Input| {
    socklab_core_fuzz::echo::session(input);
});
