//! The CRI log format that containerd and CRI-O write:
//! `2026-12-04T10:00:00.123456789Z stderr F text`. The third field is a list of tags
//! separated by `:`, whose first tag is `P` when the runtime split a long line and more of it
//! follows, or `F` for a full line or the last part.

use super::{LogLine, PartialLines};

/// Parses CRI lines, joining partial ones. Returns the lines and how many were malformed.
pub fn parse_lines(raw: &[&str]) -> (Vec<LogLine>, usize) {
    let mut lines = Vec::new();
    let mut partial = PartialLines::default();
    let mut skipped = 0;
    for line in raw {
        let Some((time, stream, partial_part, text)) = split(line) else {
            skipped += 1;
            continue;
        };
        if let Some(whole) = partial.push(time, stream, text, !partial_part) {
            lines.push(whole);
        }
    }
    (lines, skipped)
}

/// Splits one line into time, stream, whether it is a partial part, and the text.
fn split(line: &str) -> Option<(&str, &str, bool, &str)> {
    let mut fields = line.splitn(4, ' ');
    let time = fields.next()?;
    let stream = fields.next()?;
    let tags = fields.next()?;
    let text = fields.next().unwrap_or_default();
    let looks_like_time = time.len() >= 20 && time.as_bytes()[4] == b'-' && time.contains('T');
    if !looks_like_time || !matches!(stream, "stdout" | "stderr") {
        return None;
    }
    let partial = tags.split(':').next() == Some("P");
    Some((time, stream, partial, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_parts_are_joined() {
        let raw = [
            "2026-12-04T10:00:00.000000001Z stderr P Can't determine this ",
            "2026-12-04T10:00:00.000000002Z stdout F unrelated",
            "2026-12-04T10:00:00.000000003Z stderr F node's IP",
        ];
        let (lines, skipped) = parse_lines(&raw);
        assert_eq!(skipped, 0);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "unrelated");
        assert_eq!(lines[1].text, "Can't determine this node's IP");
        assert_eq!(lines[1].time, "2026-12-04T10:00:00.000000001Z");
    }

    #[test]
    fn crio_offset_time_and_empty_text() {
        let raw = ["2026-12-04T10:00:00.123456789+00:00 stdout F", "garbage"];
        let (lines, skipped) = parse_lines(&raw);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text, "");
        assert_eq!(skipped, 1);
    }
}
