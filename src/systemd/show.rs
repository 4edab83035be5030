//! `systemctl show` output: one `Property=value` line per property.

use std::collections::BTreeMap;

use crate::host::{Host, HostCommand};

/// The properties `systemctl show` printed for one unit, and the command or snapshot file that
/// produced them.
#[derive(Clone, Debug, Default)]
pub struct ShowOutput {
    pub source: String,
    pub properties: BTreeMap<String, String>,
}

impl ShowOutput {
    pub fn parse(text: &str, source: &str) -> ShowOutput {
        let properties = text
            .lines()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.trim().to_string(), value.to_string()))
            .collect();
        ShowOutput {
            source: source.to_string(),
            properties,
        }
    }

    pub fn get(&self, property: &str) -> Option<&str> {
        self.properties.get(property).map(String::as_str)
    }
}

/// Runs `systemctl show -p PROPERTY... UNIT`, or reads a snapshot's
/// commands/systemctl-show/UNIT.txt. Returns `None` when neither is available, such as on a
/// live host without a running systemd.
pub fn read_show(host: &dyn Host, unit: &str, properties: &[&str]) -> Option<ShowOutput> {
    let command = HostCommand::SystemctlShow {
        unit: unit.to_string(),
        properties: properties.iter().map(|p| p.to_string()).collect(),
    };
    match host.run(&command) {
        Ok(output) => {
            let source = match host.source() {
                crate::host::Source::Snapshot => command.snapshot_path(),
                crate::host::Source::Live => command.display(),
            };
            Some(ShowOutput::parse(&output.stdout, &source))
        }
        Err(error) => {
            tracing::debug!(%error, "systemctl show is not available");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_properties() {
        let show = ShowOutput::parse("Id=docker.service\nMountFlags=524288\nDropInPaths=\n", "x");
        assert_eq!(show.get("MountFlags"), Some("524288"));
        assert_eq!(show.get("DropInPaths"), Some(""));
        assert_eq!(show.get("Missing"), None);
    }
}
