//! containerd's per-registry `hosts.toml` (containerd docs/hosts.md, parser in
//! core/remotes/docker/config/hosts.go).
//!
//! `server` names the upstream, and each `[host."URL"]` table is an endpoint tried before it, in
//! file order. `ca` is a path or an array of paths and `client` a path, an array of paths or an
//! array of `[cert, key]` pairs. Relative paths are taken from the folder of the hosts.toml.
//! Top-level `ca`, `client` and `skip_verify` apply to `server` only. When the file does not
//! parse, containerd logs the error and falls back to the folder's Docker-style certificate
//! files, so the file's settings are silently lost.

use toml::{Table, Value};

use crate::host::{Host, MAX_CONFIG_BYTES};

/// The TLS settings of one endpoint in a hosts.toml.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostSettings {
    /// CA files as written in the file.
    pub ca_written: Vec<String>,
    /// CA files as host paths, relative ones joined to the hosts.toml folder.
    pub ca: Vec<String>,
    /// Client certificate and optional separate key, as host paths.
    pub client: Vec<(String, Option<String>)>,
    pub skip_verify: Option<bool>,
}

/// A parsed hosts.toml.
#[derive(Clone, Debug, Default)]
pub struct HostsFile {
    pub path: String,
    /// The `server` URL, when set.
    pub server: Option<String>,
    /// Settings at the top level, which apply to `server`.
    pub root: HostSettings,
    /// `[host."URL"]` endpoints in file order.
    pub hosts: Vec<(String, HostSettings)>,
}

/// Why a hosts.toml is unusable, with the line when the TOML parser gives one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
pub struct HostsError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

impl HostsFile {
    /// Reads and parses `path`. `Ok(None)` means the file is absent or empty, the two cases in
    /// which containerd uses the Docker-style files instead.
    pub fn read(host: &dyn Host, path: &str) -> Result<Option<HostsFile>, HostsError> {
        let text = match host.read_text(path, MAX_CONFIG_BYTES) {
            Ok(text) => text,
            Err(error) if error.is_not_found() => return Ok(None),
            Err(error) => {
                return Err(HostsError {
                    path: path.to_string(),
                    line: None,
                    message: error.kind.to_string(),
                });
            }
        };
        if text.is_empty() {
            return Ok(None);
        }
        HostsFile::parse(path, &text).map(Some)
    }

    pub fn parse(path: &str, text: &str) -> Result<HostsFile, HostsError> {
        let error = |line: Option<usize>, message: String| HostsError {
            path: path.to_string(),
            line,
            message,
        };
        let table: Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e.span().map(|span| line_of(text, span.start));
            error(line, e.message().trim().to_string())
        })?;

        let folder = path.rsplit_once('/').map_or("/", |(folder, _)| folder);
        let server = match table.get("server") {
            None => None,
            Some(Value::String(server)) => Some(server.clone()),
            Some(other) => {
                return Err(error(
                    find_line(text, "server"),
                    format!("server must be a string, not {}", other.type_str()),
                ));
            }
        };
        let root = settings(&table, folder)
            .map_err(|message| error(None, format!("top level: {message}")))?;

        let mut hosts = Vec::new();
        let host_tables = match table.get("host") {
            None => None,
            Some(Value::Table(tables)) => Some(tables),
            Some(other) => {
                return Err(error(
                    find_line(text, "host"),
                    format!("host must be a table, not {}", other.type_str()),
                ));
            }
        };
        if let Some(host_tables) = host_tables {
            for url in host_order(text, host_tables) {
                let Some(Value::Table(host_table)) = host_tables.get(&url) else {
                    return Err(error(None, format!("[host.{url:?}] must be a table")));
                };
                let parsed = settings(host_table, folder)
                    .map_err(|message| error(None, format!("[host.{url:?}]: {message}")))?;
                hosts.push((url, parsed));
            }
        }

        Ok(HostsFile {
            path: path.to_string(),
            server,
            root,
            hosts,
        })
    }
}

