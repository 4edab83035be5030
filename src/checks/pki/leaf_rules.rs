//! The rules each row of kubeadm's certificate table must pass: validity window, issuer, key
//! pair, key usage and subject. The SAN rule is in sans.rs.

use crate::check::{Code, Finding, Severity};
use crate::kube::cert::Certificate;
use crate::report::format_rfc3339;

use super::examined::Examined;
use super::facts::Facts;
use super::fixes;
use super::material::CertificateFile;
use super::table::CommonName;

pub const CERTIFICATES_DOC: &str = "https://kubernetes.io/docs/setup/best-practices/certificates/";

/// Reports a NotBefore after the NotAfter, so the certificate is never valid.
pub fn validity_inverted(examined: &Examined) -> Option<Finding> {
    let leaf = examined.pair.certificate.leaf();
    if leaf.not_before <= leaf.not_after {
        return None;
    }
    Some(
        inverted_finding(&examined.label(), &examined.pair.certificate.path, leaf)
            .fix(fixes::renew(examined)),
    )
}

pub fn inverted_finding(label: &str, path: &str, certificate: &Certificate) -> Finding {
    Finding::new(
        Code::PkiValidityInverted,
        format!(
            "{label} is never valid: NotBefore {} is after NotAfter {}",
            format_rfc3339(certificate.not_before),
            format_rfc3339(certificate.not_after)
        ),
    )
    .details(
        "Every TLS peer rejects a certificate outside its validity window, and this window is \
         empty, so the certificate cannot be used at any time. It was issued with swapped \
         dates or by a broken tool.",
    )
    .evidence(path, "notBefore", format_rfc3339(certificate.not_before))
    .evidence(path, "notAfter", format_rfc3339(certificate.not_after))
    .reference(CERTIFICATES_DOC)
}

/// Returns how the certificate chains to one of the CA certificates, or `None` when it does
/// not. A file may carry intermediates after the leaf.
pub fn chain_to(file: &CertificateFile, cas: &[Certificate]) -> Option<String> {
    let leaf = file.leaf();
    if let Some(ca) = cas.iter().find(|ca| leaf.is_signed_by(ca)) {
        return Some(format!("signed by {}", ca.subject));
    }
    let mut current = leaf;
    let mut via = Vec::new();
    for intermediate in &file.chain[1..] {
        if !current.is_signed_by(intermediate) {
            return None;
        }
        via.push(intermediate.subject.clone());
        if let Some(ca) = cas.iter().find(|ca| intermediate.is_signed_by(ca)) {
            return Some(format!(
                "signed by {} through {}",
                ca.subject,
                via.join(", ")
            ));
        }
        current = intermediate;
    }
    None
}

/// Reports a certificate that does not chain to the CA kubeadm names for it.
pub fn issuer(
    examined: &Examined,
    other_cas: &[CertificateFile],
    cluster_ca: Option<&CertificateFile>,
) -> Option<Finding> {
    let ca = examined.ca.as_ref()?;
    let file = &examined.pair.certificate;
    let leaf = file.leaf();
    if chain_to(file, &ca.chain).is_some() {
        return name_collision(examined, cluster_ca);
    }

    let ca_certificate = ca.leaf();
    let mut finding = Finding::new(
        Code::PkiIssuerMismatch,
        format!(
            "{} is not signed by the {} CA ({})",
            examined.label(),
            examined.ca_name,
            ca.path
        ),
    );
    let same_name = leaf.issuer == ca_certificate.subject;
    let details = if same_name {
        format!(
            "Its issuer name {} is the {} CA's name, but the signature does not verify with \
             the key of {}: a different CA with the same name signed it, typically a CA from a \
             previous install or one regenerated since. Every peer that trusts {} rejects it \
             (\"crypto/rsa: verification error\" or \"certificate signed by unknown \
             authority\").",
            leaf.issuer, examined.ca_name, ca.path, ca.path
        )
    } else {
        format!(
            "kubeadm signs {} with the {} CA, whose subject is {}, but this certificate's \
             issuer is {}. Peers that verify it against {} reject it with \"certificate signed \
             by unknown authority\".",
            examined.leaf.name, examined.ca_name, ca_certificate.subject, leaf.issuer, ca.path
        )
    };
    finding = finding
        .details(details)
        .evidence(&file.path, "issuer", &leaf.issuer)
        .evidence(
            &ca.path,
            "subject (expected issuer)",
            &ca_certificate.subject,
        )
        .evidence(&ca.path, "fingerprint", &ca_certificate.fingerprint);
    if let Some(signer) = other_cas
        .iter()
        .find(|other| other.path != ca.path && chain_to(file, &other.chain).is_some())
    {
        finding = finding.evidence(&signer.path, "signed by", &signer.leaf().subject);
    }
    Some(
        finding
            .fix(fixes::renew(examined))
            .reference(CERTIFICATES_DOC),
    )
}

