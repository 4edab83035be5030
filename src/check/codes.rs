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

    NodeIpAnchorIpSelected => "node-ip/anchor-ip-selected", Critical,
        "The node IP is, or will be once the kubelet starts, a cloud alias address on the public \
         interface: DigitalOcean's anchor IP (a 10.x.x.x/16 beside the public address on eth0, \
         used for floating IPs) or a static /32 floating IP beside a DHCP address. The API server \
         cannot reach the kubelet there, so kubectl logs, exec and port-forward fail with \
         \"no route to host\".";
    NodeIpMultipleAddressesUnpinned => "node-ip/multiple-addresses-unpinned", Warning,
        "The default-route interface has several global IPv4 addresses and --node-ip is not \
         set, so the kubelet picks one by address order or by a DNS lookup of the node name, and \
         the choice can change when the interface is configured again.";
    NodeIpNodeIpNotOnHost => "node-ip/node-ip-not-on-host", Critical,
        "--node-ip names an address that no interface of this host has, or a value that is not \
         an IP address. The kubelet rejects it, or registers an address that reaches another \
         machine.";
    NodeIpSharedNatAddress => "node-ip/shared-nat-address", Critical,
        "The node IP is a NAT address that every VM of its kind gets, such as VirtualBox's \
         10.0.2.15, so all nodes register the same InternalIP and the API server's requests for \
         logs and exec reach the wrong VM.";
    NodeIpInternalIpMismatch => "node-ip/internal-ip-mismatch", Warning,
        "The API shows another InternalIP than the kubelet is configured with, or one that no \
         interface of this host has: the kubelet was not restarted after a change, or something \
         else sets the node's addresses.";
    NodeIpPrivateNetworkUnused => "node-ip/private-network-unused", Warning,
        "The node IP is the public address of the default interface while another interface \
         has a private address. Kubelet traffic crosses the public network, and firewalls that \
         admit only the private network make exec and logs time out.";
    NodeIpNoDefaultRoute => "node-ip/no-default-route", Warning,
        "--node-ip is not set and no default route leads to an interface with a global address, \
         so the kubelet cannot choose a node IP unless DNS resolves the node name.";

    KubeProxyCloudInitNodeIpUnknown => "kube-proxy-cloud-init/node-ip-unknown", Critical,
        "kube-proxy's log on this node says it found no node IP and fell back to 127.0.0.1, in \
         any release's wording (\"Failed to retrieve node IP: host IP unknown\", \"invalid \
         nodeIP, initializing kube-proxy with 127.0.0.1 as nodeIP\", \"Can't determine this \
         node's IP, assuming 127.0.0.1\" or \"... assuming loopback\"). It started before the \
         node had an address and keeps wrong NodePort and load-balancer rules until restarted.";
    KubeProxyCloudInitUninitializedTaintPresent => "kube-proxy-cloud-init/uninitialized-taint-present", Warning,
        "The node still carries node.cloudprovider.kubernetes.io/uninitialized: the cloud \
         controller manager has not set its addresses, so ordinary pods stay Pending and pods \
         that tolerate the taint start without a node IP.";
    KubeProxyCloudInitToleratesUninitialized => "kube-proxy-cloud-init/tolerates-uninitialized", Warning,
        "kube-proxy tolerates node.cloudprovider.kubernetes.io/uninitialized (kubeadm's DaemonSet \
         tolerates every taint) while the kubelet uses an external cloud provider, so on a new \
         node it can start before the cloud controller manager sets the node IP.";
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
