//! The in-cluster service account, used when node-doctor runs as a pod.
//!
//! The token and CA are the pod's own: the kubelet mounts them into the container, so they are
//! read from the container's file system, not under `--root` (which is the node's file system
//! mounted at /host). The server address comes from the KUBERNETES_SERVICE_HOST and
//! KUBERNETES_SERVICE_PORT variables the kubelet sets in every container.

use std::path::Path;

use super::credentials::{BearerToken, Credentials, root_store};
use crate::host::{HostError, HostErrorKind};

/// The folder the kubelet mounts a pod's service account token and the cluster CA into.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Cap on the token and CA files.
const MAX_FILE: u64 = 256 * 1024;

/// Returns the service account credentials when this process runs in a pod with a mounted
/// token, or `None` when it does not.
pub fn detect() -> Option<Result<Credentials, HostError>> {
    detect_with(
        |name| std::env::var(name).ok(),
        Path::new(SERVICE_ACCOUNT_DIR),
    )
}

/// Detects the service account like [`detect`], with the environment and the folder given.
pub fn detect_with(
    env: impl Fn(&str) -> Option<String>,
    dir: &Path,
) -> Option<Result<Credentials, HostError>> {
    let host = env("KUBERNETES_SERVICE_HOST").filter(|host| !host.is_empty())?;
    let token_path = dir.join("token");
    if !token_path.is_file() {
        tracing::debug!(
            path = %token_path.display(),
            "KUBERNETES_SERVICE_HOST is set but no service account token is mounted"
        );
        return None;
    }
    let port = env("KUBERNETES_SERVICE_PORT").unwrap_or_else(|| "443".to_string());
    Some(load(&host, &port, dir))
}

fn load(host: &str, port: &str, dir: &Path) -> Result<Credentials, HostError> {
    let shown = dir.display().to_string();
    let invalid = |why: String| HostError::new(&shown, HostErrorKind::RequestFailed(why));
    let token_text = read_capped(&dir.join("token"))?;
    let token = BearerToken::new(&String::from_utf8_lossy(&token_text))
        .ok_or_else(|| invalid("the service account token file is empty".to_string()))?;
    let ca_pem = read_capped(&dir.join("ca.crt"))?;
    let roots = root_store(&ca_pem).map_err(|why| invalid(format!("ca.crt: {why}")))?;
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    };
    Ok(Credentials {
        server: format!("https://{host}:{port}"),
        roots,
        identity: None,
        token: Some(token),
        origin: format!("service account token from {shown} (in-cluster)"),
    })
}

fn read_capped(path: &Path) -> Result<Vec<u8>, HostError> {
    use std::io::Read;
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|error| HostError::io(&shown, error))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE)
        .read_to_end(&mut bytes)
        .map_err(|error| HostError::io(&shown, error))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CA: &str =
        include_str!("../../../tests/fixtures/kubeadm-real/rootfs/etc/kubernetes/pki/ca.crt");

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn absent_without_service_host() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "abc").unwrap();
        assert!(detect_with(env_of(&[]), dir.path()).is_none());
    }

    #[test]
    fn absent_without_token() {
        let dir = tempfile::tempdir().unwrap();
        let env = env_of(&[("KUBERNETES_SERVICE_HOST", "10.96.0.1")]);
        assert!(detect_with(env, dir.path()).is_none());
    }

    #[test]
    fn reads_token_and_ca() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "header.payload.signature\n").unwrap();
        std::fs::write(dir.path().join("ca.crt"), CA).unwrap();
        let env = env_of(&[
            ("KUBERNETES_SERVICE_HOST", "fd00::1"),
            ("KUBERNETES_SERVICE_PORT", "443"),
        ]);
        let credentials = detect_with(env, dir.path()).unwrap().unwrap();
        assert_eq!(credentials.server, "https://[fd00::1]:443");
        assert!(credentials.identity.is_none());
        let token = credentials.token.unwrap();
        assert!(!format!("{token:?}").contains("payload"));
        assert!(credentials.origin.contains("in-cluster"));
    }
}
