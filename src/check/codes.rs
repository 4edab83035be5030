//! The finding-code catalog.
//!
//! Codes are `<check-id>/<problem>` and are a public contract: alerts and dashboards key on them,
//! so a code is never renamed or reused for another problem. Each has a default severity and a
//! description that `node-doctor list` and `node-doctor explain` print.

use serde::{Serialize, Serializer};

use super::Severity;

macro_rules! codes {
    ($( $variant:ident => $code:literal, $severity:ident, $description:literal; )*) => {
        /// A finding code. See the module documentation for the stability rules.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $variant, )*
        }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            pub fn default_severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$severity, )* }
            }

            pub fn description(self) -> &'static str {
                match self { $( Code::$variant => $description, )* }
            }
        }
    };
}

codes! {
    KubeletClientCertExpired => "kubelet-client-cert/expired", Critical,
        "The client certificate the kubelet presents to the API server is past its NotAfter. The \
         API server rejects it, so the node cannot update its status and goes NotReady.";
    KubeletClientCertNotYetValid => "kubelet-client-cert/not-yet-valid", Critical,
        "The kubelet's client certificate has a NotBefore in the future. Either the node clock is \
         behind or the certificate was issued by a machine whose clock is ahead.";
    KubeletClientCertRotationOverdue => "kubelet-client-cert/rotation-overdue", Warning,
        "Over 90% of the kubelet client certificate's lifetime has passed. The kubelet rotates \
         at 70-90% of the lifetime, so rotation is failing and the node will go NotReady when \
         the certificate expires.";
    KubeletClientCertKubeconfigNotRotating => "kubelet-client-cert/kubeconfig-not-rotating", Warning,
        "kubelet.conf embeds client-certificate-data or names a fixed certificate file instead of \
         /var/lib/kubelet/pki/kubelet-client-current.pem, so the kubelet keeps using the old \
         certificate after rotation and fails once it expires. Critical when that certificate \
         has expired while a valid rotated one exists.";
    KubeletClientCertCurrentLinkBroken => "kubelet-client-cert/current-link-broken", Critical,
        "kubelet-client-current.pem is missing, dangling or a regular file. The kubelet's \
         certificate store expects a symlink to the newest kubelet-client-TIMESTAMP.pem.";
    KubeletClientCertKeyMismatch => "kubelet-client-cert/key-mismatch", Critical,
        "The private key next to the kubelet client certificate does not belong to it, so TLS \
         client authentication fails.";
    KubeletClientCertUntrustedIssuer => "kubelet-client-cert/untrusted-issuer", Critical,
        "The kubelet client certificate is not signed by the cluster CA, so the API server \
         rejects it. Typical after the CA was regenerated or a node was moved between clusters.";
    KubeletClientCertWrongIdentity => "kubelet-client-cert/wrong-identity", Critical,
        "The certificate subject is not CN=system:node:NODE, O=system:nodes for this node's name, \
         so the Node authorizer denies the kubelet access to its own Node object.";
    KubeletClientCertKubeconfigUserMissing => "kubelet-client-cert/kubeconfig-user-missing", Critical,
        "The current context of kubelet.conf names a user that kubelet.conf does not define, so \
         the kubelet has no credentials and `kubeadm init phase kubelet-finalize` fails.";
    KubeletClientCertRotationDisabled => "kubelet-client-cert/rotation-disabled", Warning,
        "Client certificate rotation is turned off (rotateCertificates: false or \
         --rotate-certificates=false), so the certificate must be renewed by hand before it \
         expires.";
    KubeletClientCertNoBootstrapFallback => "kubelet-client-cert/no-bootstrap-fallback", Critical,
        "The kubelet client certificate has expired and /etc/kubernetes/bootstrap-kubelet.conf is \
         absent, so the kubelet cannot bootstrap new credentials and exits at start.";
    KubeletClientCertKubeconfigInvalid => "kubelet-client-cert/kubeconfig-invalid", Critical,
        "kubelet.conf is missing, unreadable or not a valid kubeconfig, so the kubelet cannot \
         authenticate to the API server.";
    KubeletClientCertUnreadable => "kubelet-client-cert/cert-unreadable", Critical,
        "The kubelet client certificate or key named by kubelet.conf cannot be read or parsed.";
    KubeletClientCertShortLifetime => "kubelet-client-cert/short-lifetime", Warning,
        "The kubelet client certificate lives less than 72 hours (the controller manager's \
         --cluster-signing-duration). A node that is powered off for longer cannot renew it and \
         needs a new bootstrap token to rejoin.";
    KubeletClientCertCertDirVolatile => "kubelet-client-cert/cert-dir-volatile", Warning,
        "The kubelet's --cert-dir is under /run or /var/run, which is tmpfs on most distributions, \
         so rotated client certificates vanish at reboot.";

    CertExpiryExpired => "cert-expiry/expired", Critical,
        "A control-plane certificate, CA or kubeconfig client certificate is past its NotAfter. \
         Components that present or verify it fail their TLS handshakes.";
    CertExpiryExpiringSoon => "cert-expiry/expiring-soon", Warning,
        "A control-plane certificate, CA or kubeconfig client certificate expires within the \
         --expiry-warning window (30 days by default).";
    CertExpiryNotYetValid => "cert-expiry/not-yet-valid", Critical,
        "A certificate's NotBefore is in the future: the node clock is behind, or the \
         certificate was issued on a machine whose clock is ahead.";
    CertExpiryMissing => "cert-expiry/missing", Warning,
        "A certificate that kubeadm expects on this control-plane node is absent. `kubeadm certs \
         check-expiration` shows it as !MISSING!.";
    CertExpiryUnreadable => "cert-expiry/unreadable", Critical,
        "A certificate or kubeconfig exists but cannot be read or parsed, so the component that \
         uses it cannot start.";

    RegistryCaCaNotACa => "registry-ca/ca-not-a-ca", Critical,
        "A file the runtime loads as a registry CA holds a certificate without basicConstraints \
         CA:TRUE, usually the registry's own server certificate copied in place of the CA. The \
         runtime trusts at most that exact certificate, so pulls fail once it is renewed or when \
         the registry serves another one. A self-signed certificate without CA:TRUE is reported \
         as a warning: it works only while the registry serves that same certificate.";
    RegistryCaCaExpired => "registry-ca/ca-expired", Critical,
        "A registry CA certificate, or a CA certificate in the chain the registry serves, is past \
         its NotAfter (or before its NotBefore), so every certificate it signed fails \
         verification with \"x509: certificate has expired or is not yet valid\".";
    RegistryCaCaUnreadable => "registry-ca/ca-unreadable", Critical,
        "A file the runtime loads as a registry CA cannot be read or holds no PEM certificate \
         (empty, DER, truncated or not a certificate). containerd then fails every pull from the \
         registry; Docker and CRI-O skip the file silently and fail with \"certificate signed by \
         unknown authority\".";
    RegistryCaMisnamedFile => "registry-ca/misnamed-file", Critical,
        "A certs.d folder breaks Docker's file rules, which CRI-O and containerd's fallback share: \
         only *.crt files are CAs, and a *.cert client certificate needs a *.key of the same base \
         name. A CA named .cert, a key or certificate without its partner, or a file where the \
         registry folder belongs makes every pull from the registry fail; a CA named .pem is \
         ignored.";
    RegistryCaHostsTomlInvalid => "registry-ca/hosts-toml-invalid", Critical,
        "A containerd hosts.toml does not parse (TOML syntax or a field of the wrong type). \
         containerd logs the error and ignores the whole file, so its mirrors, CA files and \
         skip_verify settings are lost without any error on pull.";
    RegistryCaHostsTomlCaMissing => "registry-ca/hosts-toml-ca-missing", Critical,
        "A containerd hosts.toml names a `ca` file that does not exist. Relative paths are taken \
         from the hosts.toml folder, not from the working directory, so a path that looks right \
         may not resolve. containerd fails every pull from the registry with \"unable to read CA \
         cert\".";
    RegistryCaConfigPathUnset => "registry-ca/config-path-unset", Critical,
        "Registry folders exist under a certs.d directory, but containerd's CRI registry \
         config_path does not include that directory (containerd 1.x sets none by default), so \
         containerd never reads them and pulls fail with \"certificate signed by unknown \
         authority\".";
    RegistryCaRuntimeMismatch => "registry-ca/runtime-mismatch", Critical,
        "Trust for a registry is set up for a container runtime the kubelet does not use, such as \
         /etc/docker/certs.d or Docker's insecure-registries on a node whose kubelet pulls \
         through containerd. `docker pull` works while the kubelet's pulls fail.";
    RegistryCaLegacyRegistryConfig => "registry-ca/legacy-registry-config", Warning,
        "containerd's config.toml uses the deprecated registry.mirrors or registry.configs \
         tables. They are superseded by config_path and hosts.toml files, cannot be combined with \
         config_path, and are ignored by containerd releases older than 1.3. Critical when \
         config_path is set too, because containerd then refuses to start its CRI plugin.";
    RegistryCaChainUntrusted => "registry-ca/chain-untrusted", Critical,
        "The certificate chain the registry serves does not lead to a CA the runtime trusts for \
         it (its CA files plus the system trust store), so pulls fail with \"x509: certificate \
         signed by unknown authority\".";
    RegistryCaChainIncomplete => "registry-ca/chain-incomplete", Critical,
        "The registry serves its certificate without the intermediate CA that signed it, so a \
         runtime that trusts only the root cannot build the chain. Browsers often hide this by \
         fetching intermediates themselves; Go-based runtimes do not.";
    RegistryCaHostnameMismatch => "registry-ca/hostname-mismatch", Critical,
        "The registry's certificate has no subjectAltName for the name or IP address images use \
         to reach it, so pulls fail with \"x509: certificate is valid for ..., not ...\". Go \
         ignores the Common Name since Go 1.15.";
    RegistryCaServerCertExpired => "registry-ca/server-cert-expired", Critical,
        "The certificate the registry serves is past its NotAfter (or before its NotBefore), so \
         pulls fail with \"x509: certificate has expired or is not yet valid\" until the \
         registry gets a new certificate. Nothing on the node can fix this.";
    RegistryCaHandshakeFailed => "registry-ca/handshake-failed", Warning,
        "No TLS handshake with a registry completed within the timeout: the connection was \
         refused, the name did not resolve, or the server did not answer TLS. Its certificate \
         could not be checked.";
    RegistryCaRegistriesYamlInvalid => "registry-ca/registries-yaml-invalid", Critical,
        "k3s's /etc/rancher/k3s/registries.yaml has keys in the wrong place, most often \
         `configs` indented under `mirrors`. k3s then writes hosts.toml files without the CA, \
         skip_verify or credentials the file was meant to set.";
}

