//! Everything the kubelet-client-cert rules look at, read once from the host.

use jiff::Timestamp;

use super::link::LinkState;
use super::pair::{self, ClientPair};
use super::setup::Setup;
use crate::host::{Host, MAX_CONFIG_BYTES};
use crate::kube::cert::{Certificate, parse_pem_certificates};
use crate::kube::kubeconfig::{LoadedKubeconfig, Material, decode_data};
use crate::kube::{MANIFESTS_DIR, PKI_DIR};

pub struct Facts {
    pub node: String,
    pub now: Timestamp,
    pub setup: Setup,
    pub kubeconfig: LoadedKubeconfig,
    /// The current context's user, when kubelet.conf defines it.
    pub user: Option<String>,
    /// The certificate kubelet.conf names, as a file path or embedded.
    pub kubeconfig_material: Option<Material>,
    pub kubeconfig_pair: Option<Result<ClientPair, String>>,
    pub link: LinkState,
    pub current_pair: Option<Result<ClientPair, String>>,
    /// The newest kubelet-client-TIMESTAMP.pem in the cert dir whose certificate is valid now.
    pub newest_valid_rotated: Option<String>,
    pub bootstrap_present: bool,
    /// The cluster CA and where it was read.
    pub cluster_ca: Option<(String, Certificate)>,
    /// The controller manager's signing-duration flag, when its manifest is on this node.
    pub signing_duration: Option<(String, String)>,
}

impl Facts {
    pub fn gather(
        host: &dyn Host,
        node: &str,
        now: Timestamp,
        setup: Setup,
        kubeconfig: LoadedKubeconfig,
    ) -> Facts {
        let current = kubeconfig.current();
        let user = current.as_ref().ok().map(|c| c.user_name.clone());
        let (kubeconfig_material, kubeconfig_pair, cluster_ca) = match &current {
            Ok(credentials) => (
                kubeconfig.client_certificate(credentials.user),
                pair::from_kubeconfig(host, &kubeconfig, credentials.user).transpose(),
                read_cluster_ca(host, &kubeconfig, credentials.cluster),
            ),
            Err(_) => (None, None, read_cluster_ca(host, &kubeconfig, None)),
        };

        let link = LinkState::inspect(host, &setup.current_pem());
        let current_pair = match &link {
            LinkState::Valid { .. } | LinkState::RegularFile => {
                Some(pair::from_pem_file(host, &setup.current_pem()))
            }
            _ => None,
        };

        Facts {
            newest_valid_rotated: newest_valid_rotated(host, &setup.cert_dir, now),
            node: node.to_string(),
            now,
            bootstrap_present: host.exists(&setup.bootstrap_kubeconfig),
            signing_duration: read_signing_duration(host),
            setup,
            user,
            kubeconfig_material,
            kubeconfig_pair,
            link,
            current_pair,
            cluster_ca,
            kubeconfig,
        }
    }

    /// Returns whether kubelet.conf names the certificate store's rotating file.
    pub fn uses_current(&self) -> bool {
        match &self.kubeconfig_material {
            Some(Material::File(path)) => normalize(path) == normalize(&self.setup.current_pem()),
            _ => false,
        }
    }

    /// Returns the pair the kubelet presents: the store's when kubelet.conf names it.
    pub fn pair_in_use(&self) -> Option<&ClientPair> {
        if self.uses_current() {
            self.current_pair.as_ref()?.as_ref().ok()
        } else {
            self.kubeconfig_pair.as_ref()?.as_ref().ok()
        }
    }

    pub fn valid_current_pair(&self) -> Option<&ClientPair> {
        let pair = self.current_pair.as_ref()?.as_ref().ok()?;
        let certificate = &pair.certificate;
        let valid = !certificate.is_expired(self.now) && !certificate.is_not_yet_valid(self.now);
        valid.then_some(pair)
    }

