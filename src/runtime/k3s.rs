//! k3s's /etc/rancher/k3s/registries.yaml, from which k3s writes containerd's hosts.toml files.
//!
//! The file has two top-level maps: `mirrors` (endpoints per registry) and `configs` (TLS and
//! credentials per registry). A `configs` map indented under `mirrors` is read as a mirror
//! named "configs", so none of its TLS settings reach containerd.

use serde_json::Value;

use crate::host::{Host, MAX_CONFIG_BYTES};

pub const REGISTRIES_YAML: &str = "/etc/rancher/k3s/registries.yaml";

/// Keys a mirror entry may have.
const MIRROR_KEYS: [&str; 2] = ["endpoint", "rewrite"];
/// Keys only a `configs` entry has.
const CONFIG_KEYS: [&str; 2] = ["tls", "auth"];

/// A part of registries.yaml that k3s does not apply as the author meant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Misplaced {
    /// The path of the key, such as `mirrors.configs`.
    pub key: String,
    pub problem: String,
}

/// Reads registries.yaml and lists misplaced keys. `None` means there is no such file.
pub fn check_registries_yaml(host: &dyn Host) -> Option<Result<Vec<Misplaced>, String>> {
    let text = match host.read_text(REGISTRIES_YAML, MAX_CONFIG_BYTES) {
        Ok(text) => text,
        Err(error) if error.is_not_found() => return None,
        Err(error) => return Some(Err(error.to_string())),
    };
    let value: Value = match serde_saphyr::from_str_with_options(&text, crate::kube::yaml_options())
    {
        Ok(value) => value,
        Err(error) => return Some(Err(crate::kube::yaml_error_message(&error))),
    };
    Some(Ok(misplaced(&value)))
}

fn misplaced(value: &Value) -> Vec<Misplaced> {
    let mut found = Vec::new();
    let Some(top) = value.as_object() else {
        return found;
    };
    for key in top
        .keys()
        .filter(|key| !["mirrors", "configs"].contains(&key.as_str()))
    {
        found.push(Misplaced {
            key: key.clone(),
            problem: "unknown top-level key; k3s reads only `mirrors` and `configs`".to_string(),
        });
    }
    let Some(mirrors) = top.get("mirrors").and_then(Value::as_object) else {
        return found;
    };
    for (name, mirror) in mirrors {
        let Some(fields) = mirror.as_object() else {
            continue;
        };
        let registry_like = fields.values().any(|v| {
            v.as_object()
                .is_some_and(|inner| CONFIG_KEYS.iter().any(|key| inner.contains_key(*key)))
        });
        if name == "configs" || registry_like {
            found.push(Misplaced {
                key: format!("mirrors.{name}"),
                problem: format!(
                    "`{name}` is indented under `mirrors`, so k3s reads it as a mirror named \
                     {name:?} and applies none of the TLS or auth settings inside it; `configs` \
                     must start in column 0, next to `mirrors`"
                ),
            });
            continue;
        }
        for key in fields.keys() {
            if CONFIG_KEYS.contains(&key.as_str()) {
                found.push(Misplaced {
                    key: format!("mirrors.{name}.{key}"),
                    problem: format!(
                        "`{key}` belongs under `configs.\"{name}\"`, not under the mirror"
                    ),
                });
            } else if !MIRROR_KEYS.contains(&key.as_str()) {
                found.push(Misplaced {
                    key: format!("mirrors.{name}.{key}"),
                    problem: "unknown mirror key; a mirror has `endpoint` and `rewrite`"
                        .to_string(),
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configs_under_mirrors_is_found() {
        let text = "mirrors:\n  registry.example.test:\n    endpoint:\n      - \"https://registry.example.test:443\"\n  configs:\n    \"registry.example.test:443\":\n      tls:\n        insecure_skip_verify: TRUE\n";
        let value: Value = serde_saphyr::from_str(text).unwrap();
        let found = misplaced(&value);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].key, "mirrors.configs");
    }

    #[test]
    fn well_formed_file_is_clean() {
        let text = "mirrors:\n  registry.example.test:\n    endpoint:\n      - \"https://registry.example.test\"\nconfigs:\n  registry.example.test:\n    tls:\n      ca_file: /etc/ssl/registry-ca.crt\n";
        let value: Value = serde_saphyr::from_str(text).unwrap();
        assert!(misplaced(&value).is_empty());
    }
}
