//! Finding a line among parsed lines.

use serde_json::Value;

/// The line whose `message` is `message`.
pub fn line_with<'a>(lines: &'a [Value], message: &str) -> &'a Value {
    let found: Vec<_> = lines.iter().filter(|l| l["message"] == message).collect();
    assert_eq!(
        found.len(),
        1,
        "exactly one line with message {message:?} in {lines:#?}"
    );
    found[0]
}
