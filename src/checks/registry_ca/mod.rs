//! Check `registry-ca`: whether the container runtime the kubelet uses trusts each private
//! registry's certificate.
//!
//! Docker, containerd and CRI-O each keep their own per-registry trust (certs.d folders,
//! hosts.toml files, daemon.json and registries.conf), on top of the system trust store. The
//! check reads the settings of every installed runtime and reports files each runtime rejects
//! or ignores, and trust set up for a runtime the kubelet does not use. On a live host it runs
//! a TLS handshake with each registry endpoint and judges the chain with exactly the trust the
//! kubelet's runtime applies. Without a handshake (a snapshot, or --offline), certificate
//! errors in the journals stand in as evidence.

mod ca_files;
mod chain;
mod containerd;
mod facts;
mod fixes;
mod journal;
mod layout;
mod logged;
mod mismatch;
mod probe;

use facts::Facts;

use crate::check::{Check, Context, Finding, Outcome};
use crate::host::Source;

pub struct RegistryCa;

impl Check for RegistryCa {
    fn id(&self) -> &'static str {
        "registry-ca"
    }

    fn title(&self) -> &'static str {
        "whether the container runtime trusts each private registry"
    }

    fn run(&self, context: &Context) -> Outcome {
        let host = context.host.as_ref();
        let logged = journal::failures(host);
        let logged_registries: Vec<_> = logged.iter().map(|f| f.registry.clone()).collect();
        let facts = Facts::gather(host, &context.options, &logged_registries);
        if facts.installed_runtimes().is_empty() && facts.kubelet.runtime.is_none() {
            return Outcome::Skipped(
                "no container runtime found: no Docker, containerd or CRI-O configuration or \
                 socket"
                    .to_string(),
            );
        }
        tracing::debug!(
            runtime = ?facts.kubelet.runtime,
            registries = facts.registries.len(),
            "registry trust read"
        );

        let no_handshake = why_no_handshake(context);
        let (files, file_findings) = ca_files::load_all(context, &facts, no_handshake.is_none());
        let mut findings: Vec<Finding> = Vec::new();
        findings.extend(containerd::findings(&facts));
        findings.extend(containerd::k3s_findings(&facts));
        findings.extend(layout::findings(host, &facts));
        findings.extend(file_findings);

        let mismatches = mismatch::findings(&facts);
        let explained: Vec<_> = mismatches
            .iter()
            .map(|(registry, _)| registry.clone())
            .collect();
        for (registry, mut finding) in mismatches {
            for failure in logged.iter().filter(|f| f.registry == registry) {
                finding = finding.evidence(failure.source(), "log", &failure.line);
            }
            findings.push(finding);
        }

        match no_handshake {
            None => findings.extend(probe::findings(context, &facts, &files)),
            Some(why) => {
                tracing::info!(reason = why, "registry handshakes skipped");
                let unexplained: Vec<_> = logged
                    .iter()
                    .filter(|f| !explained.contains(&f.registry))
                    .cloned()
                    .collect();
                findings.extend(logged::findings(&facts, &unexplained, why));
            }
        }
        Outcome::Ran(findings)
    }
}

fn why_no_handshake(context: &Context) -> Option<&'static str> {
    if context.host.source() == Source::Snapshot {
        Some("the host is a snapshot")
    } else if context.options.offline {
        Some("--offline is set")
    } else {
        None
    }
}
