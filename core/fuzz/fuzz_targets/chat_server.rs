#![no_main]
libfuzzer_sys::fuzz_target!(|input: socklab_core_fuzz::chat::Input| {
    socklab_core_fuzz::chat::server(input);
});
