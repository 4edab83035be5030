//! Check `pki`: a control-plane node's certificates against kubeadm's certificate table.
//!
//! Every certificate must chain to the CA kubeadm names for it, match its key, carry the usage
//! and subject of its role, have a valid window, and (for the API server and etcd) cover the
//! names its clients dial. The CAs must be CAs, and the service-account keys of the API server
//! and the controller manager must match. Expiry and missing files are `cert-expiry`'s.

mod authorities;
mod examined;
mod expected;
mod facts;
mod fixes;
mod leaf_rules;
mod material;
mod sans;
mod service_account;
mod table;

use crate::certs::{PKI_DIR, is_control_plane};
use crate::check::{Check, Context, Finding, Outcome};
use crate::kube::MANIFESTS_DIR;

use facts::Facts;
use material::CertificateFile;

pub struct Pki;

impl Check for Pki {
    fn id(&self) -> &'static str {
        "pki"
    }

    fn title(&self) -> &'static str {
        "the control-plane PKI matches kubeadm's certificate table"
    }

    fn run(&self, context: &Context) -> Outcome {
        let host = context.host.as_ref();
        if let Some(reason) = not_applicable(context) {
            return Outcome::Skipped(reason);
        }

        let facts = Facts::gather(context);
        if let facts::EtcdMode::External { reason } = &facts.etcd_mode {
            tracing::debug!(reason, "etcd is external");
        }
        let authorities = authorities::read(host, facts.local_etcd());
        let ca_files: Vec<CertificateFile> = authorities.iter().map(|a| a.file.clone()).collect();
        let cluster_ca = authorities.iter().find(|a| a.name == "ca").map(|a| &a.file);

        let mut findings: Vec<Finding> = Vec::new();
        for authority in &authorities {
            findings.extend(authorities::check(host, authority));
        }
        for examined in examined::examine(host, &facts) {
            let certificate = examined.pair.certificate.leaf();
            context.record_certificate(
                &examined.pair.certificate.path,
                &certificate.subject,
                certificate.not_after,
            );
            findings.extend(leaf_rules::validity_inverted(&examined));
            findings.extend(leaf_rules::issuer(&examined, &ca_files, cluster_ca));
            findings.extend(leaf_rules::key(&examined));
            findings.extend(leaf_rules::usage(&examined, &facts));
            findings.extend(leaf_rules::subject(&examined, &facts));
            findings.extend(sans::san_missing(&examined, &facts));
        }
        findings.extend(service_account::check(host, &facts));
        Outcome::Ran(findings)
    }
}

/// Returns why the check does not apply: it needs the PKI directory and the static pod
/// manifests of a control-plane node.
fn not_applicable(context: &Context) -> Option<String> {
    let host = context.host.as_ref();
    if !host.exists(PKI_DIR) {
        return Some(format!("not a control-plane node: there is no {PKI_DIR}"));
    }
    if !host.exists(MANIFESTS_DIR) {
        return Some(format!(
            "not a control-plane node: there is no {MANIFESTS_DIR} with static pod manifests"
        ));
    }
    if !is_control_plane(host) {
        return Some(format!(
            "not a control-plane node: {PKI_DIR} has no control-plane certificates"
        ));
    }
    None
}