    /// Returns the distinct pairs that were loaded: kubelet.conf's, then the store's.
    pub fn loaded_pairs(&self) -> Vec<&ClientPair> {
        let mut pairs: Vec<&ClientPair> = Vec::new();
        for pair in [&self.kubeconfig_pair, &self.current_pair]
            .into_iter()
            .flatten()
            .flatten()
        {
            if !pairs
                .iter()
                .any(|seen| seen.certificate.fingerprint == pair.certificate.fingerprint)
            {
                pairs.push(pair);
            }
        }
        pairs
    }

    pub fn kubeconfig_user(&self) -> Option<&str> {
        self.user.as_deref()
    }
}

/// How many timestamped files are parsed at most, newest first, when looking for a valid one.
const MAX_ROTATED_FILES: usize = 50;

/// Finds the newest `kubelet-client-TIMESTAMP.pem` whose certificate is valid at `now`. The
/// timestamp in the name sorts in time order.
fn newest_valid_rotated(host: &dyn Host, cert_dir: &str, now: Timestamp) -> Option<String> {
    let entries = match host.read_dir(cert_dir) {
        Ok(entries) => entries,
        Err(error) => {
            tracing::debug!(%error, "cannot list the kubelet certificate directory");
            return None;
        }
    };
    let mut names: Vec<&str> = entries
        .iter()
        .map(|entry| entry.name.as_str())
        .filter(|name| name.starts_with("kubelet-client-2") && name.ends_with(".pem"))
        .collect();
    names.sort_unstable_by(|a, b| b.cmp(a));

    names.into_iter().take(MAX_ROTATED_FILES).find_map(|name| {
        let path = format!("{cert_dir}/{name}");
        let pair = pair::from_pem_file(host, &path).ok()?;
        let certificate = &pair.certificate;
        let valid = !certificate.is_expired(now) && !certificate.is_not_yet_valid(now);
        valid.then_some(path)
    })
}

fn normalize(path: &str) -> String {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("/{}", parts.join("/"))
}

/// Reads the CA that signs kubelet client certificates: the kubeconfig's cluster CA, else the
/// control plane's /etc/kubernetes/pki/ca.crt.
fn read_cluster_ca(
    host: &dyn Host,
    kubeconfig: &LoadedKubeconfig,
    cluster: Option<&crate::kube::kubeconfig::Cluster>,
) -> Option<(String, Certificate)> {
    let (source, bytes) = match cluster {
        Some(cluster)
            if cluster
                .certificate_authority_data
                .as_deref()
                .is_some_and(|d| !d.is_empty()) =>
        {
            let data = cluster
                .certificate_authority_data
                .as_deref()
                .unwrap_or_default();
            let source = format!("{} (certificate-authority-data)", kubeconfig.path);
            (
                source,
                decode_data("certificate-authority-data", data).ok()?,
            )
        }
        Some(cluster) if cluster.certificate_authority.is_some() => {
            let path = kubeconfig
                .resolve_path(cluster.certificate_authority.as_deref().unwrap_or_default());
            let bytes = host.read_file(&path, MAX_CONFIG_BYTES).ok()?;
            (path, bytes)
        }
        _ => {
            let path = format!("{PKI_DIR}/ca.crt");
            let bytes = host.read_file(&path, MAX_CONFIG_BYTES).ok()?;
            (path, bytes)
        }
    };
    match parse_pem_certificates(&bytes) {
        Ok(certificates) => Some((source, certificates.into_iter().next()?)),
        Err(error) => {
            tracing::warn!(source, %error, "cannot parse the cluster CA; issuer not checked");
            None
        }
    }
}

/// Finds --cluster-signing-duration (or its old --experimental- name) in the controller
/// manager's static pod manifest.
fn read_signing_duration(host: &dyn Host) -> Option<(String, String)> {
    let path = format!("{MANIFESTS_DIR}/kube-controller-manager.yaml");
    let text = host.read_text(&path, MAX_CONFIG_BYTES).ok()?;
    text.lines().find_map(|line| {
        let flag = line.trim().trim_start_matches("- ").trim_matches('"');
        let value = flag
            .strip_prefix("--cluster-signing-duration=")
            .or_else(|| flag.strip_prefix("--experimental-cluster-signing-duration="))?;
        Some((
            path.clone(),
            format!("{}={value}", flag.split('=').next().unwrap_or_default()),
        ))
    })
}
