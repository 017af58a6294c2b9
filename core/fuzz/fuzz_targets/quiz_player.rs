#![no_main]
libfuzzer_sys::fuzz_target!(|ops: Vec<(bool, Vec<u8>, u8)>| {
    socklab_core_fuzz::quiz::player(ops);
});
