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

// The allocator's options, set before its first allocation, by a constructor that runs
// before mimalloc's own (priority 101): `main` is too late, as the allocator has reserved and
// committed its first arena by then. Two of the defaults cost memory and buy this process
// little or no time (paired runs, medians: wall 0.98-1.04x of the defaults at 10k and 100k):
// - arenas committed up front (on Linux): 3.4 MiB more for `lexflow --version` alone;
// - freed memory returned to the kernel only after 10 s, which no run lasts: the pages a
//   stage frees (the rule compiler's trees, the loader's parse) stay resident while the
//   next stage, on other threads, faults in fresh ones. A 100k-flow check peaked at 124 MiB
//   with the defaults and at 84 MiB with immediate return, a 10k one at 25 and 18 MiB.
// A MIMALLOC_* variable in the environment still has the last word. Large inputs set the
// purge delay again once their size is known (`tune_allocator_for_input`).
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array.00100")]
static SET_ALLOCATOR_OPTIONS: extern "C" fn() = set_allocator_options;

// mimalloc.h's `mi_option_e`: these two are not among the crate's named constants.
#[cfg(target_os = "linux")]
const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
#[cfg(target_os = "linux")]
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Sets one of the allocator's options, unless `variable` in the environment sets it.
#[cfg(target_os = "linux")]
fn set_allocator_option(
    option: libmimalloc_sys::mi_option_t,
    variable: &std::ffi::CStr,
    value: std::ffi::c_long,
) {
    // SAFETY: `getenv` reads the environment, which lexflow never changes. `mi_option_set`
    // stores a value in the allocator's option table and is not thread safe: it is called
    // before `main`, and from `tune_allocator_for_input` before the files are read, when the
    // thread pool has not run yet.
    unsafe {
        if libc::getenv(variable.as_ptr()).is_null() {
            libmimalloc_sys::mi_option_set(option, value);
        }
    }
}

#[cfg(target_os = "linux")]
extern "C" fn set_allocator_options() {
    set_allocator_option(ARENA_EAGER_COMMIT, c"MIMALLOC_ARENA_EAGER_COMMIT", 0);
    set_allocator_option(PURGE_DELAY, c"MIMALLOC_PURGE_DELAY", 0);
}

/// Manifests of 16 MiB and more (about 60,000 flows): freed pages go back to the kernel
/// after a second instead of at once. At that size the 5x peak has room (a 100k-flow check
/// peaks at 2.6x its 28 MB), and the pages a stage hands back are faulted in again by the
/// next: with a second's delay a 100k check took 0.95x the time (9 paired runs, 69 -> 78 MiB
/// peak) and a 1M check 0.94x (5 pairs, 690 -> 714 MiB). Smaller runs keep the immediate
/// return: there the process's floor weighs against the 5x. Called once the manifests are
/// found, before any is read; MIMALLOC_PURGE_DELAY in the environment still has the last
/// word.
fn tune_allocator_for_input(bytes: u64) {
    #[cfg(target_os = "linux")]
    if bytes >= 16 << 20 {
        set_allocator_option(PURGE_DELAY, c"MIMALLOC_PURGE_DELAY", 1000);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = bytes;
}

/// Each thread of the pool, then this one, frees its empty pages (and hands them to the
/// kernel: purge delay 0 above), including those emptied by frees from other threads.
fn give_back_freed_pages() {
    // SAFETY: `mi_collect` tidies the calling thread's own heap, and the allocator's shared
    // state under its own locks; it is called between stages, with no allocation of this
    // thread in flight.
    rayon::broadcast(|_| unsafe { libmimalloc_sys::mi_collect(true) });
    // SAFETY: as above, on this thread.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

fn main() {
    // No transparent huge pages for this process. mimalloc asks for them, and a 2 MiB page
    // is faulted in (and zeroed) whole however little of it is used: a 100k-flow check
    // peaked at 165 MiB with them and 127 MiB without, for the same time (11 paired runs).
    // Only a hint: if the kernel refuses, the run is the same, with a higher peak.
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
    lexflow::cli::scale::on_give_back(give_back_freed_pages);
    lexflow::cli::scale::on_input_size(tune_allocator_for_input);
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