fn settings(table: &Table, folder: &str) -> Result<HostSettings, String> {
    let mut parsed = HostSettings::default();
    match table.get("ca") {
        None => {}
        Some(Value::String(path)) => parsed.ca_written.push(path.clone()),
        Some(Value::Array(paths)) => {
            for path in paths {
                match path {
                    Value::String(path) => parsed.ca_written.push(path.clone()),
                    other => {
                        return Err(format!(
                            "ca entries must be strings, not {}",
                            other.type_str()
                        ));
                    }
                }
            }
        }
        Some(other) => {
            return Err(format!(
                "ca must be a path or an array of paths, not {}",
                other.type_str()
            ));
        }
    }
    parsed.ca = parsed
        .ca_written
        .iter()
        .map(|path| absolute(path, folder))
        .collect();

    match table.get("client") {
        None => {}
        Some(Value::String(path)) => parsed.client.push((absolute(path, folder), None)),
        Some(Value::Array(entries)) => {
            for entry in entries {
                parsed.client.push(client_entry(entry, folder)?);
            }
        }
        Some(other) => {
            return Err(format!(
                "client must be a path or an array, not {}",
                other.type_str()
            ));
        }
    }

    match table.get("skip_verify") {
        None => {}
        Some(Value::Boolean(skip)) => parsed.skip_verify = Some(*skip),
        Some(other) => {
            return Err(format!(
                "skip_verify must be true or false, not {}",
                other.type_str()
            ));
        }
    }

    if let Some(capabilities) = table.get("capabilities") {
        let Value::Array(capabilities) = capabilities else {
            return Err("capabilities must be an array".to_string());
        };
        for capability in capabilities {
            let name = capability.as_str().unwrap_or_default().to_ascii_lowercase();
            if !["pull", "resolve", "push"].contains(&name.as_str()) {
                return Err(format!("unknown capability {capability}"));
            }
        }
    }
    Ok(parsed)
}

fn client_entry(entry: &Value, folder: &str) -> Result<(String, Option<String>), String> {
    match entry {
        Value::String(path) => Ok((absolute(path, folder), None)),
        Value::Array(pair) => {
            let paths: Vec<&str> = pair.iter().filter_map(Value::as_str).collect();
            match paths.as_slice() {
                [cert, key] if pair.len() == 2 => Ok((
                    absolute(cert, folder),
                    (!key.is_empty()).then(|| absolute(key, folder)),
                )),
                _ => Err(format!("invalid client pair {entry}: expected [cert, key]")),
            }
        }
        other => Err(format!("invalid client entry of type {}", other.type_str())),
    }
}

/// Joins a relative path to the hosts.toml folder, as containerd's `makeAbsPath` does.
fn absolute(path: &str, folder: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!(
            "{}/{}",
            folder.trim_end_matches('/'),
            path.trim_start_matches("./")
        )
    }
}

/// Returns the `[host."URL"]` keys in the order their tables appear in the text, then any
/// the scan missed (such as inline tables) in map order.
fn host_order(text: &str, tables: &Table) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        let Some(header) = line
            .strip_prefix("[host.")
            .and_then(|h| h.split(']').next())
        else {
            continue;
        };
        let key = header.trim().trim_matches(['"', '\'']).to_string();
        let key = key.split("\".").next().unwrap_or_default().to_string();
        if tables.contains_key(&key) && !order.contains(&key) {
            order.push(key);
        }
    }
    for key in tables.keys() {
        if !order.contains(key) {
            order.push(key.clone());
        }
    }
    order
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

fn find_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| line.trim_start().starts_with(key))
        .map(|index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/etc/containerd/certs.d/registry.example.test/hosts.toml";

    #[test]
    fn parses_hosts_in_order_with_relative_ca() {
        let text = r#"
server = "https://registry.example.test"
ca = "/etc/certs/root.pem"

[host."https://mirror-b.example.test"]
  capabilities = ["pull"]
  ca = ["b.crt", "/etc/certs/b2.pem"]
[host."https://mirror-a.example.test"]
  skip_verify = true
"#;
        let file = HostsFile::parse(PATH, text).unwrap();
        assert_eq!(
            file.server.as_deref(),
            Some("https://registry.example.test")
        );
        assert_eq!(file.root.ca, vec!["/etc/certs/root.pem"]);
        assert_eq!(file.hosts[0].0, "https://mirror-b.example.test");
        assert_eq!(
            file.hosts[0].1.ca,
            vec![
                "/etc/containerd/certs.d/registry.example.test/b.crt",
                "/etc/certs/b2.pem"
            ]
        );
        assert_eq!(file.hosts[1].1.skip_verify, Some(true));
    }

    #[test]
    fn syntax_error_names_the_line() {
        let text =
            "server = \"https://registry.example.test\"\n\n[host.\"https://m\"\n  ca = \"x\"\n";
        let error = HostsFile::parse(PATH, text).unwrap_err();
        assert_eq!(error.line, Some(3), "{error}");
        assert!(error.to_string().contains("line 3"), "{error}");
    }

    #[test]
    fn wrong_types_are_errors() {
        assert!(HostsFile::parse(PATH, "ca = 5\n").is_err());
        assert!(
            HostsFile::parse(PATH, "[host.\"https://m\"]\ncapabilities = [\"fly\"]\n").is_err()
        );
        assert!(HostsFile::parse(PATH, "client = [[\"a\"]]\n").is_err());
    }

    #[test]
    fn client_pairs() {
        let file =
            HostsFile::parse(PATH, "client = [[\"c.cert\", \"c.key\"], \"both.pem\"]\n").unwrap();
        assert_eq!(file.root.client.len(), 2);
        assert!(
            file.root.client[0]
                .1
                .as_deref()
                .unwrap()
                .ends_with("/c.key")
        );
        assert_eq!(file.root.client[1].1, None);
    }
}
