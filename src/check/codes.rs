//! The finding-code catalog.
//!
//! Codes are `<check-id>/<problem>` and are a public contract: alerts and dashboards key on them,
//! so a code is never renamed or reused for another problem. Each has a default severity and a
//! description that `node-doctor list` and `node-doctor explain` print.

use serde::{Serialize, Serializer};

use super::Severity;

/// A finding code declared in a checks.d YAML file. The loader leaks one per code, because
/// codes live as long as the process and [`Code`] must stay `Copy`.
#[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeclaredCode {
    pub code: &'static str,
    pub severity: Severity,
    pub description: &'static str,
}

macro_rules! codes {
    ($( $variant:ident => $code:literal, $severity:ident, $description:literal; )*) => {
        /// A finding code. See the module documentation for the stability rules.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $variant, )*
            /// A code that a declarative check in a checks.d YAML file declares.
            Declared(&'static DeclaredCode),
        }

        impl Code {
            /// The compiled catalog. Declared codes are not in it.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            pub fn as_str(self) -> &'static str {
                match self {
                    $( Code::$variant => $code, )*
                    Code::Declared(declared) => declared.code,
                }
            }

            pub fn default_severity(self) -> Severity {
                match self {
                    $( Code::$variant => Severity::$severity, )*
                    Code::Declared(declared) => declared.severity,
                }
            }

            pub fn description(self) -> &'static str {
                match self {
                    $( Code::$variant => $description, )*
                    Code::Declared(declared) => declared.description,
                }
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
    MountPropagationUnitMountflags => "mount-propagation/unit-mountflags", Critical,
        "MountFlags= is set for docker.service, containerd.service or kubelet.service, in the unit \
         or a drop-in. systemd then runs the service in its own mount namespace, so mounts the \
         kubelet makes (secret and service-account token volumes) never reach containers, which \
         fail with RunContainerError or crash because the files are missing. Since Docker 18.09 \
         it also hides dockerd's mounts from containerd, so containers cannot start at all.";
    MountPropagationRootNotShared => "mount-propagation/root-not-shared", Warning,
        "The root mount in PID 1's mount namespace is not shared. Volumes with \
         mountPropagation Bidirectional or HostToContainer fail with \"is mounted on / but it is \
         not a shared mount\", and CSI drivers cannot publish mounts to pods.";
    JoinPreflightSwapEnabled => "join-preflight/swap-enabled", Critical,
        "Swap is on. With failSwapOn true, the kubelet's default, the kubelet refuses to start; \
         with failSwapOn false it runs, and kubeadm's preflight still reports swap. Warning when \
         the kubelet is configured to tolerate swap.";
    JoinPreflightBrNetfilterMissing => "join-preflight/br-netfilter-missing", Warning,
        "The br_netfilter module is not loaded or net.bridge.bridge-nf-call-iptables is 0, so \
         traffic between pods on the same Linux bridge bypasses iptables and Service addresses \
         do not work for it. sysctl files cannot set the key until the module is loaded.";
    JoinPreflightIpForwardDisabled => "join-preflight/ip-forward-disabled", Critical,
        "net.ipv4.ip_forward is 0, so the node does not route pod traffic. kubeadm's preflight \
         stops with \"/proc/sys/net/ipv4/ip_forward contents are not set to 1\".";
    JoinPreflightCgroupDriverMismatch => "join-preflight/cgroup-driver-mismatch", Critical,
        "The kubelet's cgroupDriver differs from the container runtime's (containerd's runc \
         SystemdCgroup option or Docker's native.cgroupdriver). With Docker the kubelet exits \
         with \"misconfiguration: kubelet cgroup driver\"; with containerd pods are restarted \
         and the node is unstable under load.";
    JoinPreflightCniConfigMissing => "join-preflight/cni-config-missing", Critical,
        "The node has joined but the CNI configuration folder has no network configuration, so \
         the runtime reports \"cni plugin not initialized\", the node stays NotReady and pods \
         stay in ContainerCreating.";
    JoinPreflightClockUnsynchronized => "join-preflight/clock-unsynchronized", Warning,
        "timedatectl reports that the system clock is not synchronised with NTP. A drifting \
         clock makes certificates look not yet valid or expired and breaks `kubeadm join` and \
         kubelet TLS bootstrap.";
    JoinPreflightKubeletKubeconfigMissing => "join-preflight/kubelet-kubeconfig-missing", Critical,
        "The kubelet has been configured by kubeadm but neither its kubeconfig nor the bootstrap \
         kubeconfig exists, so it cannot reach the API server and exits at start.";
    JoinPreflightRuntimeSocketMissing => "join-preflight/runtime-socket-missing", Critical,
        "The CRI socket the kubelet uses does not exist or is not a socket, so the container \
         runtime is not running. kubeadm's preflight fails with \"container runtime is not \
         running\" and the kubelet cannot start pods.";
    JoinPreflightHostnameInvalid => "join-preflight/hostname-invalid", Critical,
        "The node name is not a valid DNS-1123 subdomain (lowercase letters, digits, '-' and \
         '.', at most 253 characters), so the API server rejects the Node object and the kubelet \
         cannot register.";
    JoinPreflightKubeletConfigInvalid => "join-preflight/kubelet-config-invalid", Critical,
        "The kubelet's configuration file is not valid YAML or not a valid \
         KubeletConfiguration, so the kubelet exits at start.";
    JoinPreflightRuntimeConfigInvalid => "join-preflight/runtime-config-invalid", Critical,
        "containerd's config.toml or Docker's daemon.json does not parse, so the runtime does \
         not start and the kubelet has no container runtime.";
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

    LogSignaturesImagePullUnauthorized => "log-signatures/image-pull-unauthorized", Critical,
        "The kubelet or the container runtime logged that a registry refused an image pull as \
         unauthorized (401, \"pull access denied\", \"no basic auth credentials\"). The pod has \
         no imagePullSecret with credentials for that registry, so it stays in ImagePullBackOff.";
    LogSignaturesBootstrapTokenInvalid => "log-signatures/bootstrap-token-invalid", Critical,
        "kubeadm join logged that its bootstrap token is invalid for the cluster or has expired \
         (tokens last 24 hours by default). Discovery retries forever, and at the default \
         verbosity join seems to hang after the preflight checks.";
    LogSignaturesCaHashNotPinned => "log-signatures/ca-hash-not-pinned", Critical,
        "kubeadm join logged that the CA in the cluster-info ConfigMap matches none of the \
         --discovery-token-ca-cert-hash values, so it does not trust the API server. The hash \
         is stale or from another cluster, or, with kubeadm 1.21, the matching hash was not the \
         first entry of caCertHashes.";
    LogSignaturesNodeNotFound => "log-signatures/node-not-found", Warning,
        "A component logged that the API server has no Node object with this node's name. \
         The kubelet has not registered the node (yet), registered it under another name, or \
         the Node was deleted. Brief messages during the first start are normal.";
    LogSignaturesDiscoveryCaUntrusted => "log-signatures/discovery-ca-untrusted", Critical,
        "kubeadm join logged that the API server's certificate is signed by an unknown \
         authority while it fetched cluster-info: the serving certificate was not issued by \
         the CA the join trusts, so the control plane's CA files are out of step.";
    LogSignaturesServerCertTimeInvalid => "log-signatures/server-cert-time-invalid", Critical,
        "A client on this node (kubeadm join, the kubelet) rejected a server certificate as \
         expired or not yet valid. On a new cluster this means the clocks differ, and otherwise \
         the server's certificate has expired.";
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
