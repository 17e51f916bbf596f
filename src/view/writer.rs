//! The init's writer in its [`Format`]: the JSON lines as they are, or each rendered for a person
//! by [`render`](super::render) on its way to the writer.

use std::io::{self, Write};

use tracing_subscriber::fmt::MakeWriter;

use crate::view::{Format, Style};

/// A `MakeWriter` that hands the lines on unchanged (`Json`), or rendered (`Pretty`).
#[derive(Debug)]
pub(crate) struct Formatted<W> {
    inner: W,
    /// `None` for JSON.
    pretty: Option<Style>,
}

impl<W> Formatted<W> {
    pub(crate) fn new(inner: W, format: Format) -> Formatted<W> {
        let pretty = match format {
            Format::Json => None,
            Format::Pretty => {
                use std::io::IsTerminal as _;
                let colour = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
                Some(if colour { Style::Colour } else { Style::Plain })
            }
        };
        Formatted { inner, pretty }
    }
}

/// One line's writer: the inner writer itself for JSON; for `Pretty`, the bytes of the line
/// gathered until its newline, then rendered and written whole.
pub(crate) enum FormattedWriter<W: Write> {
    Json(W),
    Pretty {
        inner: W,
        style: Style,
        pending: Vec<u8>,
    },
}

impl<W: Write> Write for FormattedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            FormattedWriter::Json(inner) => inner.write(buf),
            FormattedWriter::Pretty {
                inner,
                style,
                pending,
            } => {
                pending.extend_from_slice(buf);
                while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    let text = String::from_utf8_lossy(&line[..end]);
                    let mut rendered = super::render(&text, *style);
                    rendered.push('\n');
                    inner.write_all(rendered.as_bytes())?;
                }
                Ok(buf.len())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            FormattedWriter::Json(inner) | FormattedWriter::Pretty { inner, .. } => inner.flush(),
        }
    }
}

impl<'a, W: MakeWriter<'a>> MakeWriter<'a> for Formatted<W> {
    type Writer = FormattedWriter<W::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        self.wrap(self.inner.make_writer())
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        self.wrap(self.inner.make_writer_for(meta))
    }
}

impl<W> Formatted<W> {
    fn wrap<V: Write>(&self, writer: V) -> FormattedWriter<V> {
        match self.pretty {
            None => FormattedWriter::Json(writer),
            Some(style) => FormattedWriter::Pretty {
                inner: writer,
                style,
                pending: Vec::new(),
            },
        }
    }
}
