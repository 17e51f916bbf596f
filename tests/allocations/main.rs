// A binary of its own: a `#[global_allocator]` is the allocator of the whole binary it is in.
//! Allocation counts, by a global allocator that forwards to the system allocator and, while a
//! thread has asked it to, counts that thread's allocations and the bytes they ask for. Counting
//! is per thread, so the tests run side by side: each counts only its own calls.
//!
//! - `allocations`: the JSON layer allocates nothing per event in steady state.
//! - `parser_allocations`: the parsers allocate within a bound, whatever their input.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

mod allocations;
// It reads the `OTEL_*` environment through `fuzzing::read_env`, which the `init` feature provides.
#[cfg(feature = "init")]
mod parser_allocations;

thread_local! {
    /// Whether this thread's allocations are being counted.
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    /// This thread's allocations while counting: every `alloc` and every `realloc`.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    /// The bytes those asked for: the size of every `alloc`, the new size of every `realloc` (an
    /// upper bound on what is live at once).
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

fn count(bytes: usize) {
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        let _ = BYTES.try_with(|n| n.set(n.get() + bytes));
    }
}

struct Counting;

// SAFETY: forwards to the system allocator; only counts, on the calling thread.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;
