#![no_main]
libfuzzer_sys::fuzz_target!(|input: socklab_core_fuzz::ident::Input| {
    socklab_core_fuzz::ident::session(input);
});
