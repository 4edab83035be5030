//! Kubeconfig files, read just far enough to find the current user's credentials and cluster CA.

use base64::Engine as _;
use serde::Deserialize;

use crate::host::{Host, HostError, MAX_CONFIG_BYTES};

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Kubeconfig {
    #[serde(default)]
    pub current_context: Option<String>,
    #[serde(default)]
    pub clusters: Vec<Named<Cluster>>,
    #[serde(default)]
    pub contexts: Vec<Named<ContextEntry>>,
    #[serde(default)]
    pub users: Vec<NamedUser>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Named<T> {
    pub name: String,
    #[serde(alias = "cluster", alias = "context")]
    pub value: T,
}

#[derive(Clone, Debug, Deserialize)]
pub struct NamedUser {
    pub name: String,
    #[serde(default)]
    pub user: User,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Cluster {
    #[serde(default)]
    pub server: Option<String>,
    #[serde(default)]
    pub certificate_authority: Option<String>,
    #[serde(default)]
    pub certificate_authority_data: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct ContextEntry {
    #[serde(default)]
    pub cluster: Option<String>,
    #[serde(default)]
    pub user: Option<String>,
}

/// A kubeconfig user. Key data and tokens are kept out of `Debug` output.
#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct User {
    #[serde(default)]
    pub client_certificate: Option<String>,
    #[serde(default)]
    pub client_certificate_data: Option<String>,
    #[serde(default)]
    pub client_key: Option<String>,
    /// Embedded key data. `node-doctor collect` writes the public key of the embedded private
    /// key under the name `client-public-key-data`, which is read here the same way.
    #[serde(default, alias = "client-public-key-data")]
    pub client_key_data: Option<String>,
    #[serde(default)]
    pub token: Option<String>,
    /// A file whose content is the bearer token (kubeconfig key `tokenFile`).
    #[serde(default, rename = "tokenFile")]
    pub token_file: Option<String>,
    /// Whether the user runs a credential plugin, which node-doctor does not run.
    #[serde(default)]
    pub exec: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    pub auth_provider: Option<serde::de::IgnoredAny>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("client_certificate", &self.client_certificate)
            .field(
                "has_client_certificate_data",
                &self.client_certificate_data.is_some(),
            )
            .field(
                "client_key",
                &self.client_key.as_deref().map(|path| {
                    if is_inline_data(path) {
                        "[key data]"
                    } else {
                        path
                    }
                }),
            )
            .field("has_client_key_data", &self.client_key_data.is_some())
            .field("has_token", &self.token.is_some())
            .field("token_file", &self.token_file)
            .field("has_exec", &self.exec.is_some())
            .field("has_auth_provider", &self.auth_provider.is_some())
            .finish()
    }
}

/// The source of a credential: embedded base64 data or a file path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Material {
    Embedded,
    /// An absolute host path; relative paths in the kubeconfig are resolved against its folder.
    File(String),
}

#[derive(Debug, thiserror::Error)]
pub enum KubeconfigError {
    #[error(transparent)]
    Read(#[from] HostError),
    #[error("{path}: not a valid kubeconfig: {message}")]
    Invalid { path: String, message: String },
    #[error("{path}: current-context is not set")]
    NoCurrentContext { path: String },
    #[error("{path}: current-context {context:?} is not defined in contexts")]
    ContextMissing { path: String, context: String },
    #[error("{path}: context {context:?} names user {user:?}, which is not defined in users")]
    UserMissing {
        path: String,
        context: String,
        user: String,
    },
}

/// A kubeconfig with the path it was read from.
#[derive(Clone, Debug)]
pub struct LoadedKubeconfig {
    pub path: String,
    pub config: Kubeconfig,
}

/// The user and cluster of the current context.
#[derive(Clone, Debug)]
pub struct CurrentCredentials<'a> {
    pub context: String,
    pub user_name: String,
    pub user: &'a User,
    pub cluster: Option<&'a Cluster>,
}

impl LoadedKubeconfig {
    pub fn read(host: &dyn Host, path: &str) -> Result<LoadedKubeconfig, KubeconfigError> {
        let text = host.read_text(path, MAX_CONFIG_BYTES)?;
        LoadedKubeconfig::parse(path, &text)
    }

    pub fn parse(path: &str, text: &str) -> Result<LoadedKubeconfig, KubeconfigError> {
        let invalid = |message: String| KubeconfigError::Invalid {
            path: path.to_string(),
            message,
        };
        if text.trim().is_empty() {
            return Err(invalid("file is empty".to_string()));
        }
        let config: Kubeconfig = serde_saphyr::from_str_with_options(text, super::yaml_options())
            .map_err(|error| invalid(super::yaml_error_message(&error)))?;
        Ok(LoadedKubeconfig {
            path: path.to_string(),
            config,
        })
    }

