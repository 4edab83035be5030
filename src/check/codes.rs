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

    PkiIssuerMismatch => "pki/issuer-mismatch", Critical,
        "A control-plane certificate is not signed by the CA kubeadm's certificate table names for \
         it (ca, front-proxy-ca or etcd-ca), so the peers that verify it against that CA reject \
         it. Typical after a CA was regenerated or files from a previous install were kept. \
         Warning when the certificate still verifies where it is used but its issuer shares a \
         name with another CA on the node.";
    PkiKeyMismatch => "pki/key-mismatch", Critical,
        "The private key next to a control-plane certificate or CA does not belong to it, so \
         the component that loads the pair fails its TLS handshakes or cannot start.";
    PkiSanMissing => "pki/san-missing", Critical,
        "The API server or etcd certificate does not cover a name or address that clients dial \
         (advertise address, service IP, controlPlaneEndpoint, node name), so their TLS \
         verification fails. Also reported for a certificate copied from another control-plane \
         node. Warning when only names that no configured client dials are missing.";
    PkiUsageMismatch => "pki/usage-mismatch", Critical,
        "A control-plane certificate lacks the extended key usage its role needs (serverAuth for \
         a server, clientAuth for a client), so TLS peers reject it. Warning when only the \
         KeyUsage bits differ from kubeadm's.";
    PkiSubjectMismatch => "pki/subject-mismatch", Critical,
        "A control-plane certificate's CN or O is not what kubeadm issues for it in any release, \
         so authorization based on that identity fails (for example the API server's requests \
         to kubelets are forbidden). Warning when no component uses the identity.";
    PkiValidityInverted => "pki/validity-inverted", Critical,
        "A certificate's NotBefore is after its NotAfter, so it is never valid. It was issued \
         by a broken tool or with swapped dates.";
    PkiCaNotACa => "pki/ca-not-a-ca", Critical,
        "A file kubeadm uses as a certificate authority (ca.crt, front-proxy-ca.crt, \
         etcd/ca.crt) lacks basicConstraints CA:TRUE or the keyCertSign usage, so no \
         certificate it signed verifies.";
    PkiSaKeyMismatch => "pki/sa-key-mismatch", Critical,
        "The controller manager signs service-account tokens with a private key whose public \
         half is not among the keys the API server verifies with (--service-account-key-file), \
         or sa.key and sa.pub do not match, so the API server rejects every token.";
    ControlPlaneFlagsAuthorizationAlwaysAllow => "control-plane-flags/authorization-always-allow", Critical,
        "The API server's --authorization-mode includes AlwaysAllow (or is unset, which defaults \
         to AlwaysAllow), so every authenticated request is allowed and RBAC and the Node \
         authorizer protect nothing.";
    ControlPlaneFlagsFlagMissingValue => "control-plane-flags/flag-missing-value", Critical,
        "A flag in a static pod manifest has no value, for example a comma-separated list that \
         was split into bare keys. The component either fails to start or reads the next flag \
         as the value.";
    ControlPlaneFlagsDuplicateFlag => "control-plane-flags/duplicate-flag", Warning,
        "A single-value flag appears more than once in a static pod manifest. The last one \
         wins, so the earlier value is silently ignored.";
    ControlPlaneFlagsFileFlagMissing => "control-plane-flags/file-flag-missing", Critical,
        "A flag in a static pod manifest names a file that does not exist on the node, so the \
         component fails to start.";
    ControlPlaneFlagsManifestInvalid => "control-plane-flags/manifest-invalid", Critical,
        "A control-plane static pod manifest is not valid YAML, is not a Pod or has no \
         container, so the kubelet does not start that component.";
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
