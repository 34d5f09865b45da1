//! Snapshot tests of each bundled example's human and JSON output: a change in what a
//! user sees shows up as a reviewed diff (`cargo insta review`, or INSTA_UPDATE=always).

use assert_cmd::Command;

fn run(example: &str, format: &str) -> String {
    let out = Command::cargo_bin("lexflow")
        .unwrap()
        .args([
            "check",
            example,
            "--as-of",
            "2026-06-01",
            "--color",
            "never",
            "--format",
            format,
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{example} has findings; stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

macro_rules! example_snapshots {
    ($($test:ident => $dir:literal),* $(,)?) => {$(
        #[test]
        fn $test() {
            insta::assert_snapshot!(concat!(stringify!($test), "_human"), run($dir, "human"));
            insta::assert_snapshot!(concat!(stringify!($test), "_json"), run($dir, "json"));
        }
    )*};
}

example_snapshots! {
    longgang_video => "examples/longgang-video",
    eu_city_wifi => "examples/eu-city-wifi",
    vendor_proposal => "examples/vendor-proposal",
}
