//! Docker's cgroup driver: `exec-opts` in /etc/docker/daemon.json or `--exec-opt` on dockerd's
//! command line.

use serde::Deserialize;

use super::{CgroupDriver, Located};
use crate::host::{Host, MAX_CONFIG_BYTES};

pub const DAEMON_JSON: &str = "/etc/docker/daemon.json";
pub const SOCKET: &str = "/run/docker.sock";
pub const CRI_DOCKERD_SOCKET: &str = "/run/cri-dockerd.sock";

const CGROUP_DRIVER_OPTION: &str = "native.cgroupdriver=";

#[derive(Debug, Default, Deserialize)]
struct DaemonJson {
    #[serde(default, rename = "exec-opts")]
    exec_opts: Vec<String>,
}

/// Reads `native.cgroupdriver` from daemon.json. `Ok(None)` when the file or the option is
/// absent.
pub fn daemon_json_cgroup_driver(host: &dyn Host) -> Result<Option<Located<String>>, String> {
    let text = match host.read_text(DAEMON_JSON, MAX_CONFIG_BYTES) {
        Ok(text) => text,
        Err(error) if error.is_not_found() => return Ok(None),
        Err(error) => return Err(error.to_string()),
    };
    parse_daemon_json(&text)
}

pub fn parse_daemon_json(text: &str) -> Result<Option<Located<String>>, String> {
    let daemon: DaemonJson = serde_json::from_str(text).map_err(|error| {
        format!(
            "{DAEMON_JSON}: line {} column {}: invalid JSON: {error}",
            error.line(),
            error.column()
        )
    })?;
    let Some(value) = daemon
        .exec_opts
        .iter()
        .rev()
        .find_map(|opt| opt.strip_prefix(CGROUP_DRIVER_OPTION))
    else {
        return Ok(None);
    };
    let line = text
        .lines()
        .position(|line| line.contains(CGROUP_DRIVER_OPTION))
        .map_or(1, |index| index + 1);
    Ok(Some(Located {
        value: value.to_string(),
        line,
    }))
}

/// Returns the driver an `--exec-opt native.cgroupdriver=X` word pair selects.
pub fn exec_opt_cgroup_driver(words: &[String]) -> Option<String> {
    let mut found = None;
    for (index, word) in words.iter().enumerate() {
        let value = match word.strip_prefix("--exec-opt") {
            Some(rest) if rest.starts_with('=') => rest[1..].to_string(),
            Some("") => words.get(index + 1).cloned().unwrap_or_default(),
            _ => continue,
        };
        if let Some(driver) = value.strip_prefix(CGROUP_DRIVER_OPTION) {
            found = Some(driver.to_string());
        }
    }
    found
}

/// Returns Docker's built-in default: systemd on cgroup v2 hosts, where Docker 20.10 and later
/// pick it, else cgroupfs.
pub fn default_cgroup_driver(cgroup_v2: bool) -> CgroupDriver {
    if cgroup_v2 {
        CgroupDriver::Systemd
    } else {
        CgroupDriver::Cgroupfs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_exec_opts() {
        let text = "{\n  \"log-driver\": \"json-file\",\n  \"exec-opts\": [\"native.cgroupdriver=systemd\"]\n}\n";
        let found = parse_daemon_json(text).unwrap().unwrap();
        assert_eq!(found.value, "systemd");
        assert_eq!(found.line, 3);
    }

    #[test]
    fn invalid_json_names_the_line() {
        let error = parse_daemon_json("{\n  \"exec-opts\": [\n}").unwrap_err();
        assert!(error.contains("line 3"), "{error}");
    }

    #[test]
    fn reads_command_line_exec_opt() {
        let words: Vec<String> = ["dockerd", "--exec-opt", "native.cgroupdriver=systemd"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(exec_opt_cgroup_driver(&words), Some("systemd".to_string()));
    }
}
