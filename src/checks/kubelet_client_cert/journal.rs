//! Kubelet log lines about client certificates, attached to findings as evidence.

use crate::check::Evidence;
use crate::host::{Host, HostCommand};

/// How many journal lines are read from the end of the kubelet's journal.
const JOURNAL_LINES: u32 = 5000;

/// How many matching lines are kept as evidence, newest last.
const MAX_EVIDENCE_LINES: usize = 6;

/// Substrings of kubelet log lines about its client certificate, across Kubernetes releases.
const PATTERNS: [&str; 8] = [
    "existing bootstrap client certificate",
    "unable to load bootstrap kubeconfig",
    "currently active client certificate has expired",
    "Failed while requesting a signed certificate",
    "Using bootstrap kubeconfig to generate TLS client cert",
    "Loading cert/key pair from",
    "certificate has expired or is not yet valid",
    "cannot create certificate signing request",
];

/// Returns the newest kubelet journal lines that match [`PATTERNS`], or nothing when the
/// journal cannot be read.
pub fn certificate_lines(host: &dyn Host) -> Vec<Evidence> {
    let command = HostCommand::Journal {
        unit: "kubelet".to_string(),
        lines: JOURNAL_LINES,
    };
    let output = match host.run(&command) {
        Ok(output) => output,
        Err(error) => {
            tracing::debug!(%error, "kubelet journal not read");
            return Vec::new();
        }
    };

    let source = "journalctl -u kubelet".to_string();
    let matching: Vec<&str> = output
        .stdout
        .lines()
        .filter(|line| {
            let lower = line.to_ascii_lowercase();
            PATTERNS
                .iter()
                .any(|pattern| lower.contains(&pattern.to_ascii_lowercase()))
        })
        .collect();
    let mut kept: Vec<&str> = Vec::new();
    for line in matching.iter().rev() {
        if kept.len() == MAX_EVIDENCE_LINES {
            break;
        }
        if !kept.iter().any(|seen| same_message(seen, line)) {
            kept.push(line);
        }
    }
    kept.reverse();
    kept.into_iter()
        .map(|line| Evidence::new(source.clone(), "log", line.trim()))
        .collect()
}

/// Two lines repeat the same message when they match after the klog header.
fn same_message(a: &str, b: &str) -> bool {
    message_part(a) == message_part(b)
}

fn message_part(line: &str) -> &str {
    match line.find("] ") {
        Some(index) => &line[index + 2..],
        None => line,
    }
}
