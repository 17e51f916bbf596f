//! Colours, on or off: ANSI escapes written by hand (eight codes; a crate for them would be a
//! dependency of every user of the library for this).

/// Whether output is coloured. Chosen by the caller: the command line colours a terminal and
/// honours `NO_COLOR`; the layer's pretty format colours only when asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Plain text.
    Plain,
    /// ANSI colours.
    Colour,
}

/// What a piece of text is, for its colour.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Paint<'a> {
    Dim,
    Bold,
    Service,
    /// A level's colour (`ERROR` red, `WARN` yellow, `INFO` green, `DEBUG` blue, `TRACE` dim).
    Level(&'a str),
}

impl Style {
    pub(crate) fn paint(self, paint: Paint<'_>, text: &str) -> String {
        if self == Style::Plain || text.is_empty() {
            return text.to_owned();
        }
        let code = match paint {
            Paint::Dim => "2",
            Paint::Bold => "1",
            Paint::Service => "36",
            Paint::Level("ERROR") => "1;31",
            Paint::Level("WARN") => "33",
            Paint::Level("INFO") => "32",
            Paint::Level("DEBUG") => "34",
            Paint::Level(_) => "2",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}
