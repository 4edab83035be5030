//! A validated rule and what evaluating it gives.

use regex::Regex;

use super::certificate_rule::CertificateRule;
use super::file_rule::FileRule;
use super::kernel_rule::{ModuleRule, SysctlRule};
use super::log_source::LogSource;
use super::plugin::CommandRule;
use super::systemd_rule::SystemdRule;
use super::template::FindingTemplate;
use crate::check::{Code, Context, Finding};

/// One rule of a declarative check.
#[derive(Debug)]
pub struct Rule {
    pub kind: RuleKind,
    /// The finding reported when the rule fails. A command rule with JSON output may have
    /// none, because its program writes the findings.
    pub finding: Option<FindingTemplate>,
    /// `FILE:LINE` of the rule, for logs.
    pub location: String,
}

#[derive(Debug)]
pub enum RuleKind {
    File(FileRule),
    Sysctl(SysctlRule),
    Module(ModuleRule),
    Certificate(CertificateRule),
    Systemd(SystemdRule),
    Log { source: LogSource, pattern: Regex },
    Command(CommandRule),
}

/// What evaluating one rule gave.
#[derive(Debug)]
pub enum RuleOutcome {
    Findings(Vec<Finding>),
    /// The rule does not apply here, such as a plugin on a snapshot.
    Skipped(String),
    /// The rule could not decide.
    Error(String),
}

impl Rule {
    /// Evaluates the rule against the node. `codes` are the codes of the check, which a
    /// plugin's JSON findings must use.
    pub fn evaluate(&self, context: &Context, codes: &[Code]) -> RuleOutcome {
        let template = self.finding.as_ref();
        match &self.kind {
            RuleKind::File(rule) => rule.evaluate(context, expect_template(template)),
            RuleKind::Sysctl(rule) => rule.evaluate(context, expect_template(template)),
            RuleKind::Module(rule) => rule.evaluate(context, expect_template(template)),
            RuleKind::Certificate(rule) => rule.evaluate(context, expect_template(template)),
            RuleKind::Systemd(rule) => rule.evaluate(context, expect_template(template)),
            RuleKind::Log { source, pattern } => {
                super::log_rule::evaluate(context, source, pattern, expect_template(template))
            }
            RuleKind::Command(rule) => rule.evaluate(context, template, codes, &self.location),
        }
    }
}

/// Validation gives every rule but a JSON command rule a finding.
fn expect_template(template: Option<&FindingTemplate>) -> &FindingTemplate {
    template.expect("validation requires a finding for this rule kind")
}
