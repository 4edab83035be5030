//! A check defined in a checks file, run like a built-in one.

use super::rule::{Rule, RuleOutcome};
use crate::check::{Check, Code, Context, Outcome};

#[derive(Debug)]
pub struct DeclarativeCheck {
    pub id: &'static str,
    pub title: &'static str,
    /// The codes the rules declare, in file order.
    pub codes: Vec<Code>,
    pub rules: Vec<Rule>,
}

impl Check for DeclarativeCheck {
    fn id(&self) -> &'static str {
        self.id
    }

    fn title(&self) -> &'static str {
        self.title
    }

    fn codes(&self) -> Vec<Code> {
        self.codes.clone()
    }

    /// Runs every rule. A rule that cannot decide makes the check `error` with its reason,
    /// and the other rules' findings are still reported. When every rule was skipped, the
    /// check is skipped.
    fn run(&self, context: &Context) -> Outcome {
        let mut findings = Vec::new();
        let mut errors = Vec::new();
        let mut skipped = Vec::new();
        for rule in &self.rules {
            match rule.evaluate(context, &self.codes) {
                RuleOutcome::Findings(found) => findings.extend(found),
                RuleOutcome::Skipped(why) => {
                    tracing::info!(check = self.id, rule = rule.location, why, "rule skipped");
                    skipped.push(why);
                }
                RuleOutcome::Error(why) => {
                    tracing::warn!(check = self.id, rule = rule.location, why, "rule failed");
                    errors.push(format!("{}: {why}", rule.location));
                }
            }
        }
        if !errors.is_empty() {
            return Outcome::Incomplete(findings, errors.join("; "));
        }
        if skipped.len() == self.rules.len() {
            return Outcome::Skipped(skipped.join("; "));
        }
        Outcome::Ran(findings)
    }
}
