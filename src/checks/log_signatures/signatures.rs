//! The shipped signature set: error lines operators meet in `kubeadm join` output, the
//! kubelet's journal and static pod logs, each mapped to the code of the check that looks at
//! the cause, so a log line and that check report the same code.
//!
//! The set is compiled in rather than shipped as YAML. Each code is then a catalog entry that
//! the compiler checks, and fixes can be computed from captures (the registry of an image).
//! `node-doctor diagnose` also works on a laptop where no checks.d folder is installed.
//!
//! Patterns are matched in order and a line counts for the first signature it matches, so the
//! API server's "Unable to authenticate" line is not also read as a client-side certificate
//! error. Quotes may be escaped (`\"`), as structured klog output writes them inside `err="..."`.
//! Wording is from the Kubernetes and kubeadm sources (kubelet bootstrap.go, server.go;
//! kube-proxy server.go; apiserver authentication.go; kubeadm discovery/token and preflight).

use crate::check::Code;
use crate::rules::template::Vars;

pub struct Signature {
    /// A short name for logs.
    pub name: &'static str,
    pub pattern: &'static str,
    pub code: Code,
    /// Built-in checks that can confirm the cause on the node, run by `diagnose` on a match.
    pub confirm: &'static [&'static str],
    pub summary: &'static str,
    pub details: &'static str,
    pub fix: &'static str,
    pub steps: &'static [&'static str],
    pub commands: &'static [&'static str],
    pub references: &'static [&'static str],
    /// Fills in values derived from the captures, such as an image's registry.
    pub enrich: fn(&mut Vars),
}

const KUBEADM_TROUBLESHOOTING: &str = "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/troubleshooting-kubeadm/";

fn nothing(_: &mut Vars) {}

/// Sets `name` to `fallback` when the capture is missing or empty.
fn default_to(vars: &mut Vars, name: &str, fallback: &str) {
    if vars.get(name).is_none_or(|value| value.is_empty()) {
        vars.insert(name.to_string(), fallback.to_string());
    }
}

fn image_registry(vars: &mut Vars) {
    let image = vars.get("image").cloned().unwrap_or_default();
    // Container image references name a registry in their first path part only when it has a
    // dot or a colon or is localhost. Otherwise the image is on Docker Hub.
    let registry = match image.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => "docker.io",
    };
    vars.insert("registry".into(), registry.to_string());
    default_to(vars, "namespace", "NAMESPACE");
    default_to(vars, "image", "IMAGE");
}

fn san_address(vars: &mut Vars) {
    let second = vars.get("address2").cloned().unwrap_or_default();
    if vars.get("address").is_none_or(|a| a.is_empty()) {
        vars.insert("address".into(), second);
    }
    default_to(vars, "address", "the address clients use");
}

fn token_id(vars: &mut Vars) {
    let jws = vars.get("jws_token_id").cloned().unwrap_or_default();
    if vars.get("token_id").is_none_or(|t| t.is_empty()) {
        vars.insert("token_id".into(), jws);
    }
    default_to(vars, "token_id", "TOKEN-ID");
}

fn kubelet_expiry(vars: &mut Vars) {
    default_to(vars, "expiry", "an earlier time");
}

fn api_server_expiry(vars: &mut Vars) {
    default_to(vars, "not_after", "an earlier time");
}

