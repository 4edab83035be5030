//! The unit file syntax of systemd.syntax(7): sections, `Key=value` lines, comments and
//! backslash continuations.

/// One `Key=value` line of a unit file or drop-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub section: String,
    pub key: String,
    /// The value with surrounding whitespace removed. Empty means the setting is reset.
    pub value: String,
    /// The host path of the file.
    pub file: String,
    /// The 1-based line the assignment starts on.
    pub line: usize,
}

impl Assignment {
    /// Returns `FILE:LINE`, the form evidence uses.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    /// Returns the line as written, such as `MountFlags=slave`.
    pub fn text(&self) -> String {
        format!("{}={}", self.key, self.value)
    }
}

/// The assignments of one file, and the lines that were ignored with the reason.
#[derive(Clone, Debug, Default)]
pub struct ParsedFile {
    pub assignments: Vec<Assignment>,
    pub problems: Vec<String>,
}

/// Parses a unit file or drop-in. `file` is the host path recorded in each assignment.
///
/// Lines starting with `#` or `;` are comments. A line ending in a backslash continues on the
/// next line, with the backslash replaced by a space, and comment lines inside a continuation
/// are skipped. An assignment before the first section header, a line without `=` and a line
/// that is not valid UTF-8 are ignored and recorded as problems, because systemd ignores them
/// too (it logs them and loads the rest of the file).
pub fn parse_unit_file(bytes: &[u8], file: &str) -> ParsedFile {
    let mut parsed = ParsedFile::default();
    let mut section: Option<String> = None;
    let mut pending: Option<(usize, String)> = None;

    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let number = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let Ok(text) = std::str::from_utf8(raw) else {
            parsed
                .problems
                .push(format!("{file}:{number}: line is not valid UTF-8, ignored"));
            if let Some((start, _)) = pending.take() {
                parsed.problems.push(format!(
                    "{file}:{start}: continued line ends in invalid UTF-8, ignored"
                ));
            }
            continue;
        };
        let trimmed = text.trim();

        if let Some((start, mut joined)) = pending.take() {
            if trimmed.starts_with('#') || trimmed.starts_with(';') {
                pending = Some((start, joined));
                continue;
            }
            match trimmed.strip_suffix('\\') {
                Some(head) => {
                    joined.push_str(head);
                    joined.push(' ');
                    pending = Some((start, joined));
                }
                None => {
                    joined.push_str(trimmed);
                    accept_line(&mut parsed, &mut section, file, start, &joined);
                }
            }
            continue;
        }

        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(head) => pending = Some((number, format!("{head} "))),
            None => accept_line(&mut parsed, &mut section, file, number, trimmed),
        }
    }
    if let Some((start, joined)) = pending {
        accept_line(&mut parsed, &mut section, file, start, joined.trim_end());
    }
    parsed
}

fn accept_line(
    parsed: &mut ParsedFile,
    section: &mut Option<String>,
    file: &str,
    line: usize,
    text: &str,
) {
    if let Some(name) = text.strip_prefix('[') {
        match name.strip_suffix(']') {
            Some(name) => *section = Some(name.to_string()),
            None => parsed
                .problems
                .push(format!("{file}:{line}: invalid section header {text:?}")),
        }
        return;
    }
    let Some((key, value)) = text.split_once('=') else {
        parsed
            .problems
            .push(format!("{file}:{line}: missing '=' in {text:?}, ignored"));
        return;
    };
    let Some(section) = section.as_ref() else {
        parsed.problems.push(format!(
            "{file}:{line}: assignment outside of a section, ignored"
        ));
        return;
    };
    parsed.assignments.push(Assignment {
        section: section.clone(),
        key: key.trim().to_string(),
        value: value.trim().to_string(),
        file: file.to_string(),
        line,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(parsed: &ParsedFile) -> Vec<(String, String, usize)> {
        parsed
            .assignments
            .iter()
            .map(|a| (a.key.clone(), a.value.clone(), a.line))
            .collect()
    }

    #[test]
    fn reads_sections_and_comments() {
        let text = "# header\n[Unit]\nDescription=x\n\n[Service]\n; note\nMountFlags = slave \n";
        let parsed = parse_unit_file(text.as_bytes(), "/u");
        assert_eq!(parsed.assignments[1].section, "Service");
        assert_eq!(
            values(&parsed),
            vec![
                ("Description".into(), "x".into(), 3),
                ("MountFlags".into(), "slave".into(), 7)
            ]
        );
        assert!(parsed.problems.is_empty());
    }

    #[test]
    fn joins_continuations_and_skips_comments_inside() {
        let text = "[Service]\nExecStart=/bin/a \\\n  --x \\\n# inside\n  --y\nUser=root\n";
        let parsed = parse_unit_file(text.as_bytes(), "/u");
        assert_eq!(parsed.assignments[0].value, "/bin/a  --x  --y");
        assert_eq!(parsed.assignments[0].line, 2);
        assert_eq!(parsed.assignments[1].line, 6);
    }

    #[test]
    fn continuation_at_end_of_file() {
        let parsed = parse_unit_file(b"[Service]\nExecStart=/bin/a \\", "/u");
        assert_eq!(parsed.assignments[0].value, "/bin/a");
    }

    #[test]
    fn invalid_utf8_line_is_ignored() {
        let bytes = b"[Service]\nDescription=\xff\xfe\nMountFlags=slave\n";
        let parsed = parse_unit_file(bytes, "/u");
        assert_eq!(
            values(&parsed),
            vec![("MountFlags".into(), "slave".into(), 3)]
        );
        assert_eq!(parsed.problems.len(), 1);
        assert!(parsed.problems[0].contains("/u:2"), "{:?}", parsed.problems);
    }

    #[test]
    fn assignment_outside_section_is_ignored() {
        let parsed = parse_unit_file(b"MountFlags=slave\nnonsense\n", "/u");
        assert!(parsed.assignments.is_empty());
        assert_eq!(parsed.problems.len(), 2);
    }

    #[test]
    fn crlf_line_endings() {
        let parsed = parse_unit_file(b"[Service]\r\nMountFlags=slave\r\n", "/u");
        assert_eq!(parsed.assignments[0].value, "slave");
    }
}
