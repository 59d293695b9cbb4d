//! The stock container engine: runs a tenant's container part with the library's classes only.

fn main() -> std::process::ExitCode {
    vdp_engine::container::main(&[])
}
