//! containerd's /etc/containerd/config.toml: the runc `SystemdCgroup` option and the CNI
//! configuration folder, for config versions 1, 2 and 3.

use toml::de::{DeTable, DeValue};

use super::{Located, line_of};
use crate::host::{Host, MAX_CONFIG_BYTES};

pub const CONFIG_PATH: &str = "/etc/containerd/config.toml";
pub const SOCKET: &str = "/run/containerd/containerd.sock";
pub const DEFAULT_CNI_CONF_DIR: &str = "/etc/cni/net.d";

/// The settings of config.toml that checks use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContainerdConfig {
    pub path: String,
    /// The `version` key; a file without one is version 1.
    pub version: i64,
    /// The CRI plugin's default runtime (`default_runtime_name`), `runc` unless set.
    pub runtime_name: String,
    /// The TOML path of the runtime options table, for evidence and fixes.
    pub options_table: String,
    /// `SystemdCgroup` under the default runtime's options, when set.
    pub systemd_cgroup: Option<Located<bool>>,
    /// `cni.conf_dir` of the CRI plugin, when set.
    pub cni_conf_dir: Option<Located<String>>,
}

/// Returns the CRI plugin table that contains `containerd.runtimes`, by config version: containerd 2.x
/// (version 3) moved the runtime settings to `io.containerd.cri.v1.runtime`.
fn cri_table(version: i64) -> &'static [&'static str] {
    match version {
        3 => &["plugins", "io.containerd.cri.v1.runtime"],
        2 => &["plugins", "io.containerd.grpc.v1.cri"],
        _ => &["plugins", "cri"],
    }
}

impl ContainerdConfig {
    /// Reads config.toml. `Ok(None)` when the file does not exist; an error names the line
    /// of invalid TOML.
    pub fn read(host: &dyn Host) -> Result<Option<ContainerdConfig>, String> {
        let text = match host.read_text(CONFIG_PATH, MAX_CONFIG_BYTES) {
            Ok(text) => text,
            Err(error) if error.is_not_found() => return Ok(None),
            Err(error) => return Err(error.to_string()),
        };
        ContainerdConfig::parse(&text, CONFIG_PATH).map(Some)
    }

    pub fn parse(text: &str, path: &str) -> Result<ContainerdConfig, String> {
        let document = DeTable::parse(text).map_err(|error| {
            let line = error.span().map(|span| line_of(text, span.start));
            match line {
                Some(line) => format!(
                    "{path}: line {line}: invalid TOML: {}",
                    error.message().trim()
                ),
                None => format!("{path}: invalid TOML: {}", error.message().trim()),
            }
        })?;
        let root = document.get_ref();
        let version = root
            .get("version")
            .and_then(|v| v.get_ref().as_integer())
            .and_then(|v| v.as_str().parse::<i64>().ok())
            .unwrap_or(1);

        let cri_path = cri_table(version);
        let cri = lookup(root, cri_path);
        let runtime_name = cri
            .and_then(|cri| cri.get_ref().get("containerd"))
            .and_then(|c| c.get_ref().get("default_runtime_name"))
            .and_then(|name| name.get_ref().as_str())
            .unwrap_or("runc")
            .to_string();

        let options = cri
            .and_then(|cri| cri.get_ref().get("containerd"))
            .and_then(|c| c.get_ref().get("runtimes"))
            .and_then(|r| r.get_ref().get(runtime_name.as_str()))
            .and_then(|r| r.get_ref().get("options"));
        let mut systemd_cgroup = options
            .and_then(|o| o.get_ref().get("SystemdCgroup"))
            .and_then(|value| {
                Some(Located {
                    value: value.get_ref().as_bool()?,
                    line: line_of(text, value.span().start),
                })
            });
        // Version 1 configs of containerd 1.x also had plugins.cri.systemd_cgroup, used with
        // the old io.containerd.runtime.v1.linux shim.
        if systemd_cgroup.is_none() && version < 2 {
            systemd_cgroup = cri
                .and_then(|cri| cri.get_ref().get("systemd_cgroup"))
                .and_then(|value| {
                    Some(Located {
                        value: value.get_ref().as_bool()?,
                        line: line_of(text, value.span().start),
                    })
                });
        }

        let cni_conf_dir = cri
            .and_then(|cri| cri.get_ref().get("cni"))
            .and_then(|cni| cni.get_ref().get("conf_dir"))
            .and_then(|value| {
                Some(Located {
                    value: value.get_ref().as_str()?.to_string(),
                    line: line_of(text, value.span().start),
                })
            });

        let options_table = format!(
            "[{}.containerd.runtimes.{runtime_name}.options]",
            cri_path
                .iter()
                .map(|part| if part.contains('.') {
                    format!("\"{part}\"")
                } else {
                    part.to_string()
                })
                .collect::<Vec<_>>()
                .join(".")
        );
        Ok(ContainerdConfig {
            path: path.to_string(),
            version,
            runtime_name,
            options_table,
            systemd_cgroup,
            cni_conf_dir,
        })
    }
}

fn lookup<'a, 'i>(table: &'a DeTable<'i>, path: &[&str]) -> Option<&'a toml::Spanned<DeValue<'i>>> {
    let (first, rest) = path.split_first()?;
    let mut value = table.get(*first)?;
    for key in rest {
        value = value.get_ref().get(*key)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_2_systemd_cgroup() {
        let text = "version = 2\n\n[plugins]\n  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n    SystemdCgroup = true\n";
        let config = ContainerdConfig::parse(text, "/c").unwrap();
        assert_eq!(config.version, 2);
        assert_eq!(
            config.systemd_cgroup,
            Some(Located {
                value: true,
                line: 5
            })
        );
        assert_eq!(
            config.options_table,
            "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]"
        );
    }

    #[test]
    fn version_3_systemd_cgroup() {
        let text = "version = 3\n[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]\nSystemdCgroup = false\n[plugins.'io.containerd.cri.v1.runtime'.cni]\nconf_dir = '/etc/cni/custom'\n";
        let config = ContainerdConfig::parse(text, "/c").unwrap();
        assert!(!config.systemd_cgroup.unwrap().value);
        assert_eq!(config.cni_conf_dir.unwrap().value, "/etc/cni/custom");
    }

    #[test]
    fn version_2_in_version_3_file_is_ignored() {
        let text = "version = 3\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\nSystemdCgroup = true\n";
        let config = ContainerdConfig::parse(text, "/c").unwrap();
        assert_eq!(config.systemd_cgroup, None);
    }

    #[test]
    fn default_runtime_name_is_followed() {
        let text = "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\ndefault_runtime_name = \"crun\"\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\nSystemdCgroup = true\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.crun.options]\nSystemdCgroup = false\n";
        let config = ContainerdConfig::parse(text, "/c").unwrap();
        assert_eq!(config.runtime_name, "crun");
        assert_eq!(config.systemd_cgroup.unwrap().line, 7);
    }

    #[test]
    fn invalid_toml_names_the_line() {
        let error = ContainerdConfig::parse("version = 2\n\n[plugins\n", "/c").unwrap_err();
        assert!(error.contains("/c: line 3"), "{error}");
    }
}
