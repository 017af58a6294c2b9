#![no_main]
libfuzzer_sys::fuzz_target!(|input: socklab_core_fuzz::files_pair::Input| {
    socklab_core_fuzz::files_pair::pair(input);
});
