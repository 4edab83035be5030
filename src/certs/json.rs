//! The JSON form of `node-doctor certs`: kubeadm's `CertificateExpirationInfo`
//! (output.kubeadm.k8s.io/v1alpha3), indented with four spaces as kubectl's JSON printer does.
//!
//! A row node-doctor could not read carries an extra `error` field, which kubeadm does not
//! have because it aborts on such a file instead.

use jiff::Timestamp;
use serde::Serialize;

use super::inventory::{Entry, Inventory, State};
use super::residual_seconds;
use crate::report::format_rfc3339;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExpirationInfo {
    kind: &'static str,
    api_version: &'static str,
    certificates: Vec<CertificateInfo>,
    certificate_authorities: Vec<CertificateInfo>,
}

/// One row, with kubeadm's field names and order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CertificateInfo {
    name: &'static str,
    /// RFC 3339 in UTC, or null when the certificate is missing (Go's zero `metav1.Time`).
    expiration_date: Option<String>,
    /// Seconds until expiry, negative once expired.
    residual_time: i64,
    externally_managed: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    ca_name: &'static str,
    missing: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn render(inventory: &Inventory, now: Timestamp) -> anyhow::Result<String> {
    let document = ExpirationInfo {
        kind: "CertificateExpirationInfo",
        api_version: "output.kubeadm.k8s.io/v1alpha3",
        certificates: inventory
            .certificates
            .iter()
            .map(|e| info(e, now))
            .collect(),
        certificate_authorities: inventory
            .authorities
            .iter()
            .map(|entry| CertificateInfo {
                ca_name: "",
                ..info(entry, now)
            })
            .collect(),
    };

    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    document.serialize(&mut serializer)?;
    out.push(b'\n');
    Ok(String::from_utf8(out)?)
}

fn info(entry: &Entry, now: Timestamp) -> CertificateInfo {
    let mut row = CertificateInfo {
        name: entry.spec.name,
        expiration_date: None,
        residual_time: 0,
        externally_managed: false,
        ca_name: entry.spec.ca_name,
        missing: false,
        error: None,
    };
    match &entry.state {
        State::Present(certificate) => {
            row.expiration_date = Some(format_rfc3339(certificate.not_after));
            row.residual_time = residual_seconds(certificate.not_after, now);
            row.externally_managed = entry.externally_managed;
        }
        State::Missing => {
            row.missing = true;
            row.ca_name = "";
        }
        State::Unreadable(message) => row.error = Some(message.clone()),
    }
    row
}
