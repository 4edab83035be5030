//! Check `kubelet-client-cert`: the certificate the kubelet presents to the API server.
//!
//! A kubeadm node's kubelet.conf should name /var/lib/kubelet/pki/kubelet-client-current.pem,
//! a symlink the kubelet moves to each newly rotated certificate. Nodes break when kubelet.conf
//! keeps an embedded or fixed certificate, when the symlink is broken, when the certificate
//! expires while rotation fails, or when it belongs to another node or cluster.

mod facts;
mod fixes;
mod journal;
mod link;
mod pair;
mod rules;
mod setup;

use facts::Facts;
use setup::Setup;

use crate::check::{Check, Code, Context, Finding, Outcome};
use crate::host::Host;
use crate::kube::kubeconfig::{KubeconfigError, LoadedKubeconfig};

pub struct KubeletClientCert;

impl Check for KubeletClientCert {
    fn id(&self) -> &'static str {
        "kubelet-client-cert"
    }

    fn title(&self) -> &'static str {
        "the client certificate the kubelet uses to reach the API server"
    }

    fn run(&self, context: &Context) -> Outcome {
        let host = context.host.as_ref();
        let setup = Setup::read(host);
        if let Some(reason) = not_applicable(host, &setup) {
            return Outcome::Skipped(reason);
        }

        let kubeconfig = match LoadedKubeconfig::read(host, &setup.kubeconfig) {
            Ok(kubeconfig) => kubeconfig,
            Err(error) => return Outcome::Ran(vec![kubeconfig_invalid(&setup, &error)]),
        };
        let facts = Facts::gather(host, context.node_name(), context.now(), setup, kubeconfig);
        for pair in facts.loaded_pairs() {
            let certificate = &pair.certificate;
            // The metric names the file, as cert-expiry does for the same certificate, not
            // the evidence label "(client-certificate-data)".
            let path = pair.source.split(" (").next().unwrap_or(&pair.source);
            context.record_certificate(path, &certificate.subject, certificate.not_after);
        }

        let mut findings: Vec<Finding> = Vec::new();
        findings.extend(rules::user_missing(&facts));
        findings.extend(rules::link_broken(&facts));
        findings.extend(rules::unreadable(&facts));
        findings.extend(rules::validity(&facts));
        findings.extend(rules::no_bootstrap_fallback(&facts));
        findings.extend(rules::not_rotating(&facts));
        findings.extend(rules::identity(&facts));
        findings.extend(rules::issuer(&facts));
        findings.extend(rules::key_mismatch(&facts));
        findings.extend(rules::rotation_disabled(&facts));
        findings.extend(rules::short_lifetime(&facts));
        findings.extend(rules::cert_dir_volatile(&facts));

        attach_journal(host, &mut findings);
        Outcome::Ran(findings)
    }
}

/// Skips nodes where the kubelet has not joined a cluster: no kubelet.conf yet.
fn not_applicable(host: &dyn Host, setup: &Setup) -> Option<String> {
    if host.exists(&setup.kubeconfig) {
        return None;
    }
    if host.exists(&setup.bootstrap_kubeconfig) {
        return Some(format!(
            "{} does not exist yet; the kubelet has not finished TLS bootstrap with {}",
            setup.kubeconfig, setup.bootstrap_kubeconfig
        ));
    }
    Some(format!(
        "the node has not joined a cluster: neither {} nor {} exists",
        setup.kubeconfig, setup.bootstrap_kubeconfig
    ))
}

fn kubeconfig_invalid(setup: &Setup, error: &KubeconfigError) -> Finding {
    Finding::new(Code::KubeletClientCertKubeconfigInvalid, error.to_string())
        .details("The kubelet reads its API server address and client credentials from this file. Until it parses, the kubelet cannot start.")
        .evidence(&setup.kubeconfig, "error", error.to_string())
        .fix(
            crate::check::Fix::new(format!("restore {} from a backup or regenerate it", setup.kubeconfig))
                .step("Look for a backup (kubelet.conf.bak or a configuration management copy) and restore it.")
                .step("Otherwise issue a new one with `kubeadm kubeconfig user --org system:nodes --client-name system:node:NODE` on a control-plane node.")
                .command(format!("ls -l {}*", setup.kubeconfig))
                .command("systemctl restart kubelet"),
        )
        .reference(fixes::TROUBLESHOOTING_URL)
}

/// Adds the kubelet's own log lines to the first finding about a certificate that cannot be
/// used, so the operator sees the kubelet's words next to the diagnosis.
fn attach_journal(host: &dyn Host, findings: &mut [Finding]) {
    let primary = [
        Code::KubeletClientCertExpired,
        Code::KubeletClientCertNoBootstrapFallback,
        Code::KubeletClientCertRotationOverdue,
        Code::KubeletClientCertNotYetValid,
        Code::KubeletClientCertUnreadable,
    ];
    let Some(finding) = primary
        .iter()
        .find_map(|code| findings.iter().position(|f| f.code == *code))
        .map(|index| &mut findings[index])
    else {
        return;
    };
    finding.evidence.extend(journal::certificate_lines(host));
}
