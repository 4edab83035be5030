//! The kubelet's configuration file (KubeletConfiguration), read for the fields checks use.

use serde::Deserialize;

use crate::host::{Host, HostError, MAX_CONFIG_BYTES};

pub const DEFAULT_CONFIG_PATH: &str = "/var/lib/kubelet/config.yaml";

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubeletConfiguration {
    /// The kubelet's own default is false; kubeadm always writes true.
    #[serde(default)]
    pub rotate_certificates: Option<bool>,
    /// `systemd` or `cgroupfs`; the kubelet's own default is cgroupfs, kubeadm writes systemd.
    #[serde(default)]
    pub cgroup_driver: Option<String>,
    /// Whether the kubelet refuses to start when swap is on; true unless set.
    #[serde(default)]
    pub fail_swap_on: Option<bool>,
    #[serde(default)]
    pub memory_swap: Option<MemorySwap>,
    /// The CRI endpoint, such as unix:///run/containerd/containerd.sock.
    #[serde(default)]
    pub container_runtime_endpoint: Option<String>,
}

/// `memorySwap` of KubeletConfiguration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemorySwap {
    /// `NoSwap` (the default) or `LimitedSwap`.
    #[serde(default)]
    pub swap_behavior: Option<String>,
}

/// A KubeletConfiguration with its path and text, so evidence can name a field's line.
#[derive(Clone, Debug)]
pub struct LoadedKubeletConfig {
    pub path: String,
    pub config: KubeletConfiguration,
    text: String,
}

impl LoadedKubeletConfig {
    pub fn read(host: &dyn Host, path: &str) -> Result<LoadedKubeletConfig, KubeletConfigError> {
        let text = host.read_text(path, MAX_CONFIG_BYTES)?;
        let config = KubeletConfiguration::parse(&text, path)?;
        Ok(LoadedKubeletConfig {
            path: path.to_string(),
            config,
            text,
        })
    }

    /// Returns `PATH:LINE` of the line that sets a field, such as `cgroupDriver` or
    /// `memorySwap.swapBehavior`, found by its indentation. Falls back to the path alone.
    pub fn location(&self, field: &str) -> String {
        match field_line(&self.text, field) {
            Some(line) => format!("{}:{line}", self.path),
            None => self.path.clone(),
        }
    }
}

/// Finds the 1-based line of a block-style YAML key path such as `memorySwap.swapBehavior`.
fn field_line(text: &str, field: &str) -> Option<usize> {
    let mut parts = field.split('.').peekable();
    let mut parent_indent: Option<usize> = None;
    let mut current = parts.next()?;
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let indent = line.len() - trimmed.len();
        if let Some(parent) = parent_indent
            && indent <= parent
        {
            return None;
        }
        let key_matches = trimmed
            .strip_prefix(current)
            .is_some_and(|rest| rest.trim_start().starts_with(':'));
        let at_level = match parent_indent {
            None => indent == 0,
            Some(parent) => indent > parent,
        };
        if key_matches && at_level {
            match parts.next() {
                Some(next) => {
                    parent_indent = Some(indent);
                    current = next;
                }
                None => return Some(index + 1),
            }
        }
    }
    None
}

#[derive(Debug, thiserror::Error)]
pub enum KubeletConfigError {
    #[error(transparent)]
    Read(#[from] HostError),
    #[error("{path}: not a valid KubeletConfiguration: {message}")]
    Invalid { path: String, message: String },
}

impl KubeletConfiguration {
    pub fn read(host: &dyn Host, path: &str) -> Result<KubeletConfiguration, KubeletConfigError> {
        let text = host.read_text(path, MAX_CONFIG_BYTES)?;
        KubeletConfiguration::parse(&text, path)
    }

    /// Parses the YAML text. The error names the line and column of the first problem.
    pub fn parse(text: &str, path: &str) -> Result<KubeletConfiguration, KubeletConfigError> {
        serde_saphyr::from_str_with_options(text, super::yaml_options()).map_err(|error| {
            KubeletConfigError::Invalid {
                path: path.to_string(),
                message: super::yaml_error_message(&error),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_preflight_fields() {
        let text = "kind: KubeletConfiguration\ncgroupDriver: systemd\nfailSwapOn: false\nmemorySwap:\n  swapBehavior: LimitedSwap\n";
        let config = KubeletConfiguration::parse(text, "/c").unwrap();
        assert_eq!(config.cgroup_driver.as_deref(), Some("systemd"));
        assert_eq!(config.fail_swap_on, Some(false));
        assert_eq!(
            config.memory_swap.unwrap().swap_behavior.as_deref(),
            Some("LimitedSwap")
        );
    }

    #[test]
    fn finds_field_lines() {
        let text = "kind: KubeletConfiguration\nauthentication:\n  x509:\n    clientCAFile: /x\nmemorySwap:\n  swapBehavior: LimitedSwap\nfailSwapOn: false\n";
        assert_eq!(field_line(text, "failSwapOn"), Some(7));
        assert_eq!(field_line(text, "memorySwap.swapBehavior"), Some(6));
        assert_eq!(field_line(text, "clientCAFile"), None);
        assert_eq!(field_line(text, "cgroupDriver"), None);
    }

    #[test]
    fn invalid_yaml_error_names_the_line() {
        let text = "kind: KubeletConfiguration\ncgroupDriver: systemd\nfailSwapOn: [true\n";
        let error = KubeletConfiguration::parse(text, "/var/lib/kubelet/config.yaml").unwrap_err();
        let message = error.to_string();
        assert!(
            message.starts_with("/var/lib/kubelet/config.yaml: not a valid KubeletConfiguration"),
            "{message}"
        );
        assert!(message.contains(": line 3 column "), "{message}");
    }
}
