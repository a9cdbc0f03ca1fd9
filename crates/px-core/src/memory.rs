//! Memory: advice to the kernel about large, short-lived buffers, and
//! when freed memory goes back to the system.

use std::sync::OnceLock;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use std::time::{Duration, Instant};

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

/// When freed memory goes back to the system: once no query has run for
/// [`TRIM_AFTER_IDLE`], not in the middle of a stream of queries.
///
/// Why: DuckDB's worker threads call glibc's `malloc_trim(0)` whenever they
/// have been idle for half a second, which hands every free page of every
/// malloc arena back to the kernel. A funnel over 100M events leaves DuckDB
/// idle for most of a second while Rust evaluates the answer, so each
/// query's trim returned the previous query's memory and the next query
/// faulted it back in, zeroed page by page: 2.1M page faults and 7-8 s of
/// system time over six 20-step funnels on 100M events. The `px` binary
/// defines `malloc_trim` itself (the linker binds DuckDB's calls to it) as
/// [`defer_trim`], and [`start_trimmer`] trims once the queries have
/// stopped (the store and the query engine hold a [`busy`] guard while one
/// runs): half the page faults, and the 20-step funnel's median on 100M
/// went from 1.93 to 1.71 s (docs/benchmarks.md). The store's spooled
/// writes count as queries too: under full ingestion load the trims took
/// 2% of the server's CPU. Memory still goes back to the system a second
/// after the last query or write. (DuckDB trims only with glibc,
/// which is also where the trimmer finds the real `malloc_trim`.)
pub const TRIM_AFTER_IDLE: Duration = Duration::from_secs(1);

/// Queries running now.
static BUSY: AtomicUsize = AtomicUsize::new(0);
/// When the last query ended, in milliseconds since [`now_ms`]'s epoch.
static LAST_BUSY_MS: AtomicU64 = AtomicU64::new(0);
/// A trim was asked for and has not happened yet.
static TRIM_WANTED: AtomicBool = AtomicBool::new(false);

fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64
}

/// Marks a query as running until dropped: no trim happens meanwhile.
#[must_use = "the query counts as running only while the guard lives"]
pub struct Busy(());

/// A guard for one query (see [`TRIM_AFTER_IDLE`]).
pub fn busy() -> Busy {
    BUSY.fetch_add(1, SeqCst);
    Busy(())
}

impl Drop for Busy {
    fn drop(&mut self) {
        LAST_BUSY_MS.store(now_ms(), SeqCst);
        BUSY.fetch_sub(1, SeqCst);
    }
}

/// Records a request to give free memory back, carried out by the thread
/// of [`start_trimmer`] when no query runs.
pub fn defer_trim() {
    TRIM_WANTED.store(true, SeqCst);
}

/// Whether a deferred trim may run now: one is wanted, no query runs, and
/// none ended within `idle`.
fn trim_due(idle: Duration) -> bool {
    TRIM_WANTED.load(SeqCst)
        && BUSY.load(SeqCst) == 0
        && now_ms().saturating_sub(LAST_BUSY_MS.load(SeqCst)) >= idle.as_millis() as u64
}

type MallocTrim = extern "C" fn(libc::size_t) -> libc::c_int;

/// Starts the thread that carries out deferred trims with glibc's own
/// `malloc_trim`, the next definition after the `px` binary's. Once per
/// process; later calls do nothing.
pub fn start_trimmer() -> std::io::Result<()> {
    static STARTED: AtomicBool = AtomicBool::new(false);
    if STARTED.swap(true, SeqCst) {
        return Ok(());
    }
    // SAFETY: `dlsym` only looks a symbol up; the name is NUL-terminated,
    // and the symbol, when found, is glibc's `int malloc_trim(size_t)`.
    let real = unsafe {
        let f = libc::dlsym(libc::RTLD_NEXT, c"malloc_trim".as_ptr());
        (!f.is_null()).then(|| std::mem::transmute::<*mut libc::c_void, MallocTrim>(f))
    };
    let Some(real) = real else { return Ok(()) };
    std::thread::Builder::new().name("px-trim".into()).spawn(move || {
        loop {
            std::thread::sleep(TRIM_AFTER_IDLE / 4);
            if trim_due(TRIM_AFTER_IDLE) {
                TRIM_WANTED.store(false, SeqCst);
                real(0);
            }
        }
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trim_waits_for_the_queries_to_stop_and_then_for_the_idle_time() {
        defer_trim();
        let query = busy();
        assert!(!trim_due(Duration::ZERO), "never while a query runs");
        drop(query);
        assert!(!trim_due(Duration::from_secs(3600)), "not right after a query");
        assert!(trim_due(Duration::ZERO), "once idle long enough");
        TRIM_WANTED.store(false, SeqCst);
        assert!(!trim_due(Duration::ZERO), "only when one was asked for");
    }
}
