//! Advice to the kernel about large, short-lived buffers, and to the
//! allocator about how many arenas to keep.

/// Asks the kernel to back the memory at `start..start + len` with huge
/// (2 MiB) pages where it can, before it is first written.
///
/// Why: queries build buffers of hundreds of megabytes (the answer handed
/// over by the store, the rows grouped by person) and drop them a second
/// later. Fresh memory is faulted in one 4 KiB page at a time, and on this
/// project's machines that costs about 0.75 ms per megabyte: 450 ms for
/// 600 MB, against 85 ms in huge pages (measured with a C program writing
/// a fresh 600 MB mapping). Only whole huge pages inside the range are
/// advised, and only where the system leaves huge pages to `madvise`
/// (`/sys/kernel/mm/transparent_hugepage/enabled`); elsewhere this does
/// nothing. Advice changes how memory is backed, never what it holds, so
/// any address is safe to pass.
pub fn advise_huge_pages(start: *const u8, len: usize) {
    const HUGE: usize = 2 << 20;
    let start = start as usize;
    let from = start.next_multiple_of(HUGE);
    let to = start.saturating_add(len) / HUGE * HUGE;
    if to > from {
        // SAFETY: `madvise` with `MADV_HUGEPAGE` reads and writes no memory
        // of ours; on a range that is not mapped it fails, which is ignored.
        unsafe { libc::madvise(from as *mut libc::c_void, to - from, libc::MADV_HUGEPAGE) };
    }
}

/// Caps glibc's malloc arenas at one per core, unless `MALLOC_ARENA_MAX`
/// says otherwise. Call it first thing in `main`, before any thread starts.
///
/// Why: glibc gives threads up to eight arenas per core. Each arena keeps
/// the memory it freed for reuse by its own threads, so a server whose
/// Tokio workers, blocking pool and DuckDB threads take turns parsing and
/// dropping batches holds many partly empty arenas. Under
/// `px bench ingest` the server peaked at 1,056-1,099 MiB with the default
/// and 793 MiB with one arena per core (2 here), at the same rate.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cores = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: `mallopt` only sets an allocator parameter; a value it
        // rejects leaves the default.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, cores) };
    }
}
