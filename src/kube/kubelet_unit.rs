//! The parts of kubelet.service and its drop-ins that decide the kubelet's command line:
//! `Environment=`, `EnvironmentFile=` and `ExecStart=`.
//!
//! Units are looked up in systemd's order (/etc, /run, /usr/lib, /lib). Drop-ins from every
//! kubelet.service.d directory are applied in file-name order, and a drop-in in /etc masks one of
//! the same name further down. Lines ending in `\` are joined, `#` and `;` start comments, and an
//! empty `ExecStart=` resets the command.
// NOTE: this reads only what the kubelet's flags depend on. Specifiers (%n), `[Unit]` sections,
// masking by /dev/null links and `systemctl set-environment` are not applied.

use std::collections::BTreeMap;

use crate::host::{Host, MAX_CONFIG_BYTES};

/// Directories systemd loads system units from, highest priority first.
pub const UNIT_DIRS: [&str; 4] = [
    "/etc/systemd/system",
    "/run/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
];

/// One environment variable of the unit and the file that set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitVariable {
    pub value: String,
    pub source: String,
}

/// The effective `ExecStart=` and environment of kubelet.service.
#[derive(Clone, Debug, Default)]
pub struct KubeletUnit {
    /// The command words and the file whose `ExecStart=` line they came from.
    pub exec_start: Option<(Vec<String>, String)>,
    pub environment: BTreeMap<String, UnitVariable>,
    /// Unit files and drop-ins read, in the order they were applied.
    pub files: Vec<String>,
}

impl KubeletUnit {
    pub fn read(host: &dyn Host) -> KubeletUnit {
        let mut unit = KubeletUnit::default();
        let mut environment_files: Vec<(String, String)> = Vec::new();
        for path in unit_files(host) {
            let text = match host.read_text(&path, MAX_CONFIG_BYTES) {
                Ok(text) => text,
                Err(error) => {
                    tracing::warn!(%error, "cannot read kubelet unit file");
                    continue;
                }
            };
            unit.files.push(path.clone());
            for (key, value) in unit_assignments(&text) {
                match key.as_str() {
                    "Environment" => unit.set_environment(&value, &path),
                    "EnvironmentFile" => environment_files.push((value, path.clone())),
                    "ExecStart" if value.trim().is_empty() => unit.exec_start = None,
                    "ExecStart" => unit.exec_start = Some((split_exec(&value), path.clone())),
                    _ => {}
                }
            }
        }
        // systemd applies EnvironmentFile= after Environment=, whatever their order in the unit.
        for (file, _unit_path) in environment_files {
            unit.load_environment_file(host, &file);
        }
        unit
    }

    fn set_environment(&mut self, value: &str, path: &str) {
        for word in super::kubelet_flags::split_words(value) {
            if let Some((name, value)) = word.split_once('=') {
                let variable = UnitVariable {
                    value: value.to_string(),
                    source: path.to_string(),
                };
                self.environment.insert(name.to_string(), variable);
            }
        }
    }

    fn load_environment_file(&mut self, host: &dyn Host, file: &str) {
        let (optional, path) = match file.trim().strip_prefix('-') {
            Some(path) => (true, path.to_string()),
            None => (false, file.trim().to_string()),
        };
        let text = match host.read_text(&path, MAX_CONFIG_BYTES) {
            Ok(text) => text,
            Err(error) if optional && error.is_not_found() => return,
            Err(error) => {
                tracing::warn!(%error, "cannot read the kubelet's EnvironmentFile");
                return;
            }
        };
        for (name, value) in super::kubelet_flags::env_file_assignments(&text) {
            let variable = UnitVariable {
                value,
                source: path.clone(),
            };
            self.environment.insert(name, variable);
        }
    }
}

/// Returns kubelet.service and its drop-ins in the order systemd applies them.
fn unit_files(host: &dyn Host) -> Vec<String> {
    let mut files = Vec::new();
    if let Some(dir) = UNIT_DIRS
        .iter()
        .find(|dir| host.exists(&format!("{dir}/kubelet.service")))
    {
        files.push(format!("{dir}/kubelet.service"));
    }

    let mut drop_ins: BTreeMap<String, String> = BTreeMap::new();
    for dir in UNIT_DIRS {
        let dir = format!("{dir}/kubelet.service.d");
        let Ok(entries) = host.read_dir(&dir) else {
            continue;
        };
        for entry in entries.iter().filter(|e| e.name.ends_with(".conf")) {
            // A file in a higher-priority directory masks one of the same name below it.
            drop_ins
                .entry(entry.name.clone())
                .or_insert_with(|| format!("{dir}/{}", entry.name));
        }
    }
    files.extend(drop_ins.into_values());
    files
}

/// Returns the `Key=value` lines of a unit file with continuation lines joined.
pub fn unit_assignments(text: &str) -> Vec<(String, String)> {
    let mut assignments = Vec::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if pending.is_empty() && (line.starts_with('#') || line.starts_with(';')) {
            continue;
        }
        if let Some(continued) = line.strip_suffix('\\') {
            pending.push_str(continued);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let complete = std::mem::take(&mut pending);
        if let Some((key, value)) = complete.split_once('=') {
            let key = key.trim();
            if !key.starts_with('[') && !key.is_empty() {
                assignments.push((key.to_string(), value.trim().to_string()));
            }
        }
    }
    assignments
}

/// Splits an `ExecStart=` value into words and drops systemd's `-@:+!` prefixes from the program.
fn split_exec(value: &str) -> Vec<String> {
    let mut words = super::kubelet_flags::split_words(value);
    if let Some(program) = words.first_mut() {
        *program = program
            .trim_start_matches(['-', '@', ':', '+', '!'])
            .to_string();
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_join_continuations() {
        let text = "[Service]\n# comment\nExecStart=/usr/bin/kubelet \\\n  --node-ip ${IP} \\\n  --v=2\nEnvironment=\"A=1\"\n";
        let assignments = unit_assignments(text);
        assert_eq!(assignments.len(), 2);
        assert_eq!(assignments[0].0, "ExecStart");
        assert_eq!(assignments[0].1, "/usr/bin/kubelet  --node-ip ${IP}  --v=2");
        assert_eq!(assignments[1], ("Environment".into(), "\"A=1\"".into()));
    }

    #[test]
    fn exec_prefixes_are_dropped() {
        assert_eq!(split_exec("-/usr/bin/kubelet --a")[0], "/usr/bin/kubelet");
    }
}
