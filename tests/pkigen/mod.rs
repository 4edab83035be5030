//! Certificates issued the way kubeadm issues them (KeyUsage, ExtendedKeyUsage, SANs),
//! signed by the kubeadm-real fixture's CA keys or by a new CA, and edits of the fixture's
//! node name, addresses and manifests, for the pki and control-plane-flags tests.

#![allow(dead_code)]

use std::fs;
use std::path::Path;

use base64::Engine as _;
use jiff::Timestamp;
use pkcs8::der::Decode;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};

use crate::common::{load_key_pair, rootfs_path, set_validity, timestamp};

pub const PKI: &str = "/etc/kubernetes/pki";
pub const MANIFESTS: &str = "/etc/kubernetes/manifests";

/// What a certificate is for, as kubeadm sets its usages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Server,
    Client,
    ServerAndClient,
}

/// A certificate to issue.
#[derive(Clone, Debug)]
pub struct LeafSpec {
    pub cn: String,
    pub orgs: Vec<String>,
    pub role: Role,
    pub dns: Vec<String>,
    pub ips: Vec<String>,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
}

impl LeafSpec {
    pub fn new(cn: &str, role: Role) -> LeafSpec {
        LeafSpec {
            cn: cn.to_string(),
            orgs: Vec::new(),
            role,
            dns: Vec::new(),
            ips: Vec::new(),
            not_before: timestamp("2026-12-04T19:31:37Z"),
            not_after: timestamp("2027-12-04T19:31:37Z"),
        }
    }

    pub fn orgs(mut self, orgs: &[&str]) -> LeafSpec {
        self.orgs = orgs.iter().map(|o| o.to_string()).collect();
        self
    }

    pub fn dns(mut self, names: &[&str]) -> LeafSpec {
        self.dns = names.iter().map(|n| n.to_string()).collect();
        self
    }

    pub fn ips(mut self, addresses: &[&str]) -> LeafSpec {
        self.ips = addresses.iter().map(|a| a.to_string()).collect();
        self
    }

    pub fn valid(mut self, not_before: &str, not_after: &str) -> LeafSpec {
        self.not_before = timestamp(not_before);
        self.not_after = timestamp(not_after);
        self
    }

    fn params(&self) -> CertificateParams {
        let mut params = CertificateParams::default();
        for org in &self.orgs {
            params
                .distinguished_name
                .push(DnType::OrganizationName, org.as_str());
        }
        params
            .distinguished_name
            .push(DnType::CommonName, self.cn.as_str());
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = match self.role {
            Role::Server => vec![ExtendedKeyUsagePurpose::ServerAuth],
            Role::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
            Role::ServerAndClient => vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        };
        for name in &self.dns {
            params
                .subject_alt_names
                .push(SanType::DnsName(name.as_str().try_into().unwrap()));
        }
        for address in &self.ips {
            params
                .subject_alt_names
                .push(SanType::IpAddress(address.parse().unwrap()));
        }
        set_validity(&mut params, self.not_before, self.not_after);
        params
    }
}

/// A CA that can sign: one of the fixture's, or a new one.
pub struct Ca {
    pub cert_pem: String,
    key: KeyPair,
}

impl Ca {
    /// Loads a fixture CA, such as `ca` or `etcd/ca`, from a snapshot.
    pub fn load(snapshot: &Path, base: &str) -> Ca {
        let cert_pem = fs::read_to_string(rootfs_path(snapshot, &format!("{PKI}/{base}.crt")))
            .expect("read CA certificate");
        let key_pem = fs::read_to_string(rootfs_path(snapshot, &format!("{PKI}/{base}.key")))
            .expect("read CA key");
        Ca {
            cert_pem,
            key: load_key_pair(&key_pem),
        }
    }

    /// Creates a new self-signed CA with a fresh ECDSA key and the given subject.
    pub fn new(cn: &str, orgs: &[&str]) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        for org in orgs {
            params
                .distinguished_name
                .push(DnType::OrganizationName, *org);
        }
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
            KeyUsagePurpose::KeyCertSign,
        ];
        set_validity(
            &mut params,
            timestamp("2019-12-27T12:29:54Z"),
            timestamp("2119-12-03T12:29:54Z"),
        );
        let cert_pem = params.self_signed(&key).unwrap().pem();
        Ca { cert_pem, key }
    }

    /// Issues an intermediate CA signed by this one.
    pub fn intermediate(&self, cn: &str) -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ];
        set_validity(
            &mut params,
            timestamp("2026-12-01T00:00:00Z"),
            timestamp("2036-12-01T00:00:00Z"),
        );
        let issuer = Issuer::from_ca_cert_pem(&self.cert_pem, &self.key).unwrap();
        let cert_pem = params.signed_by(&key, &issuer).unwrap().pem();
        Ca { cert_pem, key }
    }

    /// Issues a leaf with a new ECDSA P-256 key. Returns the certificate and the PKCS#8 key.
    pub fn issue(&self, spec: &LeafSpec) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        self.issue_for(spec, &key)
    }

    /// Issues a leaf for an existing key pair.
    pub fn issue_for(&self, spec: &LeafSpec, key: &KeyPair) -> (String, String) {
        let issuer = Issuer::from_ca_cert_pem(&self.cert_pem, &self.key).unwrap();
        let certificate = spec.params().signed_by(key, &issuer).unwrap();
        (certificate.pem(), key.serialize_pem())
    }
}

