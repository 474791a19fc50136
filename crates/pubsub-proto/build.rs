//! Compiles the Pub/Sub API proto with protox (pure Rust), so a fresh machine needs no
//! system `protoc`. The client stubs are generated too, for tests and tools.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto/pubsub_api.proto");
    let fds = protox::compile(["proto/pubsub_api.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds(fds)?;
    Ok(())
}
