//! Renders the C header from `src/ffi/` with cbindgen.
//!
//! The header always goes to `OUT_DIR/imdsguard.h` (the `header_sync` test compares it with
//! the checked-in `include/imdsguard.h`). It is written into `include/` only when asked
//! (`IMDSGUARD_BLESS=1`), so that a build never changes the source tree behind one's back.
//! Version macros come from Cargo's metadata, so they cannot drift from `Cargo.toml`.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=IMDSGUARD_BLESS");

    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("set by cargo"));
    let mut config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable and valid");
    let version = env::var("CARGO_PKG_VERSION").expect("set by cargo");
    let part = |name: &str| env::var(name).expect("set by cargo");
    config.after_includes = Some(format!(
        "\n#define IMDSGUARD_VERSION \"{version}\"\n\
         #define IMDSGUARD_VERSION_MAJOR {}\n\
         #define IMDSGUARD_VERSION_MINOR {}\n\
         #define IMDSGUARD_VERSION_PATCH {}\n",
        part("CARGO_PKG_VERSION_MAJOR"),
        part("CARGO_PKG_VERSION_MINOR"),
        part("CARGO_PKG_VERSION_PATCH"),
    ));
    // Only the C ABI module is read, so nothing the rest of the crate defines can leak into
    // the header.
    let bindings = match cbindgen::Builder::new()
        .with_src(crate_dir.join("src").join("ffi").join("mod.rs"))
        .with_config(config)
        .generate()
    {
        Ok(b) => b,
        Err(e) => panic!("cbindgen could not render the C header: {e}"),
    };
    bindings.write_to_file(out_dir.join("imdsguard.h"));
    if env::var_os("IMDSGUARD_BLESS").is_some_and(|v| v == "1") {
        bindings.write_to_file(crate_dir.join("include").join("imdsguard.h"));
    }
}
