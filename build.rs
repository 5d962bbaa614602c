//! Build script. The C header is rendered by cbindgen once the C ABI (`src/ffi/`) exists;
//! until then this only tells cargo when to re-run.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
}
