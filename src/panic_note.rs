//! What the init's panic hook tells the code that catches the panic: the server middleware
//! (`server.rs`) learns that the hook has already written the panic's line, on which span, and the
//! location and stack trace that only a hook sees (`catch_unwind` returns the payload alone).
//!
//! The hook runs on the panicking thread before the unwinding starts, so a note is read on the
//! same thread by the code whose `catch_unwind` stops it. Each note bumps a per-thread count: a
//! catcher takes [`mark`] before the code it guards, and [`since`] gives the note only when the
//! hook ran after the mark. A note left by a panic that someone else caught (a task's panic caught
//! by the runtime, a `catch_unwind` of the service's own) is never taken for a later one.

use std::cell::Cell;

thread_local! {
    /// How many panics the hook has logged on this thread.
    static COUNT: Cell<u64> = const { Cell::new(0) };
    /// The last of them.
    static LAST: Cell<Option<Note>> = const { Cell::new(None) };
}

/// A panic the hook logged.
#[derive(Debug)]
pub(crate) struct Note {
    /// The span the hook's line (and its exception) went to: the current span of the panic.
    pub(crate) span: Option<tracing::Id>,
    /// `file:line:column`, when the panic has one.
    pub(crate) location: Option<String>,
    /// The stack trace the layers captured for the hook's line, when their setting asks for
    /// one.
    pub(crate) stacktrace: Option<std::sync::Arc<str>>,
}

/// The current count of notes on this thread, to give to [`since`].
pub(crate) fn mark() -> u64 {
    COUNT.try_with(Cell::get).unwrap_or(0)
}

/// Called by the hook once it has logged a panic.
// Only the init's hook writes notes: with feature `tower` alone, nothing does.
#[cfg_attr(not(feature = "init"), allow(dead_code))]
pub(crate) fn note(note: Note) {
    // A thread being torn down has no place for the note: its catcher reads none either.
    let _ = LAST.try_with(|last| last.set(Some(note)));
    let _ = COUNT.try_with(|count| count.set(count.get().wrapping_add(1)));
}

/// The note of the last panic the hook logged on this thread, if it logged one after `mark`.
pub(crate) fn since(mark: u64) -> Option<Note> {
    if self::mark() == mark {
        return None;
    }
    LAST.try_with(Cell::take).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note_at(location: &str) -> Note {
        Note {
            span: None,
            location: Some(location.to_owned()),
            stacktrace: None,
        }
    }

    #[test]
    fn a_note_is_given_only_for_a_panic_logged_after_the_mark() {
        note(note_at("old.rs:1:1"));
        let before = mark();
        assert!(
            since(before).is_none(),
            "an earlier panic's note is not this one's"
        );
        note(note_at("new.rs:2:2"));
        let taken = since(before).expect("the note of the panic after the mark");
        assert_eq!(taken.location.as_deref(), Some("new.rs:2:2"));
    }
}
