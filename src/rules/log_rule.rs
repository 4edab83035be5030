//! `kind: log`: a regular expression over the tail of a journal unit, pod logs or a file. A
//! match is the problem: the finding is reported once, with the count and the first and last
//! time seen.

use regex::Regex;

use super::log_match;
use super::log_source::{self, LogSource};
use super::rule::RuleOutcome;
use super::template::FindingTemplate;
use crate::check::Context;

pub fn evaluate(
    context: &Context,
    source: &LogSource,
    pattern: &Regex,
    template: &FindingTemplate,
) -> RuleOutcome {
    let logs = match log_source::read(context.host.as_ref(), source) {
        Ok(logs) => logs,
        Err(why) => return RuleOutcome::Error(why),
    };
    if logs.is_empty() {
        return RuleOutcome::Skipped(format!("no log to read for {source:?}"));
    }
    let Some(summary) = log_match::search(pattern, &logs, |_| true) else {
        return RuleOutcome::Findings(Vec::new());
    };
    let mut vars = summary.vars.clone();
    vars.insert("node".into(), context.node_name().to_string());
    let finding = template
        .instantiate(&vars)
        .with_evidence(summary.evidence());
    RuleOutcome::Findings(vec![finding])
}
