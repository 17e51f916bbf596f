//! `tracing-correlate`: the crate's JSON lines read by a person.
//!
//! ```text
//! cargo run | tracing-correlate pretty          # one short line per event, colours on a terminal
//! tracing-correlate trace 9fb3d187 a.log b.log  # one trace rebuilt from several services' logs
//! tracing-correlate traces service.log          # one row per trace, failed ones marked
//! ```

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::Value;
use tracing_correlate::view::{self, Style, Summaries, Trace};

#[derive(Parser)]
#[command(
    name = "tracing-correlate",
    version,
    about = "Read tracing-correlate's JSON lines as a person"
)]
struct Cli {
    /// Colours: on a terminal (and unless NO_COLOR is set), always, or never.
    #[arg(long, value_enum, default_value_t = Colour::Auto, global = true)]
    color: Colour,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Colour {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// One short line per event; lines that are not ours pass through unchanged.
    Pretty {
        /// Files to read, in order; standard input when none.
        files: Vec<PathBuf>,
    },
    /// One trace as a tree of its spans with their lines, from one or several logs.
    Trace {
        /// The trace id, or its first characters (the 8 `pretty` shows).
        id: String,
        /// Files to read (each service's log); standard input when none.
        files: Vec<PathBuf>,
    },
    /// One row per trace: root span, services, start, duration, spans, lines, errors.
    Traces {
        /// Files to read; standard input when none.
        files: Vec<PathBuf>,
    },
}

/// Every line of `files` (or standard input), in order, as text; a line that is not UTF-8 is read
/// lossily, so it still passes through. A file that cannot be opened is reported and skipped.
fn for_each_line(files: &[PathBuf], mut f: impl FnMut(&str) -> io::Result<()>) -> io::Result<bool> {
    let mut all_read = true;
    let mut read = |input: &mut dyn BufRead| -> io::Result<()> {
        let mut buf = Vec::new();
        loop {
            buf.clear();
            if input.read_until(b'\n', &mut buf)? == 0 {
                return Ok(());
            }
            let text = String::from_utf8_lossy(&buf);
            f(text.trim_end_matches(['\n', '\r']))?;
        }
    };
    if files.is_empty() {
        read(&mut io::stdin().lock())?;
    }
    for path in files {
        match File::open(path) {
            Ok(file) => read(&mut BufReader::with_capacity(1 << 16, file))?,
            Err(e) => {
                eprintln!("tracing-correlate: {}: {e}", path.display());
                all_read = false;
            }
        }
    }
    Ok(all_read)
}

/// A line of ours, parsed; `None` for anything else (a torn line, another program's output).
fn ours(text: &str) -> Option<serde_json::Map<String, Value>> {
    // Cheap test first: most lines of a log of ours are; others are skipped without a parse.
    if !text.starts_with('{') {
        return None;
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(line)) if view::is_ours(&line) => Some(line),
        _ => None,
    }
}

fn run(cli: Cli) -> io::Result<bool> {
    let style = match cli.color {
        Colour::Always => Style::Colour,
        Colour::Never => Style::Plain,
        Colour::Auto if io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() => {
            Style::Colour
        }
        Colour::Auto => Style::Plain,
    };
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    match cli.command {
        Command::Pretty { files } => for_each_line(&files, |text| match ours(text) {
            Some(line) => writeln!(out, "{}", view::render_line(&line, style)),
            None => writeln!(out, "{text}"),
        }),
        Command::Trace { id, files } => {
            let mut trace = Trace::new(&id);
            let read = for_each_line(&files, |text| {
                if let Some(line) = ours(text) {
                    trace.add(&line);
                }
                Ok(())
            })?;
            write!(out, "{}", trace.render(style))?;
            Ok(read)
        }
        Command::Traces { files } => {
            let mut summaries = Summaries::default();
            let mut not_ours = 0u64;
            let read = for_each_line(&files, |text| {
                match ours(text) {
                    Some(line) => summaries.add(&line),
                    None if !text.trim().is_empty() => not_ours += 1,
                    None => {}
                }
                Ok(())
            })?;
            write!(out, "{}", summaries.render(style))?;
            if not_ours > 0 {
                writeln!(
                    out,
                    "{not_ours} lines that are not tracing-correlate's skipped"
                )?;
            }
            Ok(read)
        }
    }
    .and_then(|read| out.flush().map(|()| read))
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        // A closed pipe (`| head`) ends the command quietly, as other filters do.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tracing-correlate: {e}");
            ExitCode::FAILURE
        }
    }
}
