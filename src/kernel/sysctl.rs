//! Kernel parameters: the value in /proc/sys now, and the sysctl.d(5) files that set it at
//! boot.

use crate::host::{Host, MAX_CONFIG_BYTES};
use crate::systemd::list_conf_files;

/// The folders systemd-sysctl and `sysctl --system` read, highest priority first.
pub const SYSCTL_DIRS: [&str; 5] = [
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
];

/// Read after the folders by `sysctl --system`; distributions also link it as
/// /etc/sysctl.d/99-sysctl.conf for systemd-sysctl.
pub const SYSCTL_CONF: &str = "/etc/sysctl.conf";

/// Returns the /proc/sys path of a key such as `net.ipv4.ip_forward`.
pub fn proc_path(key: &str) -> String {
    format!("/proc/sys/{}", key.replace('.', "/"))
}

/// The current value of a kernel parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Current {
    Value(String),
    /// The /proc/sys file does not exist, so the kernel has no such parameter now, usually
    /// because the module that provides it is not loaded.
    Absent,
    /// /proc/sys is not readable at all, as in a snapshot that did not capture it.
    Unknown,
}

/// Reads a parameter from /proc/sys. /proc/sys/kernel is present on every Linux system, so
/// when it is missing too, /proc/sys was not captured and the value is unknown.
pub fn current(host: &dyn Host, key: &str) -> Current {
    let path = proc_path(key);
    match host.read_text(&path, 4096) {
        Ok(text) => Current::Value(text.trim().to_string()),
        Err(error) if error.is_not_found() => {
            if host.exists("/proc/sys/kernel") || host.exists("/proc/sys/net/ipv4") {
                Current::Absent
            } else {
                Current::Unknown
            }
        }
        Err(error) => {
            tracing::debug!(%error, "cannot read kernel parameter");
            Current::Unknown
        }
    }
}

/// One assignment of a key in a sysctl configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SysctlSetting {
    pub key: String,
    pub value: String,
    pub file: String,
    pub line: usize,
}

impl SysctlSetting {
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

/// Returns the files `sysctl --system` applies, in order.
pub fn config_files(host: &dyn Host) -> Vec<String> {
    let dirs: Vec<String> = SYSCTL_DIRS.iter().map(|d| d.to_string()).collect();
    let mut files = list_conf_files(host, &dirs, ".conf").files;
    let linked = files
        .iter()
        .any(|file| host.canonicalize(file).is_ok_and(|c| c == SYSCTL_CONF));
    if !linked && host.exists(SYSCTL_CONF) {
        files.push(SYSCTL_CONF.to_string());
    }
    files
}

/// Returns every assignment of `key` in the sysctl configuration, in the order they apply;
/// the last one wins at boot.
pub fn settings(host: &dyn Host, key: &str) -> Vec<SysctlSetting> {
    let mut found = Vec::new();
    for file in config_files(host) {
        let Ok(text) = host.read_text(&file, MAX_CONFIG_BYTES) else {
            continue;
        };
        for (name, value, line) in parse_sysctl_conf(&text) {
            if name == key {
                found.push(SysctlSetting {
                    key: name,
                    value,
                    file: file.clone(),
                    line,
                });
            }
        }
    }
    found
}

/// Parses sysctl.conf lines `key = value`. Keys may use `/` in place of `.`, and a leading `-`
/// (ignore errors) is dropped. Returns key, value and 1-based line.
pub fn parse_sysctl_conf(text: &str) -> Vec<(String, String, usize)> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                return None;
            }
            let (key, value) = line.split_once('=')?;
            let key = key.trim().trim_start_matches('-').replace('/', ".");
            Some((key, value.trim().to_string(), index + 1))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_with_slashes_and_dashes() {
        let text = "# c\nnet/ipv4/ip_forward=1\n-net.bridge.bridge-nf-call-iptables = 1\n";
        assert_eq!(
            parse_sysctl_conf(text),
            vec![
                ("net.ipv4.ip_forward".to_string(), "1".to_string(), 2),
                (
                    "net.bridge.bridge-nf-call-iptables".to_string(),
                    "1".to_string(),
                    3
                )
            ]
        );
    }

    #[test]
    fn proc_path_of_key() {
        assert_eq!(
            proc_path("net.bridge.bridge-nf-call-iptables"),
            "/proc/sys/net/bridge/bridge-nf-call-iptables"
        );
    }
}
