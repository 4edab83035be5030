//! Matching the signature set against log lines.

use std::sync::LazyLock;

use regex::Regex;

use super::signatures::{SIGNATURES, Signature};
use crate::check::{Finding, Fix};
use crate::rules::log_match;
use crate::rules::log_source::LogLines;
use crate::rules::template::render;

static COMPILED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    SIGNATURES
        .iter()
        .map(|signature| Regex::new(signature.pattern).expect("signature pattern compiles"))
        .collect()
});

/// A signature that matched, with its finding.
pub struct Matched {
    pub signature: &'static Signature,
    pub finding: Finding,
}

/// Returns one finding per signature that matched, in signature order. A line counts only for
/// the first signature it matches.
pub fn scan(logs: &[LogLines], node: &str) -> Vec<Matched> {
    let compiled = &*COMPILED;
    let mut matched = Vec::new();
    for (index, signature) in SIGNATURES.iter().enumerate() {
        let earlier = &compiled[..index];
        let accept = |line: &crate::rules::log_line::Line| {
            !earlier.iter().any(|regex| regex.is_match(&line.text))
        };
        let Some(summary) = log_match::search(&compiled[index], logs, accept) else {
            continue;
        };
        tracing::info!(
            signature = signature.name,
            count = summary.count,
            "log signature matched"
        );
        let mut vars = summary.vars.clone();
        vars.insert("node".into(), node.to_string());
        (signature.enrich)(&mut vars);
        let mut fix = Fix::new(render(signature.fix, &vars));
        for step in signature.steps {
            fix = fix.step(render(step, &vars));
        }
        for command in signature.commands {
            fix = fix.command(render(command, &vars));
        }
        let mut finding = Finding::new(signature.code, render(signature.summary, &vars))
            .details(render(signature.details, &vars))
            .with_evidence(summary.evidence())
            .fix(fix);
        for reference in signature.references {
            finding = finding.reference(*reference);
        }
        matched.push(Matched { signature, finding });
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::log_line::Line;

    fn lines(text: &[&str]) -> Vec<LogLines> {
        vec![LogLines {
            source: "test".into(),
            lines: text.iter().map(|l| Line::from_text(l)).collect(),
        }]
    }

    fn codes(text: &[&str]) -> Vec<&'static str> {
        scan(&lines(text), "node-1")
            .iter()
            .map(|m| m.finding.code.as_str())
            .collect()
    }

    #[test]
    fn patterns_compile() {
        assert_eq!(COMPILED.len(), SIGNATURES.len());
    }

    #[test]
    fn missing_jws_signature_names_token() {
        let line = "[discovery] Failed to connect to API Server \"10.0.0.1:6443\": could not find a JWS signature in the cluster-info ConfigMap for token ID \"5xf60f\"";
        let found = scan(&lines(&[line]), "node-1");
        assert_eq!(
            found[0].finding.code.as_str(),
            "log-signatures/bootstrap-token-invalid"
        );
        assert!(found[0].finding.summary.contains("5xf60f"));
    }

    #[test]
    fn api_server_line_is_not_also_client_side() {
        let line = "E0925 22:45:43.610253 1 authentication.go:53] Unable to authenticate the request due to an error: x509: certificate has expired or is not yet valid: current time 2023-09-25T22:45:43Z is after 2023-09-25T12:10:16Z";
        assert_eq!(codes(&[line]), vec!["cert-expiry/expired"]);
        let found = scan(&lines(&[line]), "n");
        assert!(found[0].finding.summary.contains("2023-09-25T12:10:16Z"));
    }

    #[test]
    fn structured_klog_quotes_are_matched() {
        let line = r#"E1204 10:00:00.000000 1 kubelet_node_status.go:1] "Error getting node" err="node \"worker-1\" not found""#;
        assert_eq!(codes(&[line]), vec!["log-signatures/node-not-found"]);
        let found = scan(&lines(&[line]), "n");
        assert!(found[0].finding.summary.contains("worker-1"));
    }

    #[test]
    fn unauthorized_pull_names_registry_and_patch() {
        let line = r#"E1204 10:00:00.1 1 pod_workers.go:1] "Failed to pull image \"registry.example.test/team/app:1\": rpc error: code = Unknown desc = failed to authorize: 401 Unauthorized" pod="shop/app-1""#;
        let found = scan(&lines(&[line]), "n");
        assert_eq!(found.len(), 1);
        let finding = &found[0].finding;
        assert_eq!(
            finding.code.as_str(),
            "log-signatures/image-pull-unauthorized"
        );
        assert!(finding.summary.contains("registry.example.test"));
        assert!(
            finding
                .fix
                .commands
                .iter()
                .any(|c| c.contains("kubectl -n NAMESPACE patch serviceaccount default")),
            "{:?}",
            finding.fix.commands
        );
    }
}
