//! Service-account signing keys: the controller manager signs tokens with
//! --service-account-private-key-file, the API server signs its own with
//! --service-account-signing-key-file and accepts a token only if one of the keys in its
//! --service-account-key-file files (the flag repeats, and each file may hold several keys)
//! verifies it. kubeadm points all three at sa.key and sa.pub.

use crate::certs::PKI_DIR;
use crate::check::{Code, Finding, Fix};
use crate::host::{Host, MAX_CONFIG_BYTES};
use crate::kube::keys::PublicKey;

use super::facts::Facts;
use super::fixes::restart_pods;
use super::material;

const SERVICE_ACCOUNT_DOC: &str =
    "https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/";

/// One key file and what was read from it.
struct KeyFile {
    path: String,
    /// The flag that names it, or "kubeadm default".
    origin: String,
    keys: Result<Vec<PublicKey>, String>,
}

impl KeyFile {
    fn read(host: &dyn Host, path: &str, origin: String) -> KeyFile {
        let keys = host
            .read_file(path, MAX_CONFIG_BYTES)
            .map_err(|error| error.to_string())
            .and_then(|bytes| material::all_keys(&bytes));
        KeyFile {
            path: path.to_string(),
            origin,
            keys,
        }
    }

    fn first(&self) -> Option<&PublicKey> {
        self.keys.as_ref().ok()?.first()
    }

    fn fingerprints(&self) -> String {
        match &self.keys {
            Ok(keys) if keys.is_empty() => "no keys".to_string(),
            Ok(keys) => keys
                .iter()
                .map(PublicKey::fingerprint)
                .collect::<Vec<_>>()
                .join(", "),
            Err(error) => format!("unreadable: {error}"),
        }
    }
}

pub fn check(host: &dyn Host, facts: &Facts) -> Vec<Finding> {
    let sa_key = format!("{PKI_DIR}/sa.key");
    let sa_pub = format!("{PKI_DIR}/sa.pub");
    let mut findings = Vec::new();

    if host.exists(&sa_key) && host.exists(&sa_pub) {
        let private = KeyFile::read(host, &sa_key, "kubeadm's sa.key".to_string());
        let public = KeyFile::read(host, &sa_pub, "kubeadm's sa.pub".to_string());
        if let (Some(key), Ok(keys)) = (private.first(), public.keys.as_ref())
            && !keys.contains(key)
        {
            findings.push(
                mismatch(
                    format!("{sa_key} and {sa_pub} are not a key pair"),
                    "sa.pub is not the public half of sa.key. kubeadm copies both to every \
                     control-plane node and points the API server at sa.pub, so tokens signed \
                     with sa.key are rejected.",
                    &private,
                    &public,
                )
                .fix(restore_fix()),
            );
        }
    }

    let Some(apiserver) = facts.apiserver.as_ref() else {
        return findings;
    };
    let verifying: Vec<KeyFile> = apiserver
        .all("service-account-key-file")
        .filter_map(|flag| flag.value.as_deref())
        .filter(|path| !path.is_empty())
        .map(|path| {
            let origin = format!("--service-account-key-file in {}", apiserver.path);
            KeyFile::read(host, path, origin)
        })
        .collect();
    let verifying_keys: Vec<&PublicKey> = verifying
        .iter()
        .filter_map(|file| file.keys.as_ref().ok())
        .flatten()
        .collect();
    if verifying.is_empty() || verifying.iter().any(|file| file.keys.is_err()) {
        // A missing or unreadable file is control-plane-flags' file-flag-missing.
        return findings;
    }

    if let Some(controller_manager) = facts.controller_manager.as_ref()
        && let Some(path) = controller_manager
            .value("service-account-private-key-file")
            .filter(|p| !p.is_empty())
    {
        let origin = format!(
            "--service-account-private-key-file in {}",
            controller_manager.path
        );
        let signing = KeyFile::read(host, path, origin);
        if let Some(key) = signing.first()
            && !verifying_keys.contains(&key)
        {
            findings.push(
                mismatch(
                    format!(
                        "the controller manager signs service-account tokens with {path}, which \
                         no --service-account-key-file of the API server verifies"
                    ),
                    "Tokens of the legacy service-account token controller are signed with \
                     this key, and the API server accepts a token only if a key in its \
                     --service-account-key-file files verifies it, so every such token is \
                     rejected with 401 Unauthorized.",
                    &signing,
                    &verifying[0],
                )
                .with_evidence(extra_evidence(&verifying[1..]))
                .fix(restore_fix()),
            );
        }

        if let Some(apiserver_key) = apiserver
            .value("service-account-signing-key-file")
            .filter(|p| !p.is_empty())
        {
            let origin = format!("--service-account-signing-key-file in {}", apiserver.path);
            let issuer = KeyFile::read(host, apiserver_key, origin);
            if let (Some(issuer_key), Some(key)) = (issuer.first(), signing.first())
                && issuer_key != key
            {
                findings.push(
                    mismatch(
                        format!(
                            "the API server signs tokens with {apiserver_key} but the controller \
                             manager signs with {path}"
                        ),
                        "kubeadm uses one key, sa.key, for both. With two keys, tokens from one \
                         signer are rejected wherever only the other's public key is trusted, \
                         and other control-plane nodes reject tokens this node issues.",
                        &signing,
                        &issuer,
                    )
                    .fix(restore_fix()),
                );
            }
        }
    }
    findings
}

fn mismatch(summary: String, details: &str, signer: &KeyFile, verifier: &KeyFile) -> Finding {
    Finding::new(Code::PkiSaKeyMismatch, summary)
        .details(details)
        .evidence(
            &signer.path,
            format!("public key fingerprint ({})", signer.origin),
            signer.fingerprints(),
        )
        .evidence(
            &verifier.path,
            format!("public key fingerprints ({})", verifier.origin),
            verifier.fingerprints(),
        )
        .reference(SERVICE_ACCOUNT_DOC)
}

fn extra_evidence(files: &[KeyFile]) -> Vec<crate::check::Evidence> {
    files
        .iter()
        .map(|file| {
            crate::check::Evidence::new(
                &file.path,
                format!("public key fingerprints ({})", file.origin),
                file.fingerprints(),
            )
        })
        .collect()
}

fn restore_fix() -> Fix {
    let fix = Fix::new(
        "Use the cluster's one service-account key pair everywhere: sa.key for signing, sa.pub \
         for verifying",
    )
    .step(
        "Copy sa.key and sa.pub from a healthy control-plane node (or a backup) to /etc/kubernetes/pki \
         on this node; do not generate a new pair, which would invalidate every token issued so far.",
    )
    .step(
        "Point --service-account-private-key-file (controller manager) and \
         --service-account-signing-key-file (API server) at sa.key, and \
         --service-account-key-file at sa.pub. During a planned key rotation, list the old and \
         the new public key as two --service-account-key-file flags.",
    )
    .command(format!(
        "openssl pkey -in {PKI_DIR}/sa.key -pubout | openssl sha256 && openssl pkey -pubin -in {PKI_DIR}/sa.pub | openssl sha256"
    ));
    restart_pods(fix, &["kube-apiserver", "kube-controller-manager"])
}
