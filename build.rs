//! Embeds the bundled law packs (`policies/*.policy`) in the binary, so that `lexflow check`
//! works from any folder and a new pack dropped into `policies/` is picked up without
//! editing Rust.

use std::fmt::Write as _;
use std::path::Path;

/// A failure is returned from `main`: cargo shows the message and stops the build.
fn main() -> Result<(), String> {
    order_hot_functions();
    pack_relative_relocations();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".policy"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = String::from("/// The bundled policy files: (file name, text).\npub static BUNDLED: &[(&str, &str)] = &[\n");
    for name in &names {
        let path = dir.join(name);
        println!("cargo:rerun-if-changed={}", path.display());
        let _ = writeln!(
            out,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("];\n");
    // The firing example of each bundled rule, for `lexflow explain`.
    out.push_str("/// (rule id, fires.yaml text) of the bundled rule tests.\npub static EXAMPLES: &[(&str, &str)] = &[\n");
    let tests = dir.join("tests");
    println!("cargo:rerun-if-changed={}", tests.display());
    let mut rules: Vec<String> = std::fs::read_dir(&tests)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    rules.sort();
    for rule in &rules {
        let fires = tests.join(rule).join("fires.yaml");
        if fires.is_file() {
            println!("cargo:rerun-if-changed={}", fires.display());
            let _ = writeln!(
                out,
                "    ({rule:?}, include_str!({:?})),",
                fires.display().to_string()
            );
        }
    }
    out.push_str("];\n");
    let target =
        Path::new(&std::env::var("OUT_DIR").unwrap_or_else(|_| ".".into())).join("bundled.rs");
    std::fs::write(&target, out).map_err(|e| format!("cannot write {}: {e}", target.display()))
}

/// Release builds on x86-64 Linux link the functions a check runs side by side, in the order
/// of `link/hot-symbols.txt` (written by `scripts/hot-symbols.sh`). The kernel maps program
/// text 64 KiB or more at a time around each first touch, so scattered hot code made 2.8 MiB
/// of a 10k-flow check's resident memory where 1.4 MiB of code runs (docs/performance.md,
/// step 11). Only the order changes, never the code; a name missing from the program (the
/// list is stale) is skipped. Rust links with LLD there, which reads the list. RUSTFLAGS
/// that mention linking (another linker, link arguments) or `LEXFLOW_NO_LINK_ORDER=1` leave
/// the default order.
fn order_hot_functions() {
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("link/hot-symbols.txt");
    println!("cargo:rerun-if-changed={}", list.display());
    println!("cargo:rerun-if-env-changed=LEXFLOW_NO_LINK_ORDER");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let own_linker = var("CARGO_ENCODED_RUSTFLAGS").contains("link");
    if var("PROFILE") == "release"
        && var("TARGET") == "x86_64-unknown-linux-gnu"
        && !own_linker
        && var("LEXFLOW_NO_LINK_ORDER").is_empty()
        && list.is_file()
    {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--symbol-ordering-file={}",
            list.display()
        );
        println!("cargo:rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}

/// Release builds on x86-64 Linux store the program's relative relocations packed (DT_RELR):
/// a position-independent program lists one for every pointer in its data, 118 KiB read in
/// whole at every start, packed to 1.5 KiB, and a 10k-flow Markdown check peaked 0.13 MiB
/// lower (docs/performance.md, step 14). The program stays position-independent. Only
/// when the C library the program links against reads packed relocations (glibc 2.36 on):
/// an older one would start the program with its pointers unrelocated.
fn pack_relative_relocations() {
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    if var("PROFILE") != "release"
        || var("TARGET") != "x86_64-unknown-linux-gnu"
        || var("CARGO_ENCODED_RUSTFLAGS").contains("link")
    {
        return;
    }
    // glibc names the feature as a symbol version of its own.
    let reads_relr = [
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib64/libc.so.6",
        "/usr/lib64/libc.so.6",
    ]
    .iter()
    .find_map(|path| std::fs::read(path).ok())
    .is_some_and(|libc| {
        libc.windows(b"GLIBC_ABI_DT_RELR".len())
            .any(|w| w == b"GLIBC_ABI_DT_RELR")
    });
    if reads_relr {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}
