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

/// Secrets a log line can carry, each with its replacement. The name of each secret stays, so
/// the line still shows what was there.
static SECRETS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        // A bootstrap token's secret half; its ID, before the dot, is public.
        (r"\b([a-z0-9]{6})\.[a-z0-9]{16}\b", "$1.<redacted>"),
        // The key kubeadm encrypts uploaded control-plane certificates with.
        (
            r#"(?i)(certificate-?key\\?"?\s*[=:\s]\s*\\?"?)[0-9a-f]{64}"#,
            "$1<redacted>",
        ),
        // HTTP Authorization header values.
        (r"(?i)(authorization:\s*\w+\s+)\S+", "$1<redacted>"),
        (r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{16,}", "$1<redacted>"),
        // A password in a URL's user information.
        (r"(://[^/\s:@]+:)[^/\s@]+@", "$1<redacted>@"),
        // `token: x`, `password=x`, `"auth": "x"` and the like, as YAML, JSON or flags.
        (
            r#"(?i)\b((?:[a-z]+[-_])?(?:token|password|passwd|secret|auth)\\?"?\s*[:=]\s*\\?"?)[^\s"\\,;}\]]+"#,
            "$1<redacted>",
        ),
    ]
    .into_iter()
    .map(|(pattern, replacement)| (Regex::new(pattern).expect("secret pattern"), replacement))
    .collect()
});

/// Replaces token, password and certificate key values in `text`, keeping the rest.
/// `Evidence::new` applies it to every evidence value a check builds, so a quoted log line
/// cannot leak them.
pub fn mask_secrets(text: &str) -> String {
    let mut masked = text.to_string();
    for (pattern, replacement) in SECRETS.iter() {
        if let std::borrow::Cow::Owned(replaced) = pattern.replace_all(&masked, *replacement) {
            masked = replaced;
        }
    }
    masked
}

/// The maximum length of a line shown as evidence, in bytes.
const MAX_SHOWN_LINE: usize = 2000;

/// Returns a line fit to show: token, password and key secrets replaced, lines with private
/// key material dropped, and long lines cut.
pub fn redact(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    if lower.contains("key-data") || lower.contains("private key") {
        return "[line not shown: it may contain key material]".to_string();
    }
    let redacted = mask_secrets(text);
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

    #[test]
    fn redact_hides_passwords_and_headers() {
        let key = "f8902e114ef118304e561c3ecd4d0b543adc226b7a07f675f56564185ffe0c07";
        let cases = [
            (
                format!("kubeadm join x --control-plane --certificate-key {key}"),
                "--certificate-key <redacted>".to_string(),
            ),
            (
                format!("certificateKey: \"{key}\""),
                "certificateKey: \"<redacted>".to_string(),
            ),
            (
                "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.payload".to_string(),
                "Authorization: Bearer <redacted>".to_string(),
            ),
            (
                "pulling https://robot:s3cr3tpass@registry.example.test/v2/".to_string(),
                "https://robot:<redacted>@registry.example.test".to_string(),
            ),
            (
                "password: hunter2hunter2 username: robot".to_string(),
                "password: <redacted> username: robot".to_string(),
            ),
            (
                r#"{\"auth\":\"cm9ib3Q6aHVudGVyMg==\"}"#.to_string(),
                r#"\"auth\":\"<redacted>"#.to_string(),
            ),
            (
                "--bootstrap-token=0123456789abcdef0123".to_string(),
                "--bootstrap-token=<redacted>".to_string(),
            ),
        ];
        for (line, expected) in cases {
            let shown = redact(&line);
            assert!(shown.contains(&expected), "{line} became {shown}");
        }
    }

    #[test]
    fn redact_keeps_public_values() {
        let lines = [
            "--discovery-token-ca-cert-hash sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "token id \"abcdef\" is invalid for this cluster or it has expired",
            "Unable to authenticate the request: x509: certificate has expired",
            "no basic auth credentials",
            "basic authentication failed: invalid bearer token",
        ];
        for line in lines {
            assert_eq!(redact(line), line);
        }
    }
}