/// Reports an external etcd client certificate that verifies against --etcd-cafile while its
/// issuer carries the cluster CA's name. Tools that pick a CA by name, and people,
/// then take the cluster CA for its issuer.
fn name_collision(examined: &Examined, cluster_ca: Option<&CertificateFile>) -> Option<Finding> {
    if !examined.external_etcd {
        return None;
    }
    let cluster_ca = cluster_ca?;
    let file = &examined.pair.certificate;
    let leaf = file.leaf();
    let cluster_name = cluster_ca.leaf().common_name.as_deref()?;
    let issuer_name = issuer_common_name(leaf)?;
    if issuer_name != cluster_name || leaf.is_signed_by(cluster_ca.leaf()) {
        return None;
    }
    let ca = examined.ca.as_ref()?;
    Some(
        Finding::new(
            Code::PkiIssuerMismatch,
            format!(
                "{} is signed by an external etcd CA that is also named CN={issuer_name}, like \
                 the cluster CA",
                examined.label()
            ),
        )
        .severity(Severity::Warning)
        .details(format!(
            "The certificate verifies against {} (the API server's --etcd-cafile), so etcd \
             accepts it today. But its issuer {} shares the common name {issuer_name} with the \
             cluster CA {}, which did not sign it: compare keys, not names. kubeadm does not \
             manage this certificate, and `kubeadm certs renew all` in older releases stops \
             on it with \"apiserver-etcd-client is not a valid certificate for this cluster\".",
            ca.path, leaf.issuer, cluster_ca.path
        ))
        .evidence(&file.path, "issuer", &leaf.issuer)
        .evidence(&ca.path, "subject (verifies)", &ca.leaf().subject)
        .evidence(
            &cluster_ca.path,
            "subject (did not sign it)",
            &cluster_ca.leaf().subject,
        )
        .evidence(&file.path, "notAfter", format_rfc3339(leaf.not_after))
        .fix(fixes::renew(examined))
        .reference(CERTIFICATES_DOC),
    )
}

fn issuer_common_name(certificate: &Certificate) -> Option<String> {
    certificate
        .issuer
        .split(',')
        .map(str::trim)
        .find_map(|part| part.strip_prefix("CN="))
        .map(str::to_string)
}

/// Reports a key file that is not the certificate's key.
pub fn key(examined: &Examined) -> Option<Finding> {
    let pair = &examined.pair;
    let certificate_key = pair.certificate.leaf().public_key.as_ref()?;
    let key = match &pair.key {
        Ok(key) => key,
        Err(error) => {
            tracing::debug!(name = examined.leaf.name, %error, "key not compared");
            return None;
        }
    };
    if key == certificate_key {
        return None;
    }
    Some(
        Finding::new(
            Code::PkiKeyMismatch,
            format!(
                "the key {} does not belong to {}",
                pair.key_source,
                examined.label()
            ),
        )
        .details(
            "A TLS handshake proves possession of the key that matches the certificate's public \
             key. With another key in its place the component fails to load the pair or every \
             handshake fails. Typical after only one file of the pair was replaced.",
        )
        .evidence(
            &pair.certificate.path,
            "public key fingerprint",
            certificate_key.fingerprint(),
        )
        .evidence(
            &pair.key_source,
            "public key fingerprint",
            key.fingerprint(),
        )
        .fix(fixes::renew(examined))
        .reference(CERTIFICATES_DOC),
    )
}