pub const SIGNATURES: &[Signature] = &[
    Signature {
        name: "kubelet-client-cert-expired",
        pattern: r"(?i)(?:part of the existing bootstrap client certificate(?: in \S+)? is expired: (?P<expiry>[^\x22\\]+?)\s*(?:\\?\x22|$)|the currently active client certificate has expired)",
        code: Code::KubeletClientCertExpired,
        confirm: &["kubelet-client-cert"],
        summary: "kubelet log: its client certificate expired ({{expiry}}), {{seen}}",
        details: "The kubelet logged that the client certificate in its kubeconfig is past its NotAfter. It falls back to bootstrap-kubelet.conf when that exists, and otherwise cannot reach the API server, so the node goes NotReady.",
        fix: "Give the kubelet a new client certificate, then point kubelet.conf at kubelet-client-current.pem",
        steps: &[
            "On a control-plane node with /etc/kubernetes/pki/ca.key, create a kubeconfig for this node with `kubeadm kubeconfig user`.",
            "Copy it to /etc/kubernetes/kubelet.conf on this node, after moving the old one and /var/lib/kubelet/pki/kubelet-client* aside.",
            "Restart the kubelet, wait for /var/lib/kubelet/pki/kubelet-client-current.pem, then make kubelet.conf's client-certificate and client-key name that file and restart again.",
        ],
        commands: &[
            "kubeadm kubeconfig user --org system:nodes --client-name system:node:{{node}} > kubelet.conf",
            "systemctl restart kubelet",
        ],
        references: &[
            "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/troubleshooting-kubeadm/#kubelet-client-cert",
        ],
        enrich: kubelet_expiry,
    },
    Signature {
        name: "bootstrap-kubeconfig-missing",
        pattern: r"unable to load bootstrap kubeconfig: stat (?P<path>[^\s:]+):? no such file or directory",
        code: Code::KubeletClientCertNoBootstrapFallback,
        confirm: &["kubelet-client-cert"],
        summary: "kubelet log: bootstrap kubeconfig {{path}} is missing, {{seen}}",
        details: "The kubelet's own credentials are unusable (usually an expired client certificate) and the bootstrap kubeconfig it would fall back to does not exist, so the kubelet exits at start. kubeadm deletes bootstrap-kubelet.conf after the first TLS bootstrap.",
        fix: "Recreate the kubelet's credentials from a control-plane node",
        steps: &[
            "On a control-plane node, create a kubeconfig for this node with `kubeadm kubeconfig user`, or create a new bootstrap token and write it as {{path}}.",
            "Copy the file to this node and restart the kubelet.",
        ],
        commands: &[
            "kubeadm kubeconfig user --org system:nodes --client-name system:node:{{node}} > kubelet.conf",
            "systemctl restart kubelet",
        ],
        references: &[
            "https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/troubleshooting-kubeadm/#kubelet-client-cert",
        ],
        enrich: nothing,
    },
    Signature {
        name: "swap-on",
        pattern: r"(?i)running with swap on is not supported",
        code: Code::JoinPreflightSwapEnabled,
        confirm: &["join-preflight"],
        summary: "kubeadm or kubelet log: swap is on, {{seen}}",
        details: "kubeadm's preflight check Swap and the kubelet (with failSwapOn, the default) both refuse to run while swap is enabled. Setting --fail-swap-on=false for the kubelet does not change kubeadm's own check.",
        fix: "Turn swap off now and at boot, then run kubeadm again",
        steps: &[
            "Turn swap off with `swapoff -a`.",
            "Remove swap entries from /etc/fstab and disable swap units or services such as dphys-swapfile, so swap stays off after a reboot.",
        ],
        commands: &["swapoff -a"],
        references: &[KUBEADM_TROUBLESHOOTING],
        enrich: nothing,
    },
    Signature {
        name: "cgroup-driver-mismatch",
        pattern: r#"(?i)kubelet cgroup driver: \\?"(?P<kubelet_driver>[\w-]+)\\?" is different from (?P<runtime>\w+) cgroup driver: \\?"(?P<runtime_driver>[\w-]+)\\?""#,
        code: Code::JoinPreflightCgroupDriverMismatch,
        confirm: &["join-preflight"],
        summary: "kubelet log: cgroup driver {{kubelet_driver}} differs from {{runtime}}'s {{runtime_driver}}",
        details: "The kubelet and the container runtime must use the same cgroup driver. The kubelet refuses to start when they differ.",
        fix: "Use the same cgroup driver, systemd on systemd hosts, in the kubelet and the runtime",
        steps: &[
            "Set cgroupDriver in /var/lib/kubelet/config.yaml and the runtime's driver (containerd SystemdCgroup, Docker exec-opts native.cgroupdriver) to the same value.",
            "Restart the runtime, then the kubelet.",
        ],
        commands: &["systemctl restart {{runtime}} kubelet"],
        references: &[
            "https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/configure-cgroup-driver/",
        ],
        enrich: nothing,
    },
    Signature {
        name: "cni-not-initialised",
        pattern: r"(?i)(?:cni config uninitialized|cni plugin not initialized|no networks found in /\S+|NetworkPluginNotReady)",
        code: Code::JoinPreflightCniConfigMissing,
        confirm: &["join-preflight"],
        summary: "kubelet or runtime log: the CNI network is not initialised, {{seen}}",
        details: "The container runtime found no CNI configuration in /etc/cni/net.d, so the node stays NotReady and pods other than host-network ones cannot start.",
        fix: "Install a pod network add-on, or fix the one whose pods are not running on this node",
        steps: &[
            "Check that the network add-on's DaemonSet has a running pod on this node.",
            "Check that /etc/cni/net.d has a configuration file and /opt/cni/bin the plugins it names.",
        ],
        commands: &[
            "kubectl get pods -A -o wide --field-selector spec.nodeName={{node}}",
            "ls -l /etc/cni/net.d /opt/cni/bin",
        ],
        references: &[
            "https://kubernetes.io/docs/concepts/cluster-administration/addons/#networking-and-network-policy",
        ],
        enrich: nothing,
    },
    Signature {
        name: "image-pull-untrusted-ca",
        pattern: r#"(?i)failed to pull image \\?"(?P<image>[^"\\]+)\\?".*x509: certificate signed by unknown authority"#,
        code: Code::RegistryCaChainUntrusted,
        confirm: &["registry-ca"],
        summary: "image pull of {{image}} failed: the registry's certificate is signed by an unknown authority",
        details: "The container runtime does not trust the CA that signed registry {{registry}}'s certificate, so image pulls from it fail and pods stay in ImagePullBackOff.",
        fix: "Install the registry's CA where the node's container runtime reads it",
        steps: &[
            "For containerd, put the CA in /etc/containerd/certs.d/{{registry}}/ and name it in hosts.toml. For Docker and CRI-O, put it in /etc/docker/certs.d/{{registry}}/ca.crt or /etc/containers/certs.d/{{registry}}/ca.crt.",
            "Run node-doctor --registry {{registry}} to verify the setup.",
        ],
        commands: &["node-doctor --only registry-ca --registry {{registry}}"],
        references: &["https://github.com/containerd/containerd/blob/main/docs/hosts.md"],
        enrich: image_registry,
    },
    Signature {
        name: "image-pull-unauthorized",
        pattern: r#"(?i)failed to pull image \\?"(?P<image>[^"\\]+)\\?".*(?:401 unauthorized|: unauthorized|pull access denied|no basic auth credentials|authorization failed|authentication required)"#,
        code: Code::LogSignaturesImagePullUnauthorized,
        confirm: &[],
        summary: "image pull of {{image}} refused as unauthorized by {{registry}}",
        details: "Registry {{registry}} requires credentials and the pod pulling {{image}} has none that it accepts. Pods get registry credentials from imagePullSecrets, their own or their service account's.",
        fix: "Create a docker-registry Secret and add it to the service account's imagePullSecrets",
        steps: &[
            "Create a Secret of type kubernetes.io/dockerconfigjson with credentials for {{registry}} in the pod's namespace.",
            "Add it to the imagePullSecrets of the pod's service account (default unless the pod names another), then delete the pod so that it is created again with the secret.",
        ],
        commands: &[
            "kubectl -n {{namespace}} create secret docker-registry regcred --docker-server={{registry}} --docker-username=USER --docker-password=PASSWORD",
            r#"kubectl -n {{namespace}} patch serviceaccount default -p '{"imagePullSecrets": [{"name": "regcred"}]}'"#,
        ],
        references: &[
            "https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#add-imagepullsecrets-to-a-service-account",
        ],
        enrich: image_registry,
    },
    Signature {
        name: "kube-proxy-node-ip-unknown",
        pattern: r"(?:Failed to retrieve node IP: host IP unknown|invalid nodeIP, initializ\w* kube-proxy with 127\.0\.0\.1|Can't determine this node's IP, assuming)",
        code: Code::KubeProxyCloudInitNodeIpUnknown,
        confirm: &["kube-proxy-cloud-init"],
        summary: "kube-proxy log: no node IP, running with the loopback address, {{seen}}",
        details: "kube-proxy started before the node had an address, usually before the cloud controller manager initialised it, and uses 127.0.0.1 until it restarts, so NodePort and load-balancer traffic to this node breaks.",
        fix: "Restart kube-proxy on this node now that the node has an address",
        steps: &[
            "Check that the node has an InternalIP.",
            "Delete the kube-proxy pod on this node; its DaemonSet starts a new one that reads the address.",
        ],
        commands: &[
            "kubectl get node {{node}} -o jsonpath='{.status.addresses}'",
            "kubectl -n kube-system delete pod -l k8s-app=kube-proxy --field-selector spec.nodeName={{node}}",
        ],
        references: &["https://github.com/kubernetes/kubeadm/issues/1027"],
        enrich: nothing,
    },
    Signature {
        name: "api-server-rejects-expired-client-cert",
        pattern: r"Unable to authenticate the request.*x509: certificate has expired or is not yet valid(?:: current time (?P<current_time>\S+) is after (?P<not_after>[^\s\x22\\\]]+))?",
        code: Code::CertExpiryExpired,
        confirm: &["cert-expiry", "kubelet-client-cert"],
        summary: "API server log: it rejected a client certificate that expired at {{not_after}}, {{seen}}",
        details: "A client still presents a certificate that expired at {{not_after}}. `kubeadm certs renew` writes new files but running components keep the old ones until restarted, copies of admin.conf elsewhere (~/.kube/config) keep the old certificate, and the kubelet's client certificate is not renewed by kubeadm at all.",
        fix: "Find the kubeconfig or certificate that expired at {{not_after}}, renew it, and restart what uses it",
        steps: &[
            "Run node-doctor certs on each control-plane node and look for a NotAfter of {{not_after}}.",
            "Restart the control-plane static pods after renewing, copy the new admin.conf to ~/.kube/config, and repair kubelet client certificates separately.",
        ],
        commands: &["node-doctor certs", "kubeadm certs check-expiration"],
        references: &["https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/"],
        enrich: api_server_expiry,
    },
    Signature {
        name: "certificate-san-mismatch",
        pattern: r#"(?:rejected connection from \\?"(?P<remote>[^"\\]+)\\?" \(error \\?"tls: \\?"?(?P<address>[^"\\ ]+)\\?"? does not match any of DNSNames|x509: certificate is valid for (?P<valid_for>.+?), not (?P<address2>[^\s"\\\]]+))"#,
        code: Code::PkiSanMissing,
        confirm: &["pki"],
        summary: "a TLS peer rejected a certificate that does not name {{address}}",
        details: "A certificate's subject alternative names do not include {{address}}, the address it was reached at. Typical causes are certificates copied between control-plane or etcd members, and an API server certificate made before the advertised address changed.",
        fix: "Issue the certificate again with {{address}} in its SANs on the node that serves it",
        steps: &[
            "Move the certificate and key that lack the address aside on the node that serves them.",
            "Generate them again with kubeadm (`kubeadm init phase certs etcd-server`, `etcd-peer` or `apiserver`, with the address in the configuration's SANs) and restart the static pod.",
        ],
        commands: &["kubeadm init phase certs all --config /etc/kubernetes/kubeadm-config.yaml"],
        references: &["https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-certs/"],
        enrich: san_address,
    },
    Signature {
        name: "bootstrap-token-invalid",
        pattern: r#"(?i)(?:token id \\?"(?P<token_id>[a-z0-9]+)\\?" is invalid for this cluster or it has expired|(?:does not yet contain a JWS signature|could not find a JWS signature in the cluster-info ConfigMap) for token ID \\?"(?P<jws_token_id>[a-z0-9]+)\\?")"#,
        code: Code::LogSignaturesBootstrapTokenInvalid,
        confirm: &[],
        summary: "kubeadm join: bootstrap token {{token_id}} is invalid or expired",
        details: "The cluster has no valid bootstrap token with ID {{token_id}}: it expired (24 hours by default) or was deleted. kubeadm join keeps retrying and, below -v3, prints nothing after the preflight checks.",
        fix: "Create a new token on a control-plane node and join with the command it prints",
        steps: &[
            "On a control-plane node, run `kubeadm token create --print-join-command`.",
            "Run `kubeadm reset` on this node if a join was partly done, then the printed join command.",
        ],
        commands: &["kubeadm token create --print-join-command"],
        references: &["https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-token/"],
        enrich: token_id,
    },
    Signature {
        name: "ca-hash-not-pinned",
        pattern: r#"(?i)none of the public keys \\?"(?P<hashes>[^"\\]+)\\?" are pinned"#,
        code: Code::LogSignaturesCaHashNotPinned,
        confirm: &[],
        summary: "kubeadm join: the cluster CA's hash {{hashes}} is not among the pinned hashes",
        details: "The CA in the cluster-info ConfigMap has public key hash {{hashes}}, and the join was given other --discovery-token-ca-cert-hash values. When that hash is in your list but not first, kubeadm 1.21 compared only the first entry.",
        fix: "Join with the hash of the cluster's current CA, listed first",
        steps: &[
            "On a control-plane node, print the CA hash with the openssl command below, or print a whole join command with `kubeadm token create --print-join-command`.",
            "If it is {{hashes}}, put it first in caCertHashes or pass only it with --discovery-token-ca-cert-hash. If it differs, the cluster-info ConfigMap and /etc/kubernetes/pki/ca.crt are out of step.",
        ],
        commands: &[
            "openssl x509 -pubkey -in /etc/kubernetes/pki/ca.crt | openssl rsa -pubin -outform der 2>/dev/null | openssl dgst -sha256 -hex | sed 's/^.* /sha256:/'",
            "kubeadm token create --print-join-command",
        ],
        references: &[
            "https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-join/#token-based-discovery-with-ca-pinning",
            "https://github.com/kubernetes/kubeadm/issues/2471",
        ],
        enrich: nothing,
    },
    Signature {
        name: "discovery-ca-untrusted",
        pattern: r"(?i)cluster-info:? x509: certificate signed by unknown authority",
        code: Code::LogSignaturesDiscoveryCaUntrusted,
        confirm: &[],
        summary: "kubeadm join: the API server's certificate is not signed by the CA in cluster-info",
        details: "Discovery trusted the CA published in the kube-public/cluster-info ConfigMap, and the API server presented a certificate that CA did not sign. The control plane's ca.crt, the published CA and the serving certificate's issuer must be the same CA.",
        fix: "Make the API server's certificate, /etc/kubernetes/pki/ca.crt and cluster-info agree on one CA",
        steps: &[
            "On the control plane, compare the issuer of /etc/kubernetes/pki/apiserver.crt with ca.crt and with the CA in `kubectl -n kube-public get cm cluster-info -o yaml`.",
            "Regenerate the odd one out from the cluster CA, then restart the API server.",
        ],
        commands: &["node-doctor --only pki"],
        references: &[KUBEADM_TROUBLESHOOTING],
        enrich: nothing,
    },
    Signature {
        name: "node-not-found",
        pattern: r#"(?i)nodes? \\?"(?P<node_name>[^"\\]+)\\?" not found"#,
        code: Code::LogSignaturesNodeNotFound,
        confirm: &[],
        summary: "log: node {{node_name}} not found in the API server, {{seen}}",
        details: "A component asked the API server for Node {{node_name}} and it does not exist. The kubelet registers the node at start; if these lines continue, registration fails (see the kubelet's other errors) or the node name differs from what the component expects.",
        fix: "Check whether the kubelet registered the node and under which name",
        steps: &[
            "List the nodes and compare the names with {{node_name}}.",
            "Read the kubelet's log for the registration error that comes before these lines.",
        ],
        commands: &[
            "kubectl get nodes -o wide",
            "journalctl -u kubelet -o short-iso --no-pager -n 200",
        ],
        references: &[KUBEADM_TROUBLESHOOTING],
        enrich: nothing,
    },
    Signature {
        name: "server-cert-time-invalid",
        pattern: r"x509: certificate has expired or is not yet valid",
        code: Code::LogSignaturesServerCertTimeInvalid,
        confirm: &["join-preflight", "cert-expiry"],
        summary: "a client rejected the server's certificate as expired or not yet valid, {{seen}}",
        details: "A client on this node checked the server certificate's validity against this node's clock and rejected it. On a new cluster the clocks differ: the node's clock is behind the one that issued the certificate. Otherwise the server's certificate has expired.",
        fix: "Synchronise this node's clock, or renew the server's certificate if it has expired",
        steps: &[
            "Compare `date -u` here with the control plane's, and enable NTP (timedatectl set-ntp true) on every node.",
            "If the clocks agree, check the server certificate's NotAfter with `kubeadm certs check-expiration` on the control plane.",
        ],
        commands: &["timedatectl set-ntp true", "kubeadm certs check-expiration"],
        references: &[KUBEADM_TROUBLESHOOTING],
        enrich: nothing,
    },
];
