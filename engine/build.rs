//! Compiles the wire schema in `proto/` with pure-Rust tools: `protox` parses the `.proto`
//! files into a descriptor set and `prost-build` generates the Rust types from it, so no system
//! `protoc` is needed. The encoded descriptor set is also written to `OUT_DIR` for the codec's
//! schema checks.

use std::{env, fs, path::PathBuf};

use prost::Message;

const PROTOS: &[&str] = &[
    "proto/convergence.proto",
    "proto/core.proto",
    "proto/model.proto",
    "proto/identity.proto",
    "proto/activity.proto",
    "proto/presence.proto",
    "proto/chat.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);

    let fds = protox::compile(PROTOS, ["proto"])?;
    fs::write(out_dir.join("convergence_fds.bin"), fds.encode_to_vec())?;

    prost_build::Config::new()
        // Deterministic map order: equal messages always encode to equal bytes.
        .btree_map(["."])
        .compile_fds(fds)?;
    Ok(())
}
