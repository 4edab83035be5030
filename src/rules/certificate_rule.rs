//! `kind: certificate`: whether the first certificate in a PEM file has expired, or expires
//! within `warnWithin`.

use std::time::Duration;

use super::rule::RuleOutcome;
use super::template::{FindingTemplate, Vars};
use crate::check::Context;
use crate::host::MAX_CONFIG_BYTES;
use crate::kube::cert::parse_pem_certificates;
use crate::report::format_rfc3339;

#[derive(Debug)]
pub struct CertificateRule {
    pub path: String,
    pub warn_within: Duration,
}

impl CertificateRule {
    pub fn evaluate(&self, context: &Context, template: &FindingTemplate) -> RuleOutcome {
        let data = match context.host.read_file(&self.path, MAX_CONFIG_BYTES) {
            Ok(data) => data,
            Err(error) if error.is_not_found() => {
                return RuleOutcome::Skipped(format!("{} does not exist", self.path));
            }
            Err(error) => return RuleOutcome::Error(error.to_string()),
        };
        let certificate = match parse_pem_certificates(&data) {
            Ok(mut certificates) if !certificates.is_empty() => certificates.swap_remove(0),
            Ok(_) => return RuleOutcome::Error(format!("{}: no certificate", self.path)),
            Err(error) => return RuleOutcome::Error(format!("{}: {error}", self.path)),
        };
        context.record_certificate(&self.path, &certificate.subject, certificate.not_after);

        let now = context.now();
        let remaining = certificate.not_after.as_second() - now.as_second();
        let window = i64::try_from(self.warn_within.as_secs()).unwrap_or(i64::MAX);
        if remaining > window {
            return RuleOutcome::Findings(Vec::new());
        }
        let state = if remaining <= 0 {
            "expired"
        } else {
            "expiring"
        };
        let not_after = format_rfc3339(certificate.not_after);
        let mut vars = Vars::new();
        vars.insert("node".into(), context.node_name().to_string());
        vars.insert("path".into(), self.path.clone());
        vars.insert("subject".into(), certificate.subject.clone());
        vars.insert("not_after".into(), not_after.clone());
        vars.insert("value".into(), state.to_string());
        vars.insert("days_left".into(), (remaining / 86_400).to_string());
        let finding = template
            .instantiate(&vars)
            .evidence(&self.path, "notAfter", not_after);
        RuleOutcome::Findings(vec![finding])
    }
}