/// Reports a certificate without the extended key usage its role needs or kubeadm's key usage
/// bits.
pub fn usage(examined: &Examined, facts: &Facts) -> Option<Finding> {
    let file = &examined.pair.certificate;
    let leaf = file.leaf();
    let role = examined.leaf.role;

    // A certificate without ExtendedKeyUsage is valid for any purpose in Go's verifier.
    let missing_purposes: Vec<&str> = match &leaf.extended_key_usage {
        Some(purposes) if !purposes.iter().any(|p| p == "any") => role
            .required_purposes()
            .iter()
            .copied()
            .filter(|required| !purposes.iter().any(|p| p == required))
            .collect(),
        _ => Vec::new(),
    };
    let missing_bits: Vec<&str> = match &leaf.key_usage {
        Some(bits) => required_bits(leaf)
            .into_iter()
            .filter(|required| !bits.contains(required))
            .collect(),
        None => Vec::new(),
    };
    if missing_purposes.is_empty() && missing_bits.is_empty() {
        return None;
    }

    let eku = leaf
        .extended_key_usage
        .as_ref()
        .map_or("none".to_string(), |p| p.join(", "));
    let ku = leaf
        .key_usage
        .as_ref()
        .map_or("none".to_string(), |bits| bits.join(", "));
    let mut finding = if missing_purposes.is_empty() {
        Finding::new(
            Code::PkiUsageMismatch,
            format!(
                "{} lacks the key usage {} that kubeadm sets",
                examined.label(),
                missing_bits.join(", ")
            ),
        )
        .severity(Severity::Warning)
        .details(
            "Go's TLS stack does not check KeyUsage on leaf certificates, so Kubernetes \
             components accept it, but other TLS clients such as OpenSSL-based tools may \
             reject it.",
        )
    } else {
        Finding::new(
            Code::PkiUsageMismatch,
            format!(
                "{} is used as a {} certificate but lacks {}",
                examined.label(),
                role.describe(),
                missing_purposes.join(" and ")
            ),
        )
        .details(format!(
            "kubeadm issues {} as a {} certificate (ExtendedKeyUsage {}). TLS peers check the \
             extended key usage, so a certificate without {} fails with \"certificate \
             specifies an incompatible key usage\".",
            examined.leaf.name,
            role.describe(),
            role.required_purposes().join(", "),
            missing_purposes.join(" and ")
        ))
    };
    finding = finding
        .evidence(&file.path, "extendedKeyUsage", eku)
        .evidence(
            &file.path,
            "extendedKeyUsage (expected)",
            role.required_purposes().join(", "),
        )
        .evidence(&file.path, "keyUsage", ku)
        .evidence(
            &file.path,
            "keyUsage (expected)",
            required_bits(leaf).join(", "),
        );
    let command = super::sans::phase_command(examined, facts, &[]);
    Some(
        finding
            .fix(fixes::regenerate(examined, facts, command))
            .reference(CERTIFICATES_DOC),
    )
}

/// kubeadm sets digitalSignature and keyEncipherment. keyEncipherment only means something for
/// RSA keys, so other keys need only digitalSignature.
fn required_bits(certificate: &Certificate) -> Vec<&'static str> {
    let rsa = matches!(
        certificate.public_key,
        Some(crate::kube::keys::PublicKey::Rsa { .. })
    );
    if rsa {
        vec!["digitalSignature", "keyEncipherment"]
    } else {
        vec!["digitalSignature"]
    }
}

