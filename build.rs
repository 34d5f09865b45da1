//! Embeds the bundled law packs (`policies/*.policy`) in the binary, so that `lexflow check`
//! works from any folder and a new pack dropped into `policies/` is picked up without
//! editing Rust.

use std::fmt::Write as _;
use std::path::Path;

/// A failure is returned from `main`: cargo shows the message and stops the build.
fn main() -> Result<(), String> {
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
