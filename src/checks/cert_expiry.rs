//! `cert-expiry`: every certificate `kubeadm certs check-expiration` lists, checked for
//! expiry, a future NotBefore, absence and unreadable files.
//!
//! It reads the same [`Inventory`] as `node-doctor certs`. The kubelet's client certificate is
//! recorded for the expiry metric but gets no finding here, because `kubelet-client-cert`
//! reports it with its own codes.

mod fixes;

use jiff::{SignedDuration, Timestamp};

use crate::certs::{Entry, Inventory, Kind, PKI_DIR, State};
use crate::check::{Check, Code, Context, Finding, Outcome};
use crate::report::format_rfc3339;

use fixes::Remedies;

const KUBEADM_CERTS_DOC: &str =
    "https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/";

pub struct CertExpiry;

impl Check for CertExpiry {
    fn id(&self) -> &'static str {
        "cert-expiry"
    }

    fn title(&self) -> &'static str {
        "Control-plane certificates, CAs and kubeconfig client certificates are valid"
    }

    fn run(&self, context: &Context) -> Outcome {
        let inventory = Inventory::read(context.host.as_ref());
        record_certificates(context, &inventory);

        if !inventory.control_plane {
            return Outcome::Skipped(skip_reason(&inventory));
        }

        let now = context.now();
        let remedies = Remedies::new(context, &inventory);
        let findings = inventory
            .entries()
            .filter(|entry| entry.spec.kind != Kind::Kubelet)
            .filter_map(|entry| assess(entry, now, context.options.expiry_warning, &remedies))
            .collect();
        Outcome::Ran(findings)
    }
}

fn record_certificates(context: &Context, inventory: &Inventory) {
    for entry in inventory.entries() {
        if let Some(certificate) = entry.certificate() {
            context.record_certificate(&entry.path, &certificate.subject, certificate.not_after);
        }
    }
}

fn skip_reason(inventory: &Inventory) -> String {
    if inventory.certificates.is_empty() {
        return format!("not a kubeadm node: there is no {PKI_DIR} and no kubelet kubeconfig");
    }
    format!(
        "not a control-plane node: {PKI_DIR} has no control-plane certificates, and \
         kubelet-client-cert checks the kubelet's client certificate"
    )
}

/// Returns the finding for one row, or nothing when the certificate is fine.
fn assess(
    entry: &Entry,
    now: Timestamp,
    warning: std::time::Duration,
    remedies: &Remedies,
) -> Option<Finding> {
    let certificate = match &entry.state {
        State::Missing => return Some(missing(entry, remedies)),
        State::Unreadable(message) => return Some(unreadable(entry, message, remedies)),
        State::Present(certificate) => certificate,
    };

    if certificate.is_not_yet_valid(now) {
        return Some(not_yet_valid(entry, certificate.not_before, remedies));
    }
    if certificate.is_expired(now) {
        return Some(expired(entry, certificate.not_after, now, remedies));
    }
    let remaining = certificate.not_after.duration_since(now);
    let window = SignedDuration::try_from(warning).unwrap_or(SignedDuration::MAX);
    if remaining < window {
        return Some(expiring_soon(
            entry,
            certificate.not_after,
            remaining,
            remedies,
        ));
    }
    None
}

fn what(entry: &Entry) -> String {
    match entry.spec.kind {
        Kind::Authority => format!("CA {}", entry.spec.name),
        Kind::Kubeconfig => format!("client certificate in {}", entry.spec.name),
        Kind::Pki | Kind::Kubelet => format!("certificate {}", entry.spec.name),
    }
}