/// Reports a CN or O that no kubeadm release writes for this certificate.
pub fn subject(examined: &Examined, facts: &Facts) -> Option<Finding> {
    if examined.external_etcd {
        return None;
    }
    let file = &examined.pair.certificate;
    let leaf = file.leaf();
    let common_name = leaf.common_name.clone().unwrap_or_default();
    let rules = examined.leaf.organizations;

    let (cn_ok, expected_cn) = match examined.leaf.common_name {
        CommonName::Fixed(expected) => (common_name == expected, expected.to_string()),
        CommonName::NodeName { documented } => {
            // A certificate for another node is reported by the SAN rule as copied.
            if !leaf
                .dns_names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&facts.node_name))
            {
                return None;
            }
            (
                common_name == facts.node_name || common_name == documented,
                format!("{} (kubeadm) or {documented}", facts.node_name),
            )
        }
    };
    let mut organizations = leaf.organizations.clone();
    organizations.sort();
    let o_ok = rules.iter().any(|rule| {
        let mut expected: Vec<String> = rule.organizations.iter().map(|o| o.to_string()).collect();
        expected.sort();
        expected == organizations
    });

    let allowed_names = front_proxy_allowed_names(examined, facts);
    let cn_rejected = allowed_names
        .as_ref()
        .is_some_and(|names| !names.iter().any(|n| *n == common_name));
    if cn_ok && o_ok && !cn_rejected {
        return None;
    }

    let critical = (examined.leaf.identity_used && !(cn_ok && o_ok)) || cn_rejected;
    let mut finding = Finding::new(
        Code::PkiSubjectMismatch,
        format!(
            "{} has subject {}, not the identity kubeadm issues",
            examined.label(),
            leaf.subject
        ),
    )
    .severity(if critical {
        Severity::Critical
    } else {
        Severity::Warning
    })
    .details(subject_details(examined, critical))
    .evidence(&file.path, "subject", &leaf.subject)
    .evidence(&file.path, "CN (expected)", expected_cn);
    for rule in rules {
        let organizations = if rule.organizations.is_empty() {
            "no O".to_string()
        } else {
            format!("O={}", rule.organizations.join(", O="))
        };
        finding = finding.evidence(
            &file.path,
            "O (expected)",
            format!("{organizations} ({})", rule.releases),
        );
    }
    if let Some(names) = allowed_names {
        let path = facts.apiserver.as_ref().map_or("", |pod| pod.path.as_str());
        finding = finding.evidence(path, "--requestheader-allowed-names", names.join(","));
    }
    let command = super::sans::phase_command(examined, facts, &[]);
    Some(
        finding
            .fix(fixes::regenerate(examined, facts, command))
            .reference(CERTIFICATES_DOC),
    )
}

fn subject_details(examined: &Examined, critical: bool) -> String {
    let consequence = match examined.leaf.name {
        "apiserver-kubelet-client" => {
            "The kubelets authorize the API server by this identity, so `kubectl logs`, `exec` \
             and `port-forward` fail with Forbidden."
        }
        "front-proxy-client" => {
            "Aggregated API servers (metrics-server and others) accept the API server's proxied \
             requests only from a CN listed in --requestheader-allowed-names, so they reject \
             them."
        }
        "admin.conf" | "super-admin.conf" => {
            "RBAC grants the administrator rights to this user or group, so kubectl with this \
             kubeconfig is denied."
        }
        "controller-manager.conf" | "scheduler.conf" => {
            "RBAC binds the component's roles to this user name, so its requests are denied and \
             it stops working."
        }
        _ => "No component authorizes by this identity, so nothing fails today.",
    };
    if critical {
        consequence.to_string()
    } else {
        format!(
            "{consequence} It still differs from what kubeadm issues, which confuses renewal \
             and audits."
        )
    }
}

/// Returns the CNs the API server accepts for front-proxy-client, when the certificate is that
/// one and the flag is set.
fn front_proxy_allowed_names<'a>(examined: &Examined, facts: &'a Facts) -> Option<Vec<&'a str>> {
    if examined.leaf.name != "front-proxy-client" {
        return None;
    }
    let names = facts
        .apiserver
        .as_ref()?
        .list("requestheader-allowed-names");
    (!names.is_empty()).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::super::table::Role;

    #[test]
    fn role_purposes_match_kubeadm() {
        assert_eq!(
            Role::ServerAndClient.required_purposes(),
            ["serverAuth", "clientAuth"]
        );
    }
}
