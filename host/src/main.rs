fn main() -> std::process::ExitCode {
    socklab::cli::main()
}
