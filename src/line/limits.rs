//! The bounds that keep a line a line, whatever its fields hold.

/// How much of a line user data may take: what keeps a line a line, whatever the fields hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// String values longer than this many bytes are cut at a character boundary, with a marker.
    pub(crate) value_len: usize,
    /// At most this many fields per span, and per line (span and event fields together); the
    /// others are counted in the line's `fields_dropped`.
    pub(crate) fields: usize,
}
