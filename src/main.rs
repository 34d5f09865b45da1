// No panics in library code: every failure is a diagnostic or a finding (tests may unwrap).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

use clap::Parser;

fn main() {
    let cli = lexflow::cli::Cli::parse();
    std::process::exit(lexflow::cli::run(cli));
}
