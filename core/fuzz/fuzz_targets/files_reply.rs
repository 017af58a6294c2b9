#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    socklab_core_fuzz::parsers::files_reply(data);
});
