//! The crate's own bindings generator, so the generator always matches the `uniffi` version
//! the library was built with: `cargo run -p tandem-uniffi --bin uniffi-bindgen -- generate
//! --library target/debug/libtandem_uniffi.so --language kotlin --out-dir out`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
