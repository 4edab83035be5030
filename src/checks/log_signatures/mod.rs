//! `log-signatures`: known error lines in the kubelet and runtime journals and in kube-system
//! pod logs, or in saved output given to `node-doctor diagnose`. Each signature is reported
//! once, with a count and the first and last time seen.

mod scan;
mod signatures;

use crate::check::{Check, Code, Context, Outcome};
use crate::rules::log_source::{self, LogLines, LogSource};

pub use scan::scan;
pub use signatures::{SIGNATURES, Signature};

/// The systemd units whose journals are searched.
const JOURNAL_UNITS: [&str; 4] = ["kubelet", "containerd", "docker", "crio"];

/// The check. With `input` it searches those lines instead of the node's logs.
#[derive(Default)]
pub struct LogSignatures {
    input: Option<Vec<LogLines>>,
}

impl LogSignatures {
    /// Creates a check that searches saved output, for `node-doctor diagnose`.
    pub fn with_input(input: Vec<LogLines>) -> LogSignatures {
        LogSignatures { input: Some(input) }
    }
}

impl Check for LogSignatures {
    fn id(&self) -> &'static str {
        "log-signatures"
    }

    fn title(&self) -> &'static str {
        "known error lines in the kubelet and runtime journals and kube-system pod logs, each mapped to the code of the check it points at"
    }

    /// Returns its own codes and the other checks' codes that signatures map to.
    fn codes(&self) -> Vec<Code> {
        let mut codes: Vec<Code> = Code::of_check(self.id()).collect();
        for signature in SIGNATURES {
            if !codes.contains(&signature.code) {
                codes.push(signature.code);
            }
        }
        codes
    }

    fn run(&self, context: &Context) -> Outcome {
        let logs = match &self.input {
            Some(input) => input.clone(),
            None => read_node_logs(context),
        };
        if logs.is_empty() {
            return Outcome::Skipped(
                "no kubelet or runtime journal and no kube-system pod log to read".to_string(),
            );
        }
        let findings = scan(&logs, context.node_name())
            .into_iter()
            .map(|matched| matched.finding)
            .collect();
        Outcome::Ran(findings)
    }
}

fn read_node_logs(context: &Context) -> Vec<LogLines> {
    let host = context.host.as_ref();
    let mut sources: Vec<LogSource> = JOURNAL_UNITS
        .iter()
        .map(|unit| LogSource::Journal(unit.to_string()))
        .collect();
    sources.push(LogSource::Pods {
        namespace: "kube-system".to_string(),
        prefix: String::new(),
    });
    let mut logs = Vec::new();
    for source in &sources {
        match log_source::read(host, source) {
            Ok(read) => logs.extend(read),
            Err(why) => tracing::warn!(?source, why, "log not read"),
        }
    }
    logs
}
