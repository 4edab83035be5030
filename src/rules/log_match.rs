//! Searching logs for one pattern and summarising the matches: a pattern is reported once,
//! with how often it matched, the first and last time seen, and the captures of its newest
//! match.

use regex::Regex;

use super::log_line::{self, Line};
use super::log_source::LogLines;
use super::template::{self, Vars};
use crate::check::Evidence;

/// The matches of one pattern across the logs searched.
#[derive(Clone, Debug, Default)]
pub struct MatchSummary {
    pub count: usize,
    pub first_seen: Option<String>,
    pub last_seen: Option<String>,
    /// The newest matching line, redacted.
    pub last_line: String,
    /// Each source with a match and how many lines matched in it.
    pub sources: Vec<(String, usize)>,
    /// `{{0}}`, `{{1}}`... and named groups of the newest match, plus `count`, `first_seen`,
    /// `last_seen`, `seen` (count and times in words), `source` and `line`.
    pub vars: Vars,
}

/// Matches `pattern` against every line. `accept` can veto a line that matched, as when a
/// line belongs to a more specific pattern. Returns `None` when nothing matched.
pub fn search(
    pattern: &Regex,
    logs: &[LogLines],
    accept: impl Fn(&Line) -> bool,
) -> Option<MatchSummary> {
    let mut summary = MatchSummary::default();
    for log in logs {
        let mut in_source = 0;
        for line in &log.lines {
            let Some(captures) = pattern.captures(&line.text) else {
                continue;
            };
            if !accept(line) {
                continue;
            }
            in_source += 1;
            summary.count += 1;
            if summary.first_seen.is_none() {
                summary.first_seen = line.time.clone();
            }
            if line.time.is_some() {
                summary.last_seen = line.time.clone();
            }
            summary.last_line = log_line::redact(&line.text);
            summary.vars = Vars::new();
            template::add_captures(&mut summary.vars, pattern, &captures);
            summary.vars.insert("source".into(), log.source.clone());
        }
        if in_source > 0 {
            summary.sources.push((log.source.clone(), in_source));
        }
    }
    if summary.count == 0 {
        return None;
    }
    // Captures are shown in reports, so they get the same redaction as whole lines.
    for value in summary.vars.values_mut() {
        *value = log_line::redact(value);
    }
    summary
        .vars
        .insert("count".into(), summary.count.to_string());
    let unknown = "unknown".to_string();
    let first = summary
        .first_seen
        .clone()
        .unwrap_or_else(|| unknown.clone());
    let last = summary.last_seen.clone().unwrap_or(unknown);
    summary.vars.insert("first_seen".into(), first);
    summary.vars.insert("last_seen".into(), last);
    summary
        .vars
        .insert("line".into(), summary.last_line.clone());
    summary.vars.insert("seen".into(), summary.seen());
    Some(summary)
}

impl MatchSummary {
    /// Describes how often and when the pattern matched, such as `3 times between 0508
    /// 12:20:58 and 0508 12:21:40` or `once`.
    pub fn seen(&self) -> String {
        let times = if self.count == 1 {
            "once".to_string()
        } else {
            format!("{} times", self.count)
        };
        match (&self.first_seen, &self.last_seen) {
            (Some(first), Some(last)) if first != last => {
                format!("{times} between {first} and {last}")
            }
            (Some(first), _) => format!("{times} at {first}"),
            _ => times,
        }
    }

    /// Returns the evidence for a finding: per source, the count, and overall the first and last
    /// time seen and the newest line.
    pub fn evidence(&self) -> Vec<Evidence> {
        let mut evidence = Vec::new();
        for (source, count) in &self.sources {
            evidence.push(Evidence::new(source, "matching lines", count.to_string()));
        }
        let last_source = self
            .sources
            .last()
            .map(|(source, _)| source.clone())
            .unwrap_or_default();
        if let Some(first) = &self.first_seen {
            evidence.push(Evidence::new(&last_source, "first seen", first));
        }
        if let Some(last) = &self.last_seen {
            evidence.push(Evidence::new(&last_source, "last seen", last));
        }
        evidence.push(Evidence::new(&last_source, "log", &self.last_line));
        evidence
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn logs(lines: &[&str]) -> Vec<LogLines> {
        vec![LogLines {
            source: "journalctl -u kubelet".into(),
            lines: lines.iter().map(|l| Line::from_text(l)).collect(),
        }]
    }

    #[test]
    fn search_counts_and_keeps_first_and_last() {
        let pattern = Regex::new(r"node (?P<node>\S+) gone").unwrap();
        let found = search(
            &pattern,
            &logs(&[
                "E0101 10:00:00.1 1 a.go:1] node a gone",
                "I0101 10:00:01.1 1 a.go:1] fine",
                "E0101 10:00:02.1 1 a.go:1] node b gone",
            ]),
            |_| true,
        )
        .unwrap();
        assert_eq!(found.count, 2);
        assert_eq!(found.first_seen.as_deref(), Some("0101 10:00:00.1"));
        assert_eq!(found.last_seen.as_deref(), Some("0101 10:00:02.1"));
        assert_eq!(
            found.vars["seen"],
            "2 times between 0101 10:00:00.1 and 0101 10:00:02.1"
        );
        assert_eq!(found.vars["node"], "b");
        assert_eq!(found.vars["count"], "2");
    }

    #[test]
    fn search_without_match_is_none() {
        let pattern = Regex::new("absent").unwrap();
        assert!(search(&pattern, &logs(&["present"]), |_| true).is_none());
    }
}
