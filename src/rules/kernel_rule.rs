//! `kind: sysctl` (a kernel parameter's value in /proc/sys) and `kind: module` (whether a
//! kernel module is loaded, from /proc/modules).

use super::rule::RuleOutcome;
use super::template::{FindingTemplate, Vars};
use crate::check::Context;
use crate::kernel::{modules, sysctl};

#[derive(Debug)]
pub struct SysctlRule {
    /// Dotted name, such as `net.ipv4.ip_forward`.
    pub key: String,
    pub equals: String,
}

impl SysctlRule {
    pub fn evaluate(&self, context: &Context, template: &FindingTemplate) -> RuleOutcome {
        let value = match sysctl::current(context.host.as_ref(), &self.key) {
            sysctl::Current::Value(value) => value,
            sysctl::Current::Absent => "absent".to_string(),
            sysctl::Current::Unknown => {
                return RuleOutcome::Skipped(format!(
                    "{} cannot be read",
                    sysctl::proc_path(&self.key)
                ));
            }
        };
        // Multi-value parameters such as net.ipv4.ip_local_port_range are tab-separated.
        let normalised = value.split_whitespace().collect::<Vec<_>>().join(" ");
        if normalised == self.equals {
            return RuleOutcome::Findings(Vec::new());
        }
        let mut vars = Vars::new();
        vars.insert("node".into(), context.node_name().to_string());
        vars.insert("key".into(), self.key.clone());
        vars.insert("expected".into(), self.equals.clone());
        vars.insert("value".into(), normalised.clone());
        let finding =
            template
                .instantiate(&vars)
                .evidence(sysctl::proc_path(&self.key), "value", normalised);
        RuleOutcome::Findings(vec![finding])
    }
}

#[derive(Debug)]
pub struct ModuleRule {
    pub name: String,
    /// `true`: the module must be loaded. `false`: it must not be.
    pub loaded: bool,
}

impl ModuleRule {
    pub fn evaluate(&self, context: &Context, template: &FindingTemplate) -> RuleOutcome {
        let text = match context
            .host
            .read_text(modules::PROC_MODULES, 4 * 1024 * 1024)
        {
            Ok(text) => text,
            Err(error) if error.is_not_found() => {
                return RuleOutcome::Skipped(format!("{} cannot be read", modules::PROC_MODULES));
            }
            Err(error) => return RuleOutcome::Error(error.to_string()),
        };
        let loaded = modules::is_loaded(&text, &self.name);
        if loaded == self.loaded {
            return RuleOutcome::Findings(Vec::new());
        }
        let value = if loaded { "loaded" } else { "not loaded" };
        let mut vars = Vars::new();
        vars.insert("node".into(), context.node_name().to_string());
        vars.insert("module".into(), self.name.clone());
        vars.insert("value".into(), value.to_string());
        let finding =
            template
                .instantiate(&vars)
                .evidence(modules::PROC_MODULES, &self.name, value);
        RuleOutcome::Findings(vec![finding])
    }
}