/// Writes `<base>.crt` and `<base>.key` under the snapshot's PKI directory.
pub fn write_pair(snapshot: &Path, base: &str, cert_pem: &str, key_pem: &str) {
    write(snapshot, &format!("{PKI}/{base}.crt"), cert_pem);
    write(snapshot, &format!("{PKI}/{base}.key"), key_pem);
}

/// Writes a host file into the snapshot, creating its folders.
pub fn write(snapshot: &Path, host_path: &str, contents: &str) {
    let path = rootfs_path(snapshot, host_path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

pub fn read(snapshot: &Path, host_path: &str) -> String {
    fs::read_to_string(rootfs_path(snapshot, host_path)).unwrap()
}

/// Replaces text in a host file of the snapshot.
pub fn edit(snapshot: &Path, host_path: &str, from: &str, to: &str) {
    let text = read(snapshot, host_path);
    assert!(text.contains(from), "{host_path} does not contain {from:?}");
    write(snapshot, host_path, &text.replace(from, to));
}

/// Re-issues the fixture's API server certificate for another node name and addresses, as
/// kubeadm would: the fixed service names, the node name, the service IP, the advertise
/// address and the controlPlaneEndpoint host.
pub fn apiserver_spec(node: &str, advertise: &str, endpoint_host: &str) -> LeafSpec {
    let mut dns = vec![
        endpoint_host,
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
        node,
    ];
    let mut ips = vec!["10.96.0.1", advertise];
    if endpoint_host.parse::<std::net::IpAddr>().is_ok() {
        dns.remove(0);
        ips.push(endpoint_host);
    }
    LeafSpec::new("kube-apiserver", Role::Server)
        .dns(&dns)
        .ips(&ips)
}

/// The etcd server or peer certificate kubeadm issues for a node.
pub fn etcd_spec(node: &str, advertise: &str) -> LeafSpec {
    LeafSpec::new(node, Role::ServerAndClient)
        .dns(&["localhost", node])
        .ips(&[advertise, "127.0.0.1", "::1"])
}

/// Renames the fixture's node and moves it to another address: manifests, hostname,
/// snapshot.json and the kubelet's user name. Certificates are left as they are.
pub fn move_node(snapshot: &Path, node: &str, address: &str) {
    for manifest in ["kube-apiserver", "etcd"] {
        let path = format!("{MANIFESTS}/{manifest}.yaml");
        let text = read(snapshot, &path)
            .replace("192.0.2.10", address)
            .replace("node-1", node);
        write(snapshot, &path, &text);
    }
    write(snapshot, "/etc/hostname", &format!("{node}\n"));
    edit(
        snapshot,
        "/etc/kubernetes/kubelet.conf",
        "system:node:node-1",
        &format!("system:node:{node}"),
    );
    let manifest = fs::read_to_string(snapshot.join("snapshot.json")).unwrap();
    fs::write(
        snapshot.join("snapshot.json"),
        manifest.replace("\"node-1\"", &format!("\"{node}\"")),
    )
    .unwrap();
}

/// Replaces the kubeadm-config ConfigMap's ClusterConfiguration.
pub fn set_cluster_configuration(snapshot: &Path, yaml: &str) {
    let document = serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "kubeadm-config", "namespace": "kube-system"},
        "data": {"ClusterConfiguration": yaml},
    });
    fs::write(
        snapshot.join("api/kubeadm-config.json"),
        serde_json::to_string_pretty(&document).unwrap(),
    )
    .unwrap();
}

/// Rewraps an RSA PKCS#1 PEM key as PKCS#8 (`PRIVATE KEY`).
pub fn rsa_pkcs1_to_pkcs8(pem: &str) -> String {
    let der = crate::common::wrap_rsa_pkcs1_in_pkcs8(&crate::common::pem_body(pem));
    pem_encode("PRIVATE KEY", &der)
}

/// Rewrites a PKCS#8 EC key as SEC1 (`EC PRIVATE KEY`), the form OpenSSL and Go write.
pub fn ec_pkcs8_to_sec1(pem: &str) -> String {
    let der = crate::common::pem_body(pem);
    let info = pkcs8::PrivateKeyInfo::from_der(&der).unwrap();
    pem_encode("EC PRIVATE KEY", info.private_key)
}

pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).unwrap());
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {label}-----\n"));
    pem
}

/// Returns the findings of one check.
pub fn findings_of<'a>(report: &'a serde_json::Value, check: &str) -> Vec<&'a serde_json::Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check"] == check)
        .collect()
}

/// Returns a check's entry in the report.
pub fn check_result<'a>(report: &'a serde_json::Value, check: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == check)
        .unwrap_or_else(|| panic!("{check} did not run"))
}

/// Joins a finding's evidence into one text for `contains` assertions.
pub fn evidence_text(finding: &serde_json::Value) -> String {
    finding["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} | {} | {}",
                e["source"].as_str().unwrap(),
                e["field"].as_str().unwrap(),
                e["value"].as_str().unwrap()
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn fix_text(finding: &serde_json::Value) -> String {
    let fix = &finding["fix"];
    let mut lines = vec![fix["summary"].as_str().unwrap().to_string()];
    for key in ["steps", "commands"] {
        for line in fix[key].as_array().unwrap() {
            lines.push(line.as_str().unwrap().to_string());
        }
    }
    lines.join("\n")
}
