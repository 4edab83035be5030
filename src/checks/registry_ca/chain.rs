//! Judges a served certificate chain the way a Go-based runtime's `x509.Verify` would. The
//! leaf must name the registry in a subjectAltName. A path must lead from the leaf through
//! served CA certificates to a trusted root, and every certificate on it must be valid now.
//!
//! Go, unlike rustls-webpki, accepts a leaf that is itself in the root pool, which is how a
//! self-signed registry certificate copied into certs.d works, so that case counts as trusted.

use jiff::Timestamp;

use crate::kube::cert::Certificate;

/// Maximum number of certificates in a path, as a guard against loops.
const MAX_PATH: usize = 8;

/// A trusted root and where it was loaded from.
#[derive(Clone, Debug)]
pub struct Anchor {
    pub source: String,
    pub certificate: Certificate,
}

/// A problem with a served chain. An empty list of them means a Go runtime accepts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The leaf is outside its validity period.
    LeafExpired,
    /// The leaf's subjectAltNames do not cover the registry's name.
    HostnameMismatch,
    /// A CA on the path, served or trusted, is outside its validity period.
    CaExpired {
        subject: String,
        source: String,
        not_after: Timestamp,
    },
    /// The path ends at a certificate whose issuer is not trusted.
    Untrusted {
        top_subject: String,
        top_issuer: String,
    },
    /// The path ends at a certificate whose issuer the server should have sent. `found_at`
    /// names a file on the node that contains that issuer, when one does.
    Incomplete {
        missing_issuer: String,
        found_at: Option<String>,
    },
}

/// Certificates on the node that may be a missing intermediate, from any CA file.
pub struct Known<'a> {
    pub certificates: &'a [Anchor],
}

pub fn assess(
    served: &[Certificate],
    anchors: &[Anchor],
    known: &Known<'_>,
    server_name: &str,
    custom_anchors: bool,
    now: Timestamp,
) -> Vec<Problem> {
    let Some(leaf) = served.first() else {
        return vec![Problem::Untrusted {
            top_subject: String::new(),
            top_issuer: String::new(),
        }];
    };
    let mut problems = Vec::new();
    if leaf.is_expired(now) || leaf.is_not_yet_valid(now) {
        problems.push(Problem::LeafExpired);
    }
    if !name_matches(leaf, server_name) {
        problems.push(Problem::HostnameMismatch);
    }
    if anchors
        .iter()
        .any(|anchor| anchor.certificate.der == leaf.der)
    {
        return problems;
    }
    problems.extend(path_problem(served, anchors, known, custom_anchors, now));
    problems
}

fn path_problem(
    served: &[Certificate],
    anchors: &[Anchor],
    known: &Known<'_>,
    custom_anchors: bool,
    now: Timestamp,
) -> Option<Problem> {
    let mut current = &served[0];
    for _ in 0..MAX_PATH {
        if let Some(anchor) = anchors
            .iter()
            .find(|anchor| signs(&anchor.certificate, current))
        {
            let root = &anchor.certificate;
            return (root.is_expired(now) || root.is_not_yet_valid(now)).then(|| {
                Problem::CaExpired {
                    subject: root.subject.clone(),
                    source: anchor.source.clone(),
                    not_after: root.not_after,
                }
            });
        }
        let Some(next) = served[1..]
            .iter()
            .find(|candidate| candidate.der != current.der && signs(candidate, current))
        else {
            break;
        };
        if next.is_expired(now) || next.is_not_yet_valid(now) {
            return Some(Problem::CaExpired {
                subject: next.subject.clone(),
                source: "served by the registry".to_string(),
                not_after: next.not_after,
            });
        }
        current = next;
    }

    let top = current;
    let self_signed = top.issuer == top.subject;
    if !self_signed {
        // Only an intermediate found elsewhere shows that the server left it out. A root found
        // elsewhere means this runtime lacks the CA, which is an untrusted chain.
        if let Some(found) = known.certificates.iter().find(|candidate| {
            let certificate = &candidate.certificate;
            certificate.subject != certificate.issuer && signs(certificate, top)
        }) {
            return Some(Problem::Incomplete {
                missing_issuer: top.issuer.clone(),
                found_at: Some(found.source.clone()),
            });
        }
        let same_name_trusted = anchors.iter().any(|a| a.certificate.subject == top.issuer);
        if custom_anchors && top.der == served[0].der && !same_name_trusted {
            return Some(Problem::Incomplete {
                missing_issuer: top.issuer.clone(),
                found_at: None,
            });
        }
    }
    Some(Problem::Untrusted {
        top_subject: top.subject.clone(),
        top_issuer: top.issuer.clone(),
    })
}

/// Returns whether `issuer` is a CA whose key signed `child`.
fn signs(issuer: &Certificate, child: &Certificate) -> bool {
    issuer.is_ca && child.is_signed_by(issuer)
}

/// Matches a registry host against the leaf's subjectAltNames as Go's `VerifyHostname` does:
/// IP addresses against IP SANs, names against DNS SANs with a `*.` wildcard for one label.
pub fn name_matches(leaf: &Certificate, server_name: &str) -> bool {
    if let Ok(ip) = server_name.parse::<std::net::IpAddr>() {
        return leaf
            .ip_addresses
            .iter()
            .any(|san| san.parse::<std::net::IpAddr>().ok() == Some(ip));
    }
    let name = server_name.trim_end_matches('.').to_ascii_lowercase();
    leaf.dns_names.iter().any(|san| {
        let san = san.trim_end_matches('.').to_ascii_lowercase();
        match san.strip_prefix("*.") {
            Some(suffix) => name
                .split_once('.')
                .is_some_and(|(label, rest)| !label.is_empty() && rest == suffix),
            None => san == name,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(dns: &[&str], ips: &[&str]) -> Certificate {
        Certificate {
            der: Vec::new(),
            subject: "CN=registry".to_string(),
            common_name: Some("registry.example.test".to_string()),
            organizations: Vec::new(),
            issuer: "CN=CA".to_string(),
            not_before: Timestamp::UNIX_EPOCH,
            not_after: Timestamp::MAX,
            is_ca: false,
            dns_names: dns.iter().map(|s| s.to_string()).collect(),
            ip_addresses: ips.iter().map(|s| s.to_string()).collect(),
            public_key: None,
            key_usage: None,
            extended_key_usage: None,
            fingerprint: String::new(),
        }
    }

    #[test]
    fn wildcard_matches_one_label() {
        let certificate = leaf(&["*.example.test"], &[]);
        assert!(name_matches(&certificate, "registry.example.test"));
        assert!(name_matches(&certificate, "REGISTRY.example.test."));
        assert!(!name_matches(&certificate, "a.registry.example.test"));
        assert!(!name_matches(&certificate, "example.test"));
    }

    #[test]
    fn common_name_is_ignored() {
        assert!(!name_matches(&leaf(&[], &[]), "registry.example.test"));
    }

    #[test]
    fn ip_needs_ip_san() {
        let certificate = leaf(&["192.168.78.28"], &["10.0.0.5"]);
        assert!(name_matches(&certificate, "10.0.0.5"));
        assert!(!name_matches(&certificate, "192.168.78.28"));
    }
}