impl Code {
    /// Returns the check id, the part of the code before the slash.
    pub fn check_id(self) -> &'static str {
        let code = self.as_str();
        match code.split_once('/') {
            Some((check, _)) => check,
            None => code,
        }
    }

    pub fn find(code: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == code)
    }

    /// Returns the codes of one check, in catalog order.
    pub fn of_check(check: &str) -> impl Iterator<Item = Code> + '_ {
        Code::ALL
            .iter()
            .copied()
            .filter(move |c| c.check_id() == check)
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique() {
        let mut seen = HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
        }
    }

    #[test]
    fn codes_have_check_slash_problem_form() {
        for code in Code::ALL {
            let (check, problem) = code.as_str().split_once('/').expect("code has a slash");
            assert!(is_kebab_case(check), "check id of {code} is not kebab-case");
            assert!(
                is_kebab_case(problem),
                "problem of {code} is not kebab-case"
            );
        }
    }

    #[test]
    fn codes_have_descriptions() {
        for code in Code::ALL {
            assert!(
                code.description().len() > 40,
                "{code} needs a real description"
            );
        }
    }

    fn is_kebab_case(text: &str) -> bool {
        !text.is_empty()
            && !text.starts_with('-')
            && !text.ends_with('-')
            && !text.contains("--")
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    }
}
