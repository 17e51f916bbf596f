//! The writer every rung writes to: it discards the bytes and counts them (per thread, so that two
//! threads writing at once share no cache line), and for the checks run before measuring, keeps
//! them.

use std::cell::Cell;
use std::hint::black_box;
use std::io;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

thread_local! {
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

/// Bytes this thread has handed to any [`Sink`] so far.
pub fn bytes_written() -> u64 {
    BYTES.with(Cell::get)
}

/// A `MakeWriter` whose writers discard bytes and count them; [`Sink::capturing`] also keeps them.
#[derive(Clone, Debug, Default)]
pub struct Sink {
    capture: Option<Arc<Mutex<Vec<u8>>>>,
}

impl Sink {
    /// The sink the measured rungs write to.
    pub fn discard() -> Sink {
        Sink::default()
    }

    /// A sink that also keeps what it is given, for the checks; never measured.
    pub fn capturing() -> (Sink, Captured) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        (
            Sink {
                capture: Some(buf.clone()),
            },
            Captured(buf),
        )
    }
}

/// What a [`Sink::capturing`] was given.
#[derive(Debug)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Takes the lines written so far.
    pub fn take_lines(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8(bytes)
            .expect("a line is not UTF-8")
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

/// The writer of one line.
#[derive(Debug)]
pub struct SinkWriter<'a> {
    capture: Option<&'a Mutex<Vec<u8>>>,
}

impl io::Write for SinkWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let buf = black_box(buf);
        BYTES.with(|bytes| bytes.set(bytes.get() + buf.len() as u64));
        if let Some(capture) = self.capture {
            capture.lock().unwrap().extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Sink {
    type Writer = SinkWriter<'a>;

    fn make_writer(&'a self) -> SinkWriter<'a> {
        SinkWriter {
            capture: self.capture.as_deref(),
        }
    }
}
