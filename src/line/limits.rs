//! The bounds that keep a line a line, whatever its fields hold.

/// The longest string value a line keeps, in bytes, unless
/// [`JsonLayer::with_max_value_len`](crate::JsonLayer::with_max_value_len) says otherwise: longer
/// values are cut at a character boundary and end in `…[truncated N bytes]`.
pub const DEFAULT_MAX_VALUE_LEN: usize = 16 * 1024;

/// The longest key a line keeps, in bytes, unless
/// [`JsonLayer::with_max_key_len`](crate::JsonLayer::with_max_key_len) says otherwise: a longer
/// field name is cut at a character boundary and ends in `…[truncated N bytes]`, as a long value
/// is. Names that are the same once cut are one key: the first wins, the others are counted in
/// `fields_dropped`.
pub const DEFAULT_MAX_KEY_LEN: usize = 256;

/// The most fields a span keeps, and a line writes (span and event fields together), unless
/// [`JsonLayer::with_max_fields`](crate::JsonLayer::with_max_fields) says otherwise; the others
/// are counted in `fields_dropped`.
pub const DEFAULT_MAX_FIELDS: usize = 128;

/// How much of a line user data may take: what keeps a line a line, whatever the fields hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Strings (values, names, the target, the exception's texts) longer than this many bytes are
    /// cut at a character boundary, with a marker.
    pub(crate) value_len: usize,
    /// Keys (field and attribute names) longer than this many bytes are cut the same way.
    pub(crate) key_len: usize,
    /// At most this many fields per span, and per line (span and event fields together); the
    /// others are counted in the line's `fields_dropped`.
    pub(crate) fields: usize,
}

impl Limits {
    /// The limits of a layer built with the default settings, and of the console span lines.
    pub(crate) const DEFAULT: Limits = Limits {
        value_len: DEFAULT_MAX_VALUE_LEN,
        key_len: DEFAULT_MAX_KEY_LEN,
        fields: DEFAULT_MAX_FIELDS,
    };

    /// The name among `seen` that is written as the same key as `key` (see
    /// [`Limits::same_key`]).
    #[inline]
    pub(crate) fn seen_as(&self, seen: &[&'static str], key: &str) -> Option<&'static str> {
        seen.iter().copied().find(|s| self.same_key(s, key))
    }

    /// Whether the names `a` and `b` are written as one key once cut at [`Limits::key_len`].
    ///
    /// A cut key is the name's longest prefix of at most `key_len` bytes that ends at a character
    /// boundary, and the marker `…[truncated N bytes]`, N the bytes left out: two cut names are
    /// one key exactly when those prefixes and the names' lengths are equal. A cut key is always
    /// longer than `key_len` bytes (the prefix is at least `key_len - 3` bytes, the marker 22 or
    /// more), so it never equals a name that was not cut.
    #[inline]
    pub(crate) fn same_key(&self, a: &str, b: &str) -> bool {
        if a.len() != b.len() {
            return false;
        }
        if a.len() <= self.key_len {
            return a == b;
        }
        let (ka, kb) = (kept(a, self.key_len), kept(b, self.key_len));
        ka == kb && a.as_bytes()[..ka] == b.as_bytes()[..kb]
    }
}

/// How many bytes of `s` a cut at `limit` keeps: `limit`, back to a character boundary.
pub(crate) fn kept(s: &str, limit: usize) -> usize {
    let mut keep = limit.min(s.len());
    while !s.is_char_boundary(keep) {
        keep -= 1;
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_one_key_exactly_when_their_cut_forms_are_equal() {
        let limits = Limits {
            key_len: 4,
            ..Limits::DEFAULT
        };
        let cut = |s: &str| {
            let mut b = String::new();
            crate::line::escape::limited_escape_into(&mut b, s, limits.key_len);
            b
        };
        let names = [
            "abc", "abcd", "abcde", "abcdf", "abcdef", "abcé", "abcè", "abcéx", "abcèx", "ab",
            "abé", "abè", "abéé", "abèé",
        ];
        for a in names {
            for b in names {
                assert_eq!(limits.same_key(a, b), cut(a) == cut(b), "{a:?} {b:?}");
            }
        }
    }
}
