//! A writer that captures lines, for reading them back parsed (with `parse.rs`).

use std::io;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

use super::parse::parse_line;

/// A `MakeWriter` that keeps every byte written, for reading the lines back.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<u8>>>);

pub struct CaptureWriter(Arc<Mutex<Vec<u8>>>);

impl io::Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = CaptureWriter;
    fn make_writer(&'a self) -> Self::Writer {
        CaptureWriter(self.0.clone())
    }
}

impl Capture {
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("lines are UTF-8")
    }

    /// Every line, each checked to be exactly one JSON object without duplicate keys.
    pub fn lines(&self) -> Vec<Value> {
        let text = self.text();
        assert!(
            text.is_empty() || text.ends_with('\n'),
            "output ends mid-line: {text:?}"
        );
        text.lines().map(parse_line).collect()
    }
}
