//! The facts the mount-propagation rules use: the MountFlags of each unit and PID 1's mounts.

use crate::host::{Host, HostError, MAX_CONFIG_BYTES};
use crate::kernel::mountinfo::MountInfo;
use crate::systemd::{ShowOutput, Unit, read_show};

/// The units whose MountFlags matter to Kubernetes volumes.
pub const UNITS: [&str; 3] = ["docker.service", "containerd.service", "kubelet.service"];

pub const MOUNTINFO: &str = "/proc/1/mountinfo";

pub struct UnitFacts {
    pub unit: Unit,
    /// `systemctl show -p MountFlags` output, live or from the snapshot.
    pub show: Option<ShowOutput>,
}

impl UnitFacts {
    /// Returns whether the unit is known from its files or from systemd.
    pub fn is_present(&self) -> bool {
        let loaded = self
            .show
            .as_ref()
            .and_then(|show| show.get("LoadState"))
            .is_none_or(|state| state != "not-found");
        self.unit.exists() || (self.show.is_some() && loaded)
    }
}

pub struct Facts {
    pub units: Vec<UnitFacts>,
    /// PID 1's mountinfo; `None` when the file is absent, as in a snapshot without /proc.
    pub mountinfo: Option<Result<MountInfo, HostError>>,
}

impl Facts {
    pub fn gather(host: &dyn Host) -> Facts {
        let units = UNITS
            .iter()
            .map(|name| UnitFacts {
                unit: Unit::load(host, name),
                show: read_show(host, name, &["MountFlags"]),
            })
            .collect();
        let mountinfo = match host.read_text(MOUNTINFO, 16 * MAX_CONFIG_BYTES) {
            Ok(text) => Some(Ok(MountInfo::parse(&text))),
            Err(error) if error.is_not_found() => None,
            Err(error) => Some(Err(error)),
        };
        Facts { units, mountinfo }
    }

    pub fn has_units(&self) -> bool {
        self.units.iter().any(UnitFacts::is_present)
    }
}
