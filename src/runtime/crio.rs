//! CRI-O's registry settings, which come from containers/image rather than crio.conf:
//! /etc/containers/registries.conf (and registries.conf.d) and /etc/containers/certs.d.
//!
//! containers/image reads `certs.d/HOST[:PORT]/` for each new registry client
//! (`tlsclientconfig.SetupCertificates`), so files added there need no restart. CRI-O rereads
//! registries.conf on `systemctl reload crio`.

use toml::{Table, Value};

use crate::host::{Host, MAX_CONFIG_BYTES};

pub const REGISTRIES_CONF: &str = "/etc/containers/registries.conf";
pub const REGISTRIES_CONF_D: &str = "/etc/containers/registries.conf.d";
pub const CERTS_DIR: &str = "/etc/containers/certs.d";
const MARKERS: [&str; 4] = [
    "/etc/crio",
    "/run/crio/crio.sock",
    "/var/run/crio/crio.sock",
    CERTS_DIR,
];

/// One `[[registry]]` entry, or a name from a version 1 `[registries.insecure]` list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegistryEntry {
    pub source: String,
    /// The `prefix`, else the `location`: the name images use.
    pub name: String,
    pub location: String,
    pub insecure: bool,
    /// `[[registry.mirror]]` locations with their `insecure` flag.
    pub mirrors: Vec<(String, bool)>,
}

#[derive(Clone, Debug, Default)]
pub struct RegistriesConf {
    pub entries: Vec<RegistryEntry>,
    pub errors: Vec<(String, String)>,
}

impl RegistriesConf {
    pub fn read(host: &dyn Host) -> RegistriesConf {
        let mut conf = RegistriesConf::default();
        let mut files = vec![REGISTRIES_CONF.to_string()];
        if let Ok(entries) = host.read_dir(REGISTRIES_CONF_D) {
            files.extend(
                entries
                    .iter()
                    .filter(|entry| entry.name.ends_with(".conf"))
                    .map(|entry| format!("{REGISTRIES_CONF_D}/{}", entry.name)),
            );
        }
        for file in files {
            let text = match host.read_text(&file, MAX_CONFIG_BYTES) {
                Ok(text) => text,
                Err(error) if error.is_not_found() => continue,
                Err(error) => {
                    conf.errors.push((file, error.kind.to_string()));
                    continue;
                }
            };
            match text.parse::<Table>() {
                Ok(table) => conf.add(&file, &table),
                Err(error) => conf.errors.push((file, error.message().trim().to_string())),
            }
        }
        conf
    }

    fn add(&mut self, file: &str, table: &Table) {
        if let Some(Value::Array(registries)) = table.get("registry") {
            for registry in registries.iter().filter_map(Value::as_table) {
                let text = |key: &str| {
                    registry
                        .get(key)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                };
                let location = text("location").to_string();
                let prefix = text("prefix");
                let name = if prefix.is_empty() {
                    location.clone()
                } else {
                    prefix.to_string()
                };
                let mirrors = registry
                    .get("mirror")
                    .and_then(Value::as_array)
                    .map(|list| {
                        list.iter()
                            .filter_map(Value::as_table)
                            .map(|mirror| {
                                let location = mirror.get("location").and_then(Value::as_str);
                                let insecure = mirror.get("insecure").and_then(Value::as_bool);
                                (
                                    location.unwrap_or_default().to_string(),
                                    insecure.unwrap_or(false),
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                self.entries.push(RegistryEntry {
                    source: file.to_string(),
                    name,
                    location,
                    insecure: registry
                        .get("insecure")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    mirrors,
                });
            }
        }
        let insecure_v1 = table
            .get("registries")
            .and_then(|r| r.get("insecure"))
            .and_then(|i| i.get("registries"))
            .and_then(Value::as_array);
        for name in insecure_v1.into_iter().flatten().filter_map(Value::as_str) {
            self.entries.push(RegistryEntry {
                source: file.to_string(),
                name: name.to_string(),
                location: name.to_string(),
                insecure: true,
                mirrors: Vec::new(),
            });
        }
    }

    /// Returns the entry whose name is the registry, ignoring any repository path in it.
    pub fn entry_for(&self, registry: &str) -> Option<&RegistryEntry> {
        self.entries.iter().rev().find(|entry| {
            entry.name.split('/').next() == Some(registry)
                || entry.location.split('/').next() == Some(registry)
        })
    }
}

/// Returns whether CRI-O or containers/image configuration is on the node.
pub fn is_present(host: &dyn Host) -> bool {
    MARKERS.iter().any(|marker| host.exists(marker))
}
