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
    // No transparent huge pages for this process. mimalloc asks for them, and a 2 MiB page
    // is faulted in (and zeroed) whole however little of it is used: a 100k-flow check
    // peaked at 165 MiB with them and 127 MiB without, for the same time (11 paired runs).
    // Only a hint: if the kernel refuses, the run is the same, with a higher peak.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    let cli = lexflow::cli::Cli::parse();
    let code = lexflow::cli::run(cli);
    // The run's reports are written and their files closed; standard output may still hold
    // a line. Then the process ends without the C library's exit handlers: mimalloc's would
    // hand every freed page back to the kernel one madvise call at a time (400 calls after a
    // 100k-flow check), only for the kernel to unmap the whole heap right after. 2.4% of a
    // 100k and of a 1M check's wall time (medians of 15 and 3 paired runs).
    // As `std::process::exit` does, a failure to flush is ignored here: the reports check
    // their own writes.
    use std::io::Write;
    let _ = std::io::stdout().flush();
    // SAFETY: `_exit` ends the process at once; nothing of the run remains to be done (the
    // output is flushed above, and no thread holds work that must finish).
    #[cfg(target_os = "linux")]
    unsafe {
        libc::_exit(code)
    }
    #[cfg(not(target_os = "linux"))]
    std::process::exit(code)
}