    pub fn current(&self) -> Result<CurrentCredentials<'_>, KubeconfigError> {
        let path = self.path.clone();
        let context_name = match self.config.current_context.as_deref() {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => return Err(KubeconfigError::NoCurrentContext { path }),
        };
        let context = self
            .config
            .contexts
            .iter()
            .find(|c| c.name == context_name)
            .ok_or_else(|| KubeconfigError::ContextMissing {
                path: path.clone(),
                context: context_name.clone(),
            })?;
        let user_name = context.value.user.clone().unwrap_or_default();
        let user = self
            .config
            .users
            .iter()
            .find(|u| u.name == user_name)
            .ok_or_else(|| KubeconfigError::UserMissing {
                path: path.clone(),
                context: context_name.clone(),
                user: user_name.clone(),
            })?;
        let cluster = context
            .value
            .cluster
            .as_deref()
            .and_then(|name| self.config.clusters.iter().find(|c| c.name == name))
            .map(|c| &c.value);
        Ok(CurrentCredentials {
            context: context_name,
            user_name,
            user: &user.user,
            cluster,
        })
    }

    pub fn user_names(&self) -> Vec<&str> {
        self.config.users.iter().map(|u| u.name.as_str()).collect()
    }

    /// Resolves a path found inside this kubeconfig: relative paths are relative to its folder.
    pub fn resolve_path(&self, path: &str) -> String {
        if path.starts_with('/') {
            return path.to_string();
        }
        let dir = match self.path.rsplit_once('/') {
            Some((dir, _)) if !dir.is_empty() => dir,
            _ => "",
        };
        format!("{dir}/{path}")
    }

    pub fn client_certificate(&self, user: &User) -> Option<Material> {
        if user
            .client_certificate_data
            .as_deref()
            .is_some_and(|d| !d.is_empty())
        {
            return Some(Material::Embedded);
        }
        let path = user
            .client_certificate
            .as_deref()
            .filter(|p| !p.is_empty())?;
        Some(Material::File(self.resolve_path(path)))
    }

    pub fn client_key(&self, user: &User) -> Option<Material> {
        if user
            .client_key_data
            .as_deref()
            .is_some_and(|d| !d.is_empty())
        {
            return Some(Material::Embedded);
        }
        let path = user.client_key.as_deref().filter(|p| !p.is_empty())?;
        Some(Material::File(self.resolve_path(path)))
    }
}

/// The longest file name Linux file systems accept (`NAME_MAX`), in bytes.
const NAME_MAX: usize = 255;

/// Returns whether a path field such as `client-key` contains key or certificate data instead
/// of a path: PEM text, base64 of PEM or DER, or a name no Linux file can have. Such a value
/// is a secret when the field is `client-key`, so it must not be shown as a path.
pub fn is_inline_data(value: &str) -> bool {
    if value.contains("-----BEGIN") {
        return true;
    }
    if value.split('/').any(|name| name.len() > NAME_MAX) {
        return true;
    }
    match decode_data("path", value) {
        Ok(bytes) => {
            let is_pem = bytes.windows(10).any(|window| window == b"-----BEGIN");
            // A DER key or certificate starts with a SEQUENCE tag and is never this short.
            let is_der = bytes.first() == Some(&0x30) && bytes.len() >= 64;
            is_pem || is_der
        }
        Err(_) => false,
    }
}

/// Decodes a `*-data` field. Kubeconfigs store PEM as standard base64.
pub fn decode_data(field: &str, data: &str) -> Result<Vec<u8>, String> {
    let compact: String = data.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map_err(|error| format!("{field} is not valid base64: {error}"))
}

#[cfg(test)]
mod tests {
    use super::is_inline_data;

    #[test]
    fn paths_are_not_inline_data() {
        for path in [
            "/var/lib/kubelet/pki/kubelet-client-current.pem",
            "pki/apiserver-kubelet-client.key",
            "/etc/kubernetes/pki/sa.key",
            "/abcd/efgh/ijkl",
            "",
        ] {
            assert!(!is_inline_data(path), "{path:?}");
        }
    }

    #[test]
    fn key_text_is_inline_data() {
        let pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----\n";
        let base64 = "LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFCi0tLS0tRU5EIEVDIFBSSVZBVEUgS0VZLS0tLS0K";

        assert!(is_inline_data(pem));
        assert!(is_inline_data(base64));
        assert!(is_inline_data(&"A".repeat(300)));
    }
}
