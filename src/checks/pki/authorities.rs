//! The three kubeadm CAs: each must be a CA, have a valid window and match its key when the key
//! is on this node. A CA without its key is kubeadm's external CA mode, not a problem.

use crate::certs::{PKI_DIR, ca_paths};
use crate::check::{Code, Finding, Fix};
use crate::host::Host;

use super::leaf_rules::{CERTIFICATES_DOC, inverted_finding};
use super::material::{self, CertificateFile};
use super::table::AUTHORITIES;

/// A CA file read from the PKI directory, with its kubeadm name.
pub struct Authority {
    pub name: &'static str,
    pub file: CertificateFile,
    pub key_path: String,
}

/// Reads the CAs that apply to this node. The etcd CA is left out with external etcd.
pub fn read(host: &dyn Host, local_etcd: bool) -> Vec<Authority> {
    AUTHORITIES
        .iter()
        .filter(|(name, _)| local_etcd || *name != "etcd-ca")
        .filter_map(|(name, base)| {
            let (certificate, key) = ca_paths(base);
            let file = material::read_certificate(host, &certificate)?;
            Some(Authority {
                name,
                file,
                key_path: key,
            })
        })
        .collect()
}

pub fn check(host: &dyn Host, authority: &Authority) -> Vec<Finding> {
    let mut findings = Vec::new();
    let path = &authority.file.path;
    let certificate = authority.file.leaf();
    let label = format!("the {} CA ({path})", authority.name);

    let lacks_cert_sign = certificate
        .key_usage
        .as_ref()
        .is_some_and(|bits| !bits.contains(&"keyCertSign"));
    if !certificate.is_ca || lacks_cert_sign {
        let constraint = if certificate.is_ca {
            "CA:TRUE"
        } else {
            "CA:FALSE or absent"
        };
        let usage = certificate
            .key_usage
            .as_ref()
            .map_or("none".to_string(), |bits| bits.join(", "));
        findings.push(
            Finding::new(
                Code::PkiCaNotACa,
                format!("{label} is not a certificate authority"),
            )
            .details(format!(
                "kubeadm and every component that loads {path} use it to verify certificates. \
                 Go rejects a signer without basicConstraints CA:TRUE, or with a KeyUsage that \
                 lacks keyCertSign, so nothing the {} CA signed verifies. A leaf certificate was \
                 probably copied over the CA file.",
                authority.name
            ))
            .evidence(path, "basicConstraints", constraint)
            .evidence(path, "keyUsage", usage)
            .evidence(path, "subject", &certificate.subject)
            .fix(restore_fix(authority))
            .reference(CERTIFICATES_DOC),
        );
    }

    if certificate.not_before > certificate.not_after {
        findings.push(inverted_finding(&label, path, certificate).fix(restore_fix(authority)));
    }

    if host.exists(&authority.key_path) {
        let key = host
            .read_file(&authority.key_path, crate::host::MAX_CONFIG_BYTES)
            .map_err(|error| error.to_string())
            .and_then(|bytes| material::first_key(&bytes));
        if let (Ok(key), Some(certificate_key)) = (key, certificate.public_key.as_ref())
            && &key != certificate_key
        {
            findings.push(
                Finding::new(
                    Code::PkiKeyMismatch,
                    format!("{} does not belong to {label}", authority.key_path),
                )
                .details(format!(
                    "kubeadm and the controller manager sign new certificates with {} and \
                     peers verify them with {path}. With keys that do not match, every \
                     certificate signed from now on fails verification.",
                    authority.key_path
                ))
                .evidence(
                    path,
                    "public key fingerprint",
                    certificate_key.fingerprint(),
                )
                .evidence(
                    &authority.key_path,
                    "public key fingerprint",
                    key.fingerprint(),
                )
                .fix(restore_fix(authority))
                .reference(CERTIFICATES_DOC),
            );
        }
    }
    findings
}

/// Builds the restore fix. A CA is never regenerated in place, because everything it signed
/// would stop verifying.
fn restore_fix(authority: &Authority) -> Fix {
    Fix::new(format!(
        "Restore the matching {} CA certificate and key from a backup or another control-plane \
         node",
        authority.name
    ))
    .step(format!(
        "Do not generate a new {} CA on a running cluster: every certificate it signed would \
         stop verifying. Copy the CA pair that signed the current certificates from a backup or \
         from another control-plane node.",
        authority.name
    ))
    .step("Compare the public key fingerprints of the certificate and the key before restarting anything.")
    .command(format!(
        "openssl x509 -noout -subject -fingerprint -sha256 -in {}",
        authority.file.path
    ))
    .command(format!("ls -l {PKI_DIR}"))
}
