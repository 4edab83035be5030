//! One log line as the log readers return it: its text, the time it carries, and redaction of
//! secrets before any of it is shown.

use std::sync::LazyLock;

use regex::Regex;

/// A log line and the time written on it, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// The time as the line spells it, such as `2026-12-04T10:00:00+0000` or `I0508 12:20:58`.
    pub time: Option<String>,
    pub text: String,
}

impl Line {
    /// Builds a line and reads its time from the text.
    pub fn from_text(text: &str) -> Line {
        Line {
            time: line_time(text),
            text: text.to_string(),
        }
    }
}

/// Times at the start of a line, tried in order: RFC 3339 and `journalctl -o short-iso`,
/// bracketed `[2021-05-08 12:20:58]`, etcd's `2023-05-24 02:17:33.760448`, syslog's
/// `Nov 11 00:15:46`, then the klog header `I0508 12:20:58.282533`, kept as `0508 12:20:58.282533` because it has
/// no year.
static TIME_PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"^\[?(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\]?",
        r"^([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2})",
        r"(?:^|\s|\])[IWEF](\d{4} \d{2}:\d{2}:\d{2}(?:\.\d+)?)",
    ]
    .iter()
    .map(|pattern| Regex::new(pattern).expect("time pattern compiles"))
    .collect()
});

/// Returns the time a line starts with, as written.
pub fn line_time(text: &str) -> Option<String> {
    TIME_PATTERNS
        .iter()
        .find_map(|pattern| pattern.captures(text))
        .map(|captures| captures[1].to_string())
}

static BOOTSTRAP_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b([a-z0-9]{6})\.[a-z0-9]{16}\b").expect("token pattern"));

/// The maximum length of a line shown as evidence, in bytes.
const MAX_SHOWN_LINE: usize = 2000;

/// Returns a line fit to show: bootstrap token secrets replaced, lines with key material
/// dropped, and long lines cut.
pub fn redact(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if lower.contains("key-data") || lower.contains("private key") {
        return "[line not shown: it may contain key material]".to_string();
    }
    let redacted = BOOTSTRAP_TOKEN.replace_all(text, "$1.<redacted>");
    let trimmed = redacted.trim();
    if trimmed.len() <= MAX_SHOWN_LINE {
        return trimmed.to_string();
    }
    let mut end = MAX_SHOWN_LINE;
    while !trimmed.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &trimmed[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_each_format() {
        let cases = [
            (
                "2026-12-04T10:00:00+0000 node-1 kubelet[1]: E1204 msg",
                "2026-12-04T10:00:00+0000",
            ),
            (
                "[2021-05-08 12:20:58] I0508 12:20:58.282533 2583 join.go",
                "2021-05-08 12:20:58",
            ),
            (
                "Nov 11 00:15:46 node-1 kubelet[66610]: I1111",
                "Nov 11 00:15:46",
            ),
            (
                "E0925 22:45:43.610253 1 authentication.go:53] x",
                "0925 22:45:43.610253",
            ),
            (
                "kubelet[7]: F0101 14:32:07.026322  740513 server.go",
                "0101 14:32:07.026322",
            ),
        ];
        for (line, time) in cases {
            assert_eq!(line_time(line).as_deref(), Some(time), "{line}");
        }
        assert_eq!(line_time("server.go:610] Failed"), None);
    }

    #[test]
    fn redact_hides_token_secret_and_keys() {
        let line = "kubeadm join x --token abcdef.0123456789abcdef --discovery";
        assert_eq!(
            redact(line),
            "kubeadm join x --token abcdef.<redacted> --discovery"
        );
        assert!(!redact("client-key-data: AAAA").contains("AAAA"));
    }
}
