//! What every bench binary prints about its run (`layer.rs` and `collector_faults.rs`).

/// Prints when the run starts or ends, the machine's load and whatever else is running then, and
/// at the start the commit measured, for `benches/report.py`.
pub fn note_run(when: &str) {
    let unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!("run {when}: unix {unix}, load average {}", load.trim());
    // Whatever else could be taking the CPUs: a fuzzer, a build (process ids and names).
    let others = std::process::Command::new("pgrep")
        .args(["-lf", "fuzz|rustc"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .replace('\n', "; ")
        })
        .unwrap_or_default();
    eprintln!(
        "run {when} others: {}",
        if others.is_empty() { "none" } else { &others }
    );
    if when == "start" {
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
                .unwrap_or_default()
        };
        // The crate measured is the parent of this bench crate.
        let changed = git(&["status", "--porcelain", "--", "../src", "../Cargo.toml"]);
        eprintln!(
            "run commit: {} ({})",
            git(&["rev-parse", "--short", "HEAD"]),
            if changed.is_empty() {
                "src/ and Cargo.toml as committed".to_owned()
            } else {
                format!("uncommitted: {}", changed.replace('\n', "; "))
            }
        );
    }
}
