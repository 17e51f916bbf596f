//! Credentials kept out of every line: the userinfo (`user:password@`) of a URL is replaced by
//! `<hidden>` in what the init writes (warnings quoting a variable, error texts).
//!
//! Written here rather than with `url::Url`: the text may not parse as a URL at all (a warning
//! quotes a value because it is invalid), and whatever the text, the rule must hide too much
//! rather than too little.

use std::borrow::Cow;

/// What stands for hidden userinfo.
const HIDDEN: &str = "<hidden>";

/// A variable's value with everything from the start of its authority (after the first `://`, else
/// from the start) to its last `@` hidden: any `@` may end a userinfo, whatever a parser would
/// read (`http://user:pa/ss@host` hides `user:pa/ss`).
pub(crate) fn hide_in_value(value: &str) -> Cow<'_, str> {
    let Some(last_at) = value.rfind('@') else {
        return Cow::Borrowed(value);
    };
    let start = match value.find("://") {
        Some(i) if i + "://".len() <= last_at => i + "://".len(),
        _ => 0,
    };
    if start == last_at {
        return Cow::Borrowed(value);
    }
    Cow::Owned(format!("{}{HIDDEN}{}", &value[..start], &value[last_at..]))
}

/// Free text (an error message) with the userinfo of every URL in it hidden: after each `://`,
/// up to the last `@` before the next whitespace or quote-like character (`'`, `"`, `` ` ``,
/// `(`, `)`, `<`, `>`, `,`).
pub(crate) fn hide_in_text(text: &str) -> Cow<'_, str> {
    if !text.contains('@') || !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let ends = |c: char| c.is_whitespace() || "'\"`()<>,".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let start = i + "://".len();
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(ends).unwrap_or(rest.len());
        match rest[..end].rfind('@') {
            Some(at) if at > 0 => {
                out.push_str(HIDDEN);
                rest = &rest[at..];
            }
            _ => {}
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_hide_everything_up_to_the_last_at() {
        for (value, shown) in [
            ("http://user:secret@c:4318", "http://<hidden>@c:4318"),
            ("http://user:secret@bad%zz", "http://<hidden>@bad%zz"),
            ("user:secret@c:4318", "<hidden>@c:4318"),
            ("http://u:se/cret@c/p", "http://<hidden>@c/p"),
            ("http://u:p@c/a@b", "http://<hidden>@b"),
            ("http://@c", "http://@c"),
            ("a@b://c", "<hidden>@b://c"),
            ("http://c:4318", "http://c:4318"),
            ("k=v@x,url=http://u:s@h", "k=v@x,url=http://<hidden>@h"),
        ] {
            assert_eq!(hide_in_value(value), shown, "{value}");
        }
    }

    #[test]
    fn texts_hide_the_userinfo_of_each_url() {
        assert_eq!(
            hide_in_text("error sending request for url (http://u:secret@c:1/v1/traces): refused"),
            "error sending request for url (http://<hidden>@c:1/v1/traces): refused"
        );
        assert_eq!(
            hide_in_text("'https://a:b@x' and 'http://c:d@y/p@q' at ops@example.com"),
            "'https://<hidden>@x' and 'http://<hidden>@q' at ops@example.com"
        );
        assert_eq!(hide_in_text("no url, a@b"), "no url, a@b");
    }
}
