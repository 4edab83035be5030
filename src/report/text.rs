//! The report for people: findings grouped by severity, each with its evidence and fix, then
//! the checks that were skipped or failed to run, then a one-line summary.

use std::fmt::Write as _;

use super::Report;
use crate::check::{CheckStatus, Code, Finding, Severity};

/// Whether to use ANSI colour. Decided by the caller from the terminal and NO_COLOR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextStyle {
    Plain,
    Color,
}

impl TextStyle {
    /// Colour only on a terminal, and never when NO_COLOR is set to anything non-empty.
    pub fn detect(is_terminal: bool) -> TextStyle {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        if is_terminal && !no_color {
            TextStyle::Color
        } else {
            TextStyle::Plain
        }
    }

    fn paint(self, text: &str, code: &str) -> String {
        match self {
            TextStyle::Plain => text.to_string(),
            TextStyle::Color => format!("\x1b[{code}m{text}\x1b[0m"),
        }
    }

    fn severity(self, severity: Severity) -> String {
        let label = severity.as_str().to_uppercase();
        let code = match severity {
            Severity::Critical => "1;31",
            Severity::Warning => "1;33",
            Severity::Info => "1;36",
        };
        self.paint(&label, code)
    }
}

pub fn render_text(report: &Report, style: TextStyle) -> String {
    let report = &with_controls_escaped(report);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "node-doctor: node {} ({}, {})",
        report.node,
        report.source.as_str(),
        super::json::format_rfc3339(report.now)
    );

    let _ = writeln!(out);

    let mut printed: Vec<&Finding> = Vec::new();
    for severity in Severity::ALL {
        for finding in report.findings().filter(|f| f.severity == severity) {
            let same_fix = printed
                .iter()
                .find(|earlier| earlier.fix == finding.fix)
                .map(|f| f.code);
            write_finding(&mut out, finding, same_fix, style);
            printed.push(finding);
        }
    }

    let unfinished: Vec<_> = report
        .results
        .iter()
        .filter(|r| matches!(r.status, CheckStatus::Skipped | CheckStatus::Error))
        .collect();
    if !unfinished.is_empty() {
        for result in unfinished {
            let label = match result.status {
                CheckStatus::Error => style.paint("ERROR", "1;35"),
                _ => style.paint("skipped", "2"),
            };
            let reason = result.reason.as_deref().unwrap_or("");
            let _ = writeln!(out, "{label} {}: {reason}", result.id);
        }
        let _ = writeln!(out);
    }

    let summary = report.summary();
    let _ = writeln!(
        out,
        "{} critical, {} warning, {} info; checks: {} passed, {} failed, {} skipped, {} error ({} ms)",
        summary.critical,
        summary.warning,
        summary.info,
        summary.passed,
        summary.failed,
        summary.skipped,
        summary.error,
        report.duration.as_millis()
    );
    out
}

/// Writes one finding. A fix already printed for an earlier finding is referred to by its code.
fn write_finding(out: &mut String, finding: &Finding, same_fix: Option<Code>, style: TextStyle) {
    let code = style.paint(finding.code.as_str(), "1");
    let _ = writeln!(out, "{} {code}", style.severity(finding.severity));
    let _ = writeln!(out, "  {}", finding.summary);
    if !finding.details.is_empty() {
        for line in wrap(&finding.details, 96) {
            let _ = writeln!(out, "  {line}");
        }
    }

    if !finding.evidence.is_empty() {
        let _ = writeln!(out, "  evidence:");
        for evidence in &finding.evidence {
            let _ = writeln!(
                out,
                "    {} {}: {}",
                evidence.source, evidence.field, evidence.value
            );
        }
    }

    if let Some(code) = same_fix {
        let _ = writeln!(out, "  fix: the same as for {code} above");
    } else if !finding.fix.summary.is_empty() {
        let _ = writeln!(out, "  fix: {}", finding.fix.summary);
        for (number, step) in finding.fix.steps.iter().enumerate() {
            let _ = writeln!(out, "    {}. {step}", number + 1);
        }
        for command in &finding.fix.commands {
            let _ = writeln!(out, "    {}", style.paint(&format!("$ {command}"), "32"));
        }
    }
    for reference in &finding.references {
        let _ = writeln!(out, "  see: {reference}");
    }
    let _ = writeln!(out);
}

/// Returns a copy of the report whose strings show control characters as Rust escapes, such
/// as `\u{1b}`. Node names, paths and values come from the node or a snapshot, and escape
/// sequences in them would otherwise reach the terminal: a snapshot could retitle the window,
/// clear the screen or hide a finding.
fn with_controls_escaped(report: &Report) -> Report {
    let mut report = report.clone();
    report.node = escape_controls(&report.node);
    for result in &mut report.results {
        result.reason = result.reason.as_deref().map(escape_controls);
        for finding in &mut result.findings {
            finding.summary = escape_controls(&finding.summary);
            finding.details = escape_controls(&finding.details);
            for evidence in &mut finding.evidence {
                evidence.source = escape_controls(&evidence.source);
                evidence.field = escape_controls(&evidence.field);
                evidence.value = escape_controls(&evidence.value);
            }
            finding.fix.summary = escape_controls(&finding.fix.summary);
            for text in finding
                .fix
                .steps
                .iter_mut()
                .chain(&mut finding.fix.commands)
            {
                *text = escape_controls(text);
            }
            for reference in &mut finding.references {
                *reference = escape_controls(reference);
            }
        }
    }
    report
}

fn escape_controls(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// Wraps text at spaces so no line exceeds `width` characters, unless one word does.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