fn expired(entry: &Entry, not_after: Timestamp, now: Timestamp, remedies: &Remedies) -> Finding {
    let days = now.duration_since(not_after).as_hours() / 24;
    Finding::new(
        Code::CertExpiryExpired,
        format!(
            "{} expired on {} ({days} days ago)",
            what(entry),
            format_rfc3339(not_after)
        ),
    )
    .details(format!(
        "{} ({}) is past its NotAfter, so every TLS handshake that presents or verifies it \
         fails. {}",
        what(entry),
        entry.path,
        consequence(entry)
    ))
    .evidence(&entry.path, "notAfter", format_rfc3339(not_after))
    .fix(remedies.for_expired(entry))
    .reference(reference(entry))
}

fn expiring_soon(
    entry: &Entry,
    not_after: Timestamp,
    remaining: SignedDuration,
    remedies: &Remedies,
) -> Finding {
    let days = remaining.as_hours() / 24;
    Finding::new(
        Code::CertExpiryExpiringSoon,
        format!(
            "{} expires on {} (in {days} days)",
            what(entry),
            format_rfc3339(not_after)
        ),
    )
    .details(format!(
        "{} ({}) expires within the --expiry-warning window. {}",
        what(entry),
        entry.path,
        consequence(entry)
    ))
    .evidence(&entry.path, "notAfter", format_rfc3339(not_after))
    .fix(remedies.for_expiring(entry))
    .reference(reference(entry))
}

fn not_yet_valid(entry: &Entry, not_before: Timestamp, remedies: &Remedies) -> Finding {
    Finding::new(
        Code::CertExpiryNotYetValid,
        format!(
            "{} is not valid before {}",
            what(entry),
            format_rfc3339(not_before)
        ),
    )
    .details(format!(
        "{} ({}) has a NotBefore in the future: either this node's clock is behind, or the \
         certificate was issued on a machine whose clock is ahead. Peers reject it until then.",
        what(entry),
        entry.path
    ))
    .evidence(&entry.path, "notBefore", format_rfc3339(not_before))
    .fix(remedies.for_not_yet_valid(entry))
    .reference(KUBEADM_CERTS_DOC)
}

fn missing(entry: &Entry, remedies: &Remedies) -> Finding {
    Finding::new(
        Code::CertExpiryMissing,
        format!("{} is missing: {} does not exist", what(entry), entry.path),
    )
    .details(format!(
        "kubeadm expects {} on a control-plane node, and `kubeadm certs check-expiration` \
         shows it as !MISSING!. The components that load it fail to start.",
        entry.path
    ))
    .evidence(&entry.path, "exists", "false")
    .fix(remedies.for_missing(entry))
    .reference(KUBEADM_CERTS_DOC)
}

fn unreadable(entry: &Entry, message: &str, remedies: &Remedies) -> Finding {
    Finding::new(
        Code::CertExpiryUnreadable,
        format!("{} cannot be read: {}", what(entry), entry.path),
    )
    .details(format!(
        "{} exists but is not a readable certificate ({message}). The components that load it \
         fail to start, and `kubeadm certs` commands stop with an error on it.",
        entry.path
    ))
    .evidence(&entry.path, "error", message)
    .fix(remedies.for_unreadable(entry))
    .reference(KUBEADM_CERTS_DOC)
}

/// Says what breaks when this certificate is not valid.
fn consequence(entry: &Entry) -> String {
    match (entry.spec.kind, entry.spec.name) {
        (Kind::Authority, name) => format!(
            "Without a valid {name} CA, no certificate it signed verifies, and kubeadm cannot \
             renew a CA."
        ),
        (Kind::Kubeconfig, "admin.conf" | "super-admin.conf") => {
            "Without a valid one, the API server rejects kubectl and kubeadm commands that use \
             it."
            .to_string()
        }
        (_, _) if entry.spec.static_pods.is_empty() => String::new(),
        (_, _) => format!(
            "Without a valid one, {} cannot reach the components it connects to.",
            entry.spec.static_pods.join(" and ")
        ),
    }
}

fn reference(entry: &Entry) -> &'static str {
    match entry.spec.kind {
        Kind::Authority => fixes::CA_ROTATION_DOC,
        _ => KUBEADM_CERTS_DOC,
    }
}
