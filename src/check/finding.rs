use serde::{Deserialize, Serialize};

use super::{Code, Severity};

/// One problem found on the node, in the JSON report's shape.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub code: Code,
    pub check: &'static str,
    pub severity: Severity,
    pub summary: String,
    pub details: String,
    pub evidence: Vec<Evidence>,
    pub fix: Fix,
    pub references: Vec<String>,
}

/// One fact a finding rests on: where it was read, which field, and the value seen.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Evidence {
    pub source: String,
    pub field: String,
    pub value: String,
}

/// How to fix a finding, with this node's names, paths and addresses filled in.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Fix {
    pub summary: String,
    pub steps: Vec<String>,
    pub commands: Vec<String>,
}

impl Finding {
    /// Starts a finding with the code's default severity. The builder methods fill in the rest.
    pub fn new(code: Code, summary: impl Into<String>) -> Finding {
        Finding {
            code,
            check: code.check_id(),
            severity: code.default_severity(),
            summary: summary.into(),
            details: String::new(),
            evidence: Vec::new(),
            fix: Fix::default(),
            references: Vec::new(),
        }
    }

    pub fn severity(mut self, severity: Severity) -> Finding {
        self.severity = severity;
        self
    }

    pub fn details(mut self, details: impl Into<String>) -> Finding {
        self.details = details.into();
        self
    }

    pub fn evidence(
        mut self,
        source: impl Into<String>,
        field: impl Into<String>,
        value: impl Into<String>,
    ) -> Finding {
        self.evidence.push(Evidence::new(source, field, value));
        self
    }

    pub fn with_evidence(mut self, evidence: impl IntoIterator<Item = Evidence>) -> Finding {
        self.evidence.extend(evidence);
        self
    }

    pub fn fix(mut self, fix: Fix) -> Finding {
        self.fix = fix;
        self
    }

    pub fn reference(mut self, url: impl Into<String>) -> Finding {
        self.references.push(url.into());
        self
    }
}

impl Fix {
    pub fn new(summary: impl Into<String>) -> Fix {
        Fix {
            summary: summary.into(),
            ..Fix::default()
        }
    }

    pub fn step(mut self, step: impl Into<String>) -> Fix {
        self.steps.push(step.into());
        self
    }

    pub fn command(mut self, command: impl Into<String>) -> Fix {
        self.commands.push(command.into());
        self
    }
}

impl Evidence {
    /// Builds evidence, with token, password and certificate key values in `value` masked.
    pub fn new(
        source: impl Into<String>,
        field: impl Into<String>,
        value: impl Into<String>,
    ) -> Evidence {
        Evidence {
            source: source.into(),
            field: field.into(),
            value: crate::rules::log_line::mask_secrets(&value.into()),
        }
    }
}
