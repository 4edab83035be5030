//! CA files the runtimes load for registries: each must parse as PEM, hold CA certificates and
//! be within its validity period.

use std::collections::BTreeMap;

use jiff::Timestamp;

use crate::check::{Code, Context, Finding, Fix, Severity};
use crate::host::{Host, MAX_CONFIG_BYTES};
use crate::kube::cert::{Certificate, parse_pem_certificates};
use crate::net::RegistryAddress;
use crate::report::format_rfc3339;
use crate::runtime::Runtime;

use super::chain::Anchor;
use super::facts::Facts;
use super::fixes;

/// A CA file and the runtimes and registries that load it.
pub struct CaFile {
    pub path: String,
    pub users: Vec<(Runtime, RegistryAddress)>,
    /// Whether a hosts.toml names it, so a missing file is reported by the hosts.toml rules.
    pub from_hosts_toml: bool,
    pub loaded: Result<Vec<Certificate>, String>,
    pub missing: bool,
}

impl CaFile {
    pub fn anchors(&self) -> Vec<Anchor> {
        self.loaded
            .iter()
            .flatten()
            .map(|certificate| Anchor {
                source: self.path.clone(),
                certificate: certificate.clone(),
            })
            .collect()
    }
}

/// A runtime and registry that load a CA file, borrowed from a plan.
type User<'a> = (Runtime, &'a RegistryAddress);

