//! containerd's config.toml, read for the CRI plugin's registry settings.
//!
//! The registry table moved between config versions: `plugins.cri.registry` (version 1),
//! `plugins."io.containerd.grpc.v1.cri".registry` (version 2, containerd 1.x) and
//! `plugins."io.containerd.cri.v1.images".registry` (version 3, containerd 2.x). Its
//! `config_path` lists hosts directories separated by colons. The older `mirrors` and `configs`
//! tables are deprecated in favour of hosts.toml files (containerd docs/hosts.md).

use std::collections::BTreeMap;

use toml::{Table, Value};

use crate::host::{Host, MAX_CONFIG_BYTES};

pub const CONFIG_FILE: &str = "/etc/containerd/config.toml";
/// Talos keeps containerd's configuration here and imports /etc/cri/conf.d/*.toml from it.
pub const TALOS_CONFIG_FILE: &str = "/etc/cri/containerd.toml";
/// k3s generates containerd's configuration here.
pub const K3S_CONFIG_FILE: &str = "/var/lib/rancher/k3s/agent/etc/containerd/config.toml";
/// The hosts directory k3s writes from /etc/rancher/k3s/registries.yaml.
pub const K3S_HOSTS_DIR: &str = "/var/lib/rancher/k3s/agent/etc/containerd/certs.d";
/// The hosts directory every containerd guide uses.
pub const HOSTS_DIR: &str = "/etc/containerd/certs.d";
/// The `config_path` containerd 2.x uses when its version 3 config sets none, as printed by
/// `containerd config default`.
pub const V3_DEFAULT_CONFIG_PATH: &str = "/etc/containerd/certs.d:/etc/docker/certs.d";

const REGISTRY_TABLES: [(&str, &str); 3] = [
    (
        "io.containerd.cri.v1.images",
        "plugins.\"io.containerd.cri.v1.images\".registry",
    ),
    (
        "io.containerd.grpc.v1.cri",
        "plugins.\"io.containerd.grpc.v1.cri\".registry",
    ),
    ("cri", "plugins.cri.registry"),
];

/// Where containerd looks for hosts.toml folders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigPath {
    /// Set in a config file.
    Set { value: String, source: String },
    /// Not set, and this containerd uses a built-in default.
    Default { value: String, why: String },
    /// Not set, so hosts folders are ignored (containerd 1.x).
    Unset { why: String },
}

impl ConfigPath {
    /// Returns the hosts directories in the order containerd searches them.
    pub fn roots(&self) -> Vec<String> {
        match self {
            ConfigPath::Set { value, .. } | ConfigPath::Default { value, .. } => value
                .split(':')
                .filter(|root| !root.is_empty())
                .map(|root| root.trim_end_matches('/').to_string())
                .collect(),
            ConfigPath::Unset { .. } => Vec::new(),
        }
    }
}

/// One deprecated `registry.mirrors` or `registry.configs` setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacySetting {
    pub file: String,
    /// The dotted key, such as `plugins.cri.registry.configs."registry.example.test".tls.ca_file`.
    pub key: String,
    pub value: String,
}

/// TLS settings from a `registry.configs."HOST".tls` table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LegacyTls {
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    pub insecure_skip_verify: bool,
}

#[derive(Clone, Debug)]
pub struct ContainerdConfig {
    /// The main config file, whether or not it exists.
    pub path: String,
    pub exists: bool,
    pub version: Option<i64>,
    pub config_path: ConfigPath,
    /// The dotted name of the registry table in use, for fixes.
    pub registry_table: String,
    pub mirrors: BTreeMap<String, Vec<String>>,
    pub tls: BTreeMap<String, LegacyTls>,
    pub legacy: Vec<LegacySetting>,
    /// Files that failed to parse, with the error.
    pub errors: Vec<(String, String)>,
}

impl ContainerdConfig {
    /// Reads the config of the containerd the node runs: k3s's when the kubelet talks to k3s,
    /// else the first of /etc/containerd/config.toml and Talos's file that exists.
    pub fn read(host: &dyn Host, k3s: bool) -> ContainerdConfig {
        let path = if k3s || (!host.exists(CONFIG_FILE) && host.exists(K3S_CONFIG_FILE)) {
            K3S_CONFIG_FILE
        } else if !host.exists(CONFIG_FILE) && host.exists(TALOS_CONFIG_FILE) {
            TALOS_CONFIG_FILE
        } else {
            CONFIG_FILE
        };
        let mut config = ContainerdConfig {
            path: path.to_string(),
            exists: false,
            version: None,
            config_path: ConfigPath::Unset { why: String::new() },
            registry_table: REGISTRY_TABLES[1].1.to_string(),
            mirrors: BTreeMap::new(),
            tls: BTreeMap::new(),
            legacy: Vec::new(),
            errors: Vec::new(),
        };

        let Some(main) = config.load(host, path) else {
            config.config_path = default_without_file(path);
            return config;
        };
        config.exists = true;
        config.version = main.get("version").and_then(Value::as_integer);
        config.registry_table = match config.version {
            Some(3) => REGISTRY_TABLES[0].1,
            Some(2) => REGISTRY_TABLES[1].1,
            _ => REGISTRY_TABLES[2].1,
        }
        .to_string();

        let mut config_path = None;
        let mut files = vec![(path.to_string(), main.clone())];
        for import in imports(&main) {
            if let Some(table) = config.load(host, &import) {
                files.push((import, table));
            }
        }
        // Imported files are merged over the main file, so a later file wins.
        for (file, table) in &files {
            let Some((name, registry)) = registry_table(table) else {
                continue;
            };
            if let Some(value) = registry.get("config_path").and_then(Value::as_str) {
                config_path = Some(ConfigPath::Set {
                    value: value.to_string(),
                    source: file.clone(),
                });
            }
            config.read_legacy(file, name, registry);
        }
        config.config_path = config_path
            .filter(|path| !matches!(path, ConfigPath::Set { value, .. } if value.is_empty()))
            .unwrap_or_else(|| default_for(config.version, path));
        config
    }

