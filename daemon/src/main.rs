//! The `flu` binary: everything is in the library (`flu::main`).

fn main() -> std::process::ExitCode {
    flu::main()
}
