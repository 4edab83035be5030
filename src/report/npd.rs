//! node-problem-detector's custom plugin protocol: a single status line on standard output
//! and the exit status 0 (OK), 1 (problem) or 2 (unknown).
//!
//! node-problem-detector keeps at most `max_output_length` bytes of the output (80 by
//! default), so the line is cut to [`MAX_LINE`] characters here, with the most severe codes
//! first.

use super::{EXIT_OK, EXIT_PROBLEM, EXIT_UNKNOWN, Report};
use crate::check::{CheckStatus, Severity};

/// Maximum length of the printed line, in characters. It matches node-problem-detector's default
/// `max_output_length`.
pub const MAX_LINE: usize = 80;

/// Returns the line (with its newline) and the exit status.
///
/// Status 1 when a finding is at or above `fail_on`. Otherwise status 2 when a check ended
/// with status `error`, because the plugin then cannot tell whether the node is healthy.
/// Otherwise status 0.
pub fn render_npd(report: &Report, fail_on: Severity) -> (String, u8) {
    let mut failing: Vec<(Severity, &str)> = report
        .findings()
        .filter(|finding| finding.severity >= fail_on)
        .map(|finding| (finding.severity, finding.code.as_str()))
        .collect();
    failing.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    failing.dedup();

    let errors: Vec<&str> = report
        .results
        .iter()
        .filter(|result| result.status == CheckStatus::Error)
        .map(|result| result.id)
        .collect();

    let (line, status) = if !failing.is_empty() {
        let codes: Vec<&str> = failing.iter().map(|(_, code)| *code).collect();
        (codes.join(" "), EXIT_PROBLEM)
    } else if !errors.is_empty() {
        (
            format!("could not check: {}", errors.join(" ")),
            EXIT_UNKNOWN,
        )
    } else {
        ("no problems found".to_string(), EXIT_OK)
    };
    (format!("{}\n", shorten(&line)), status)
}

/// Cuts `line` to [`MAX_LINE`] characters, ending with "..." when anything was cut.
fn shorten(line: &str) -> String {
    if line.chars().count() <= MAX_LINE {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(MAX_LINE - 3).collect();
    cut.push_str("...");
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_keeps_short_lines() {
        assert_eq!(shorten("no problems found"), "no problems found");
    }

    #[test]
    fn shorten_cuts_to_limit() {
        let cut = shorten(&"x".repeat(200));
        assert_eq!(cut.chars().count(), MAX_LINE);
        assert!(cut.ends_with("..."));
    }
}
