//! The Prometheus form of `node-doctor certs`: the same expiry metric the agent serves.

use crate::check::CertificateExpiry;
use crate::report::write_certificate_metrics;

use super::inventory::Inventory;

pub fn render(inventory: &Inventory) -> String {
    let certificates: Vec<CertificateExpiry> = inventory
        .entries()
        .filter_map(|entry| {
            let certificate = entry.certificate()?;
            Some(CertificateExpiry {
                path: entry.path.clone(),
                subject: certificate.subject.clone(),
                not_after: certificate.not_after,
            })
        })
        .collect();
    let mut out = String::new();
    write_certificate_metrics(&mut out, &certificates);
    out
}
