//! Writing reports never replaces what is not a plain file: a device stays a device, a
//! symbolic link stays a link (its target gets the new content).

use std::os::unix::fs::FileTypeExt;

use lexflow::report::write_atomically;

#[test]
fn dev_null_stays_a_device() {
    write_atomically(std::path::Path::new("/dev/null"), "report\n").expect("writes to /dev/null");
    let meta = std::fs::metadata("/dev/null").expect("/dev/null exists");
    assert!(
        meta.file_type().is_char_device(),
        "/dev/null was replaced by a regular file"
    );
}

#[test]
fn a_symbolic_link_is_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("report.json");
    std::fs::write(&target, "old").unwrap();
    let link = dir.path().join("latest.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    write_atomically(&link, "new").unwrap();
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
}

#[test]
fn the_cli_can_write_a_report_to_dev_null() {
    let out = assert_cmd::Command::cargo_bin("lexflow")
        .unwrap()
        .args([
            "check",
            "tests/data/cli/clean.yaml",
            "--as-of",
            "2026-06-01",
            "--format",
            "json",
            "--output",
            "/dev/null",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
}