/// Reads every CA file any plan names, once each, and returns their findings, and the files
/// when `keep_certificates` is set, for the handshakes. Without handshakes each file is dropped
/// once its findings are made: a node with thousands of registry folders would otherwise hold
/// every CA in memory at once.
pub fn load_all(
    context: &Context,
    facts: &Facts,
    keep_certificates: bool,
) -> (Vec<CaFile>, Vec<Finding>) {
    // Paths and registries are borrowed from the plans until a file is read.
    let mut users_by_path: BTreeMap<&str, (Vec<User<'_>>, bool)> = BTreeMap::new();
    for plan in &facts.plans {
        for endpoint in &plan.endpoints {
            for path in &endpoint.ca_files {
                let (users, _) = users_by_path.entry(path).or_insert_with(|| {
                    let from_hosts_toml = endpoint.configured_by.ends_with("hosts.toml");
                    (Vec::new(), from_hosts_toml)
                });
                let user = (plan.runtime, &plan.registry);
                if !users.contains(&user) {
                    users.push(user);
                }
            }
        }
    }

    let mut files = Vec::new();
    let mut findings = Vec::new();
    for (path, (users, from_hosts_toml)) in users_by_path {
        let (loaded, missing) = load(context.host.as_ref(), path);
        let file = CaFile {
            path: path.to_string(),
            users: users
                .into_iter()
                .map(|(runtime, registry)| (runtime, registry.clone()))
                .collect(),
            from_hosts_toml,
            loaded,
            missing,
        };
        findings.extend(file_findings(context, facts, &file));
        if keep_certificates {
            files.push(file);
        }
    }
    (files, findings)
}

fn load(host: &dyn Host, path: &str) -> (Result<Vec<Certificate>, String>, bool) {
    match host.read_file(path, MAX_CONFIG_BYTES) {
        Ok(bytes) => (
            parse_pem_certificates(&bytes).map_err(|error| error.to_string()),
            false,
        ),
        Err(error) => (Err(error.kind.to_string()), error.is_not_found()),
    }
}

fn file_findings(context: &Context, facts: &Facts, file: &CaFile) -> Vec<Finding> {
    let now = context.now();
    let severity = severity_for(facts, file);
    let certificates = match &file.loaded {
        Ok(certificates) => certificates,
        Err(_) if file.missing && file.from_hosts_toml => return Vec::new(),
        Err(message) => return vec![unreadable(file, message).severity(severity)],
    };
    let mut findings = Vec::new();
    let count = certificates.len();
    for (index, certificate) in certificates.iter().enumerate() {
        context.record_certificate(&file.path, &certificate.subject, certificate.not_after);
        let label = if count > 1 {
            format!("certificate {} of {count} in {}", index + 1, file.path)
        } else {
            file.path.clone()
        };
        if !certificate.is_ca {
            findings.push(not_a_ca(file, &label, certificate).severity(
                if is_self_signed(certificate) {
                    Severity::Warning
                } else {
                    severity
                },
            ));
        }
        if certificate.is_expired(now) || certificate.is_not_yet_valid(now) {
            findings.push(expired(file, &label, certificate, now).severity(severity));
        }
    }
    findings
}

/// Critical when a runtime the kubelet uses loads the file, else a warning.
fn severity_for(facts: &Facts, file: &CaFile) -> Severity {
    if file
        .users
        .iter()
        .any(|(runtime, _)| facts.is_active(*runtime))
    {
        Severity::Critical
    } else {
        Severity::Warning
    }
}

pub fn is_self_signed(certificate: &Certificate) -> bool {
    certificate.issuer == certificate.subject && certificate.is_signed_by(certificate)
}

fn users_text(file: &CaFile) -> String {
    file.users
        .iter()
        .map(|(runtime, registry)| format!("{} for {registry}", runtime.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn unreadable(file: &CaFile, message: &str) -> Finding {
    Finding::new(
        Code::RegistryCaCaUnreadable,
        format!("registry CA file {} cannot be used: {message}", file.path),
    )
    .details(format!(
        "{} loads {} as a registry CA, but it holds no usable PEM certificate. containerd \
         fails every pull from the registry on such a file; Docker and CRI-O skip it and \
         then fail with \"x509: certificate signed by unknown authority\".",
        users_text(file),
        file.path
    ))
    .evidence(&file.path, "error", message)
    .fix(
        Fix::new(format!(
            "Replace {} with the registry's CA certificate in PEM form",
            file.path
        ))
        .step("Check what the file holds; a DER file can be converted to PEM.")
        .command(format!("openssl x509 -noout -subject -in {}", file.path))
        .command(format!(
            "openssl x509 -inform der -in {0} -out {0}.pem && mv {0}.pem {0}",
            file.path
        ))
        .step("Per-registry CA files are read on every pull, so no restart is needed."),
    )
    .reference(fixes::reference(file.users[0].0))
}

fn not_a_ca(file: &CaFile, which: &str, certificate: &Certificate) -> Finding {
    let self_signed = is_self_signed(certificate);
    let (summary, details) = if self_signed {
        (
            format!("{which} is a self-signed certificate without CA:TRUE, not a CA"),
            format!(
                "{which} ({}) signs itself but lacks basicConstraints CA:TRUE. A Go-based \
                 runtime trusts it only as that exact certificate, so pulls fail as soon as \
                 the registry serves another one; rustls-webpki rejects it outright.",
                certificate.subject
            ),
        )
    } else {
        (
            format!(
                "{which} is not a CA certificate: it looks like the registry's server certificate"
            ),
            format!(
                "{which} ({}) has no basicConstraints CA:TRUE and was issued by {}. It is a \
                 server certificate, not the CA that signed it. A Go-based runtime accepts it \
                 only while the registry serves exactly this certificate, so pulls fail once \
                 it is renewed, or at once when the registry serves another.",
                certificate.subject, certificate.issuer
            ),
        )
    };
    Finding::new(Code::RegistryCaCaNotACa, summary)
        .details(details)
        .evidence(&file.path, "subject", &certificate.subject)
        .evidence(&file.path, "issuer", &certificate.issuer)
        .evidence(&file.path, "basicConstraints", "CA:FALSE or absent")
        .evidence(&file.path, "fingerprint", &certificate.fingerprint)
        .fix(
            Fix::new(format!(
                "Replace {} with the certificate of the CA {}",
                file.path, certificate.issuer
            ))
            .step(format!(
                "Get the certificate of the CA named {} from the registry's administrator and \
                 save it as {}.",
                certificate.issuer, file.path
            ))
            .command(format!(
                "openssl x509 -noout -subject -issuer -ext basicConstraints -in {}",
                file.path
            ))
            .command(fixes::show_chain_command(&file.users[0].1))
            .step("The file is read on every pull, so no restart is needed."),
        )
        .reference(fixes::reference(file.users[0].0))
}

fn expired(file: &CaFile, which: &str, certificate: &Certificate, now: Timestamp) -> Finding {
    let (summary, field, when) = if certificate.is_not_yet_valid(now) {
        (
            format!(
                "registry CA {which} is not valid before {}",
                format_rfc3339(certificate.not_before)
            ),
            "notBefore",
            certificate.not_before,
        )
    } else {
        (
            format!(
                "registry CA {which} expired on {}",
                format_rfc3339(certificate.not_after)
            ),
            "notAfter",
            certificate.not_after,
        )
    };
    Finding::new(Code::RegistryCaCaExpired, summary)
        .details(format!(
            "{} trusts {} ({}) for registry certificates, but it is outside its validity \
             period, so no certificate it signed verifies.",
            users_text(file),
            which,
            certificate.subject
        ))
        .evidence(&file.path, "subject", &certificate.subject)
        .evidence(&file.path, field, format_rfc3339(when))
        .fix(
            Fix::new(format!(
                "Replace {} with the registry's renewed CA certificate",
                file.path
            ))
            .step(
                "Get the renewed CA certificate from the registry's administrator; if the CA \
                     itself was not renewed, the registry needs a new CA and certificate.",
            )
            .command(format!(
                "openssl x509 -noout -subject -dates -in {}",
                file.path
            ))
            .command(fixes::show_chain_command(&file.users[0].1))
            .step("The file is read on every pull, so no restart is needed."),
        )
        .reference(fixes::reference(file.users[0].0))
}
