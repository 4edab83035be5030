//! Reads one certificate from a PEM file or from a kubeconfig, the way kubeadm does.

use crate::host::{Host, HostError, MAX_CONFIG_BYTES};
use crate::kube::cert::{Certificate, parse_pem_certificates};
use crate::kube::kubeconfig::{LoadedKubeconfig, Material, decode_data};

/// The reason a certificate could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The file does not exist, at the host path given.
    Missing(String),
    /// The file exists but cannot be read or parsed. The message names the file.
    Unreadable(String),
}

impl From<HostError> for LoadError {
    fn from(error: HostError) -> LoadError {
        if error.is_not_found() {
            LoadError::Missing(error.path)
        } else {
            LoadError::Unreadable(error.to_string())
        }
    }
}

/// A certificate with the host path it was read from.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub path: String,
    pub certificate: Certificate,
}

/// Reads the first certificate of a PEM file, as kubeadm's `TryLoadCertFromDisk` does.
pub fn read_pem_file(host: &dyn Host, path: &str) -> Result<Loaded, LoadError> {
    let data = host.read_file(path, MAX_CONFIG_BYTES)?;
    let certificate = first_certificate(path, &data)?;
    Ok(Loaded {
        path: path.to_string(),
        certificate,
    })
}

/// Reads the client certificate embedded in a kubeconfig's current user. kubeadm rejects a
/// kubeconfig whose user names a certificate file instead, and so does this.
pub fn read_embedded_client_certificate(host: &dyn Host, path: &str) -> Result<Loaded, LoadError> {
    let kubeconfig = read_kubeconfig(host, path)?;
    let unreadable = |message: String| LoadError::Unreadable(format!("{path}: {message}"));
    let current = kubeconfig
        .current()
        .map_err(|error| LoadError::Unreadable(error.to_string()))?;
    let Some(data) = current
        .user
        .client_certificate_data
        .as_deref()
        .filter(|data| !data.trim().is_empty())
    else {
        return Err(unreadable(format!(
            "user {:?} has no embedded client certificate (client-certificate-data)",
            current.user_name
        )));
    };
    let pem = decode_data("client-certificate-data", data).map_err(unreadable)?;
    let certificate = first_certificate(path, &pem)?;
    Ok(Loaded {
        path: path.to_string(),
        certificate,
    })
}

/// Reads the client certificate of a kubeconfig's current user from the file it names or from
/// its embedded data. The kubelet's kubeconfig usually names
/// /var/lib/kubelet/pki/kubelet-client-current.pem.
pub fn read_client_certificate(host: &dyn Host, path: &str) -> Result<Loaded, LoadError> {
    let kubeconfig = read_kubeconfig(host, path)?;
    let current = kubeconfig
        .current()
        .map_err(|error| LoadError::Unreadable(error.to_string()))?;
    match kubeconfig.client_certificate(current.user) {
        Some(Material::File(file)) => read_pem_file(host, &file),
        Some(Material::Embedded) => read_embedded_client_certificate(host, path),
        None => Err(LoadError::Unreadable(format!(
            "{path}: user {:?} has neither client-certificate nor client-certificate-data",
            current.user_name
        ))),
    }
}

fn read_kubeconfig(host: &dyn Host, path: &str) -> Result<LoadedKubeconfig, LoadError> {
    let text = host.read_text(path, MAX_CONFIG_BYTES)?;
    LoadedKubeconfig::parse(path, &text)
        .map_err(|error| LoadError::Unreadable(redact_yaml_error(&error.to_string())))
}

/// Keeps the first line of a YAML parse error and blanks long base64 runs in it. The YAML
/// parser's message quotes the lines around the error, which can include client-key-data.
fn redact_yaml_error(message: &str) -> String {
    const MIN_SECRET_RUN: usize = 24;
    let first_line = message.lines().next().unwrap_or_default();
    let mut out = String::new();
    let mut run = String::new();
    for c in first_line.chars().chain(std::iter::once('\n')) {
        if c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=') {
            run.push(c);
            continue;
        }
        if run.len() >= MIN_SECRET_RUN {
            out.push_str("[redacted]");
        } else {
            out.push_str(&run);
        }
        run.clear();
        if c != '\n' {
            out.push(c);
        }
    }
    out
}

fn first_certificate(path: &str, data: &[u8]) -> Result<Certificate, LoadError> {
    let mut certificates = parse_pem_certificates(data)
        .map_err(|error| LoadError::Unreadable(format!("{path}: {error}")))?;
    Ok(certificates.swap_remove(0))
}

#[cfg(test)]
mod tests {
    use super::redact_yaml_error;

    #[test]
    fn yaml_error_keeps_first_line_only() {
        let message = "path: not a valid kubeconfig: line 3: missing field `name`\n 4 | data: x";
        assert_eq!(
            redact_yaml_error(message),
            "path: not a valid kubeconfig: line 3: missing field `name`"
        );
    }

    #[test]
    fn yaml_error_blanks_base64() {
        let message = "invalid type: string \"LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQo=\"";
        assert_eq!(
            redact_yaml_error(message),
            "invalid type: string \"[redacted]\""
        );
    }
}
