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

// mimalloc instead of the system allocator: a city-scale check allocates and frees millions
// of small blocks (the parsed tree, the model's strings, findings), and glibc's malloc spent
// a quarter of the run consolidating free lists.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = lexflow::cli::Cli::parse();
    std::process::exit(lexflow::cli::run(cli));
}
