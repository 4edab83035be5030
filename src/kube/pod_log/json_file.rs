//! Docker's json-file log driver: one JSON object a line, `{"log":"text\n","stream":"stderr",
//! "time":"2026-12-04T10:00:00.123456789Z"}`. Docker splits lines over 16 KiB; every part but
//! the last lacks the trailing newline in `log`.

use serde::Deserialize;

use super::{LogLine, PartialLines};

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    log: String,
    #[serde(default)]
    stream: String,
    #[serde(default)]
    time: String,
}

/// Parses json-file lines, joining split ones. Returns the lines and how many were malformed.
pub fn parse_lines(raw: &[&str]) -> (Vec<LogLine>, usize) {
    let mut lines = Vec::new();
    let mut partial = PartialLines::default();
    let mut skipped = 0;
    for line in raw {
        let Ok(entry) = serde_json::from_str::<Entry>(line) else {
            skipped += 1;
            continue;
        };
        let last = entry.log.ends_with('\n');
        let text = entry.log.trim_end_matches('\n').trim_end_matches('\r');
        if let Some(whole) = partial.push(&entry.time, &entry.stream, text, last) {
            lines.push(whole);
        }
    }
    (lines, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_line_is_joined() {
        let raw = [
            r#"{"log":"invalid nodeIP, ","stream":"stderr","time":"2026-12-04T10:00:00.1Z"}"#,
            r#"{"log":"initializing kube-proxy with 127.0.0.1 as nodeIP\n","stream":"stderr","time":"2026-12-04T10:00:00.2Z"}"#,
            "not json",
        ];
        let (lines, skipped) = parse_lines(&raw);
        assert_eq!(skipped, 1);
        assert_eq!(lines.len(), 1);
        assert_eq!(
            lines[0].text,
            "invalid nodeIP, initializing kube-proxy with 127.0.0.1 as nodeIP"
        );
    }
}
