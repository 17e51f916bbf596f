//! Every `OTEL_*` variable the crate reads, together, through its whole reader
//! (`tracing_correlate::fuzzing::read_env`).
//!
//! The input (UTF-8; other inputs are skipped) is lines, each a variable: the line's first
//! character picks which, by `(char - 'A') % n` into the list in `env.rs` (the crate's own list,
//! `tracing_correlate::fuzzing::ENV_VARIABLES`, in its order, then three variables the reader
//! ignores; `n` is their number), and the rest of the line is its value; a name
//! given twice keeps its last value. Checks that reading never panics (every parser of
//! `src/init/env/` and the fallbacks between them), that it gives at most one warning per variable
//! it reads, and that the variables it ignores change nothing.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "env.rs"]
mod env;

use env::{is_read, var};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let vars: Vec<(&str, &str)> = input
        .split('\n')
        .filter_map(|line| {
            let mut chars = line.chars();
            let selector = u32::from(chars.next()?).wrapping_sub(u32::from('A'));
            let name = var(selector as usize);
            Some((name, chars.as_str()))
        })
        .collect();
    let warnings = env::read(&vars);

    let read_only: Vec<(&str, &str)> = vars
        .iter()
        .copied()
        .filter(|(name, _)| is_read(name))
        .collect();
    if read_only.len() != vars.len() {
        assert_eq!(
            env::read(&read_only),
            warnings,
            "the ignored variables changed the warnings"
        );
    }
});