    fn load(&mut self, host: &dyn Host, path: &str) -> Option<Table> {
        let text = match host.read_text(path, MAX_CONFIG_BYTES) {
            Ok(text) => text,
            Err(error) if error.is_not_found() => return None,
            Err(error) => {
                self.errors.push((path.to_string(), error.kind.to_string()));
                return None;
            }
        };
        match text.parse::<Table>() {
            Ok(table) => Some(table),
            Err(error) => {
                let line = error
                    .span()
                    .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
                let message = match line {
                    Some(line) => format!("line {line}: {}", error.message().trim()),
                    None => error.message().trim().to_string(),
                };
                self.errors.push((path.to_string(), message));
                None
            }
        }
    }

    fn read_legacy(&mut self, file: &str, table_name: &str, registry: &Table) {
        if let Some(Value::Table(mirrors)) = registry.get("mirrors") {
            for (name, mirror) in mirrors {
                let endpoints: Vec<String> = mirror
                    .get("endpoint")
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                self.legacy.push(LegacySetting {
                    file: file.to_string(),
                    key: format!("{table_name}.mirrors.\"{name}\".endpoint"),
                    value: format!("{endpoints:?}"),
                });
                self.mirrors.insert(name.clone(), endpoints);
            }
        }
        if let Some(Value::Table(configs)) = registry.get("configs") {
            for (name, settings) in configs {
                if let Some(Value::Table(tls)) = settings.get("tls") {
                    let text = |key: &str| tls.get(key).and_then(Value::as_str).map(str::to_string);
                    let parsed = LegacyTls {
                        ca_file: text("ca_file"),
                        cert_file: text("cert_file"),
                        key_file: text("key_file"),
                        insecure_skip_verify: tls
                            .get("insecure_skip_verify")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    };
                    for (key, value) in tls {
                        self.legacy.push(LegacySetting {
                            file: file.to_string(),
                            key: format!("{table_name}.configs.\"{name}\".tls.{key}"),
                            value: value.to_string(),
                        });
                    }
                    self.tls.insert(name.clone(), parsed);
                }
                if settings.get("auth").is_some() {
                    // Credentials are never copied into a report, only the key that holds them.
                    self.legacy.push(LegacySetting {
                        file: file.to_string(),
                        key: format!("{table_name}.configs.\"{name}\".auth"),
                        value: "(credentials not shown)".to_string(),
                    });
                }
            }
        }
    }
}

/// Finds the CRI registry table of any config version, with its dotted name.
fn registry_table(table: &Table) -> Option<(&'static str, &Table)> {
    let plugins = table.get("plugins")?.as_table()?;
    REGISTRY_TABLES.iter().find_map(|(plugin, name)| {
        let registry = plugins.get(*plugin)?.get("registry")?.as_table()?;
        Some((*name, registry))
    })
}

fn imports(table: &Table) -> Vec<String> {
    let Some(list) = table.get("imports").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(Value::as_str)
        .filter(|path| {
            let plain = !path.contains(['*', '?', '[']);
            if !plain {
                // NOTE: glob imports (Talos uses /etc/cri/conf.d/*.toml in some releases) are
                // not expanded, so settings in them are missed.
                tracing::debug!(path, "not expanding a glob import of containerd's config");
            }
            plain
        })
        .map(str::to_string)
        .collect()
}

fn default_for(version: Option<i64>, path: &str) -> ConfigPath {
    if path == K3S_CONFIG_FILE {
        return ConfigPath::Default {
            value: K3S_HOSTS_DIR.to_string(),
            why: "k3s points config_path at the hosts directory it generates".to_string(),
        };
    }
    match version {
        Some(3) => ConfigPath::Default {
            value: V3_DEFAULT_CONFIG_PATH.to_string(),
            why: "containerd 2.x (config version 3) uses this default when config_path is not set"
                .to_string(),
        },
        _ => ConfigPath::Unset {
            why: format!(
                "{path} is a version {} config (containerd 1.x), which has no default config_path",
                version.unwrap_or(1)
            ),
        },
    }
}

/// Without a config file the version is unknown: containerd 1.x then ignores hosts folders,
/// containerd 2.x uses [`V3_DEFAULT_CONFIG_PATH`]. The 2.x default is assumed so that trust is
/// not reported missing on a node that has it.
fn default_without_file(path: &str) -> ConfigPath {
    if path == K3S_CONFIG_FILE {
        return default_for(None, path);
    }
    ConfigPath::Default {
        value: V3_DEFAULT_CONFIG_PATH.to_string(),
        why: format!(
            "{path} does not exist; containerd 2.x uses this default, containerd 1.x uses no \
             hosts directory at all"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_path_roots_split_on_colons() {
        let path = ConfigPath::Set {
            value: "/etc/containerd/certs.d:/etc/docker/certs.d/".to_string(),
            source: "x".to_string(),
        };
        assert_eq!(
            path.roots(),
            vec!["/etc/containerd/certs.d", "/etc/docker/certs.d"]
        );
    }

    #[test]
    fn version_defaults() {
        assert!(matches!(
            default_for(Some(2), CONFIG_FILE),
            ConfigPath::Unset { .. }
        ));
        assert!(matches!(
            default_for(None, CONFIG_FILE),
            ConfigPath::Unset { .. }
        ));
        assert!(matches!(
            default_for(Some(3), CONFIG_FILE),
            ConfigPath::Default { .. }
        ));
    }
}
