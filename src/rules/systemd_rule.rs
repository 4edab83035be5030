//! `kind: systemd`: one property of a unit as `systemctl show` prints it.

use super::rule::RuleOutcome;
use super::template::{FindingTemplate, Vars};
use crate::check::Context;
use crate::systemd::read_show;

#[derive(Debug)]
pub struct SystemdRule {
    pub unit: String,
    pub property: String,
    pub equals: String,
}

impl SystemdRule {
    pub fn evaluate(&self, context: &Context, template: &FindingTemplate) -> RuleOutcome {
        let Some(show) = read_show(context.host.as_ref(), &self.unit, &[&self.property]) else {
            return RuleOutcome::Skipped(format!("systemctl show {} is not available", self.unit));
        };
        let value = show.get(&self.property).unwrap_or_default().to_string();
        if value == self.equals {
            return RuleOutcome::Findings(Vec::new());
        }
        let mut vars = Vars::new();
        vars.insert("node".into(), context.node_name().to_string());
        vars.insert("unit".into(), self.unit.clone());
        vars.insert("property".into(), self.property.clone());
        vars.insert("expected".into(), self.equals.clone());
        vars.insert("value".into(), value.clone());
        let source = format!("systemctl show {}", self.unit);
        let finding = template
            .instantiate(&vars)
            .evidence(source, &self.property, value);
        RuleOutcome::Findings(vec![finding])
    }
}
