//! /proc/PID/mountinfo, as proc(5) describes it: one mount per line, with the propagation in
//! the optional fields (`shared:N`, `master:N`, `propagate_from:N`, `unbindable`).

use std::fmt;

use super::unescape_octal;

/// One line of mountinfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mount {
    pub id: u64,
    pub parent_id: u64,
    pub root: String,
    pub mount_point: String,
    pub options: String,
    /// The optional fields before the `-` separator.
    pub optional_fields: Vec<String>,
    pub fs_type: String,
    pub source: String,
    /// The 1-based line number in the file.
    pub line: usize,
}

/// The propagation type of a mount, as its optional fields give it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Propagation {
    /// A member of peer group N, possibly also a slave of another group.
    Shared {
        peer_group: u64,
        master: Option<u64>,
    },
    /// Receives events from peer group N but sends none.
    Slave {
        master: u64,
    },
    Private,
    Unbindable,
}

impl Mount {
    pub fn propagation(&self) -> Propagation {
        let tagged = |tag: &str| {
            self.optional_fields
                .iter()
                .find_map(|f| f.strip_prefix(tag)?.parse::<u64>().ok())
        };
        let master = tagged("master:");
        if let Some(peer_group) = tagged("shared:") {
            return Propagation::Shared { peer_group, master };
        }
        if let Some(master) = master {
            return Propagation::Slave { master };
        }
        if self.optional_fields.iter().any(|f| f == "unbindable") {
            return Propagation::Unbindable;
        }
        Propagation::Private
    }

    /// Returns the optional fields as written, or "(none)" for a private mount.
    pub fn optional_text(&self) -> String {
        if self.optional_fields.is_empty() {
            "(none)".to_string()
        } else {
            self.optional_fields.join(" ")
        }
    }
}

impl fmt::Display for Propagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Propagation::Shared {
                peer_group,
                master: None,
            } => write!(f, "shared (peer group {peer_group})"),
            Propagation::Shared {
                peer_group,
                master: Some(master),
            } => write!(
                f,
                "shared (peer group {peer_group}) and slave of peer group {master}"
            ),
            Propagation::Slave { master } => write!(f, "slave of peer group {master}"),
            Propagation::Private => write!(f, "private"),
            Propagation::Unbindable => write!(f, "unbindable"),
        }
    }
}

/// The mounts of one mountinfo file, and the lines that could not be parsed.
#[derive(Clone, Debug, Default)]
pub struct MountInfo {
    pub mounts: Vec<Mount>,
    /// `line N: reason` for each line that was skipped.
    pub errors: Vec<String>,
}

impl MountInfo {
    /// Parses mountinfo text, skipping malformed lines and recording why.
    pub fn parse(text: &str) -> MountInfo {
        let mut info = MountInfo::default();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match parse_line(line, index + 1) {
                Ok(mount) => info.mounts.push(mount),
                Err(error) => info.errors.push(format!("line {}: {error}", index + 1)),
            }
        }
        info
    }

    /// Returns the mount that is visible at `/`: the last one listed there, because a later
    /// mount on the same point hides the earlier ones.
    pub fn root(&self) -> Option<&Mount> {
        self.mounts.iter().rev().find(|m| m.mount_point == "/")
    }
}

/// Parses `ID PARENT MAJOR:MINOR ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER`.
pub fn parse_line(line: &str, number: usize) -> Result<Mount, String> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    let separator = fields
        .iter()
        .position(|f| *f == "-")
        .ok_or("no \"-\" separator before the file system type")?;
    if separator < 6 {
        return Err(format!(
            "{separator} fields before the \"-\" separator, expected at least 6"
        ));
    }
    if fields.len() < separator + 3 {
        return Err("missing file system type, source or super options after \"-\"".to_string());
    }
    let number_field = |index: usize, name: &str| {
        fields[index]
            .parse::<u64>()
            .map_err(|_| format!("{name} {:?} is not a number", fields[index]))
    };
    Ok(Mount {
        id: number_field(0, "mount ID")?,
        parent_id: number_field(1, "parent ID")?,
        root: unescape_octal(fields[3]),
        mount_point: unescape_octal(fields[4]),
        options: fields[5].to_string(),
        optional_fields: fields[6..separator].iter().map(|f| f.to_string()).collect(),
        fs_type: fields[separator + 1].to_string(),
        source: unescape_octal(fields[separator + 2]),
        line: number,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
25 22 0:23 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw
30 22 8:2 / /mnt/with\\040space rw master:7 - ext4 /dev/sdb1 rw
";

    #[test]
    fn parses_fields_and_propagation() {
        let info = MountInfo::parse(SAMPLE);
        assert!(info.errors.is_empty(), "{:?}", info.errors);
        let root = info.root().unwrap();
        assert_eq!(root.fs_type, "ext4");
        assert_eq!(
            root.propagation(),
            Propagation::Shared {
                peer_group: 1,
                master: None
            }
        );
        assert_eq!(info.mounts[2].mount_point, "/mnt/with space");
        assert_eq!(
            info.mounts[2].propagation(),
            Propagation::Slave { master: 7 }
        );
    }

    #[test]
    fn private_root_has_no_optional_fields() {
        let info = MountInfo::parse("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
        assert_eq!(info.root().unwrap().propagation(), Propagation::Private);
        assert_eq!(info.root().unwrap().optional_text(), "(none)");
    }

    #[test]
    fn later_mount_on_root_wins() {
        let text =
            "1 0 8:1 / / rw shared:1 - ext4 /dev/sda1 rw\n2 1 0:5 / / rw - overlay overlay rw\n";
        let info = MountInfo::parse(text);
        assert_eq!(info.root().unwrap().id, 2);
    }

    #[test]
    fn line_with_missing_fields_is_reported() {
        let text = "22 1 8:1 / /\n23 1 8:1 / / rw shared:1 - ext4\n24 22 0:23 / /run rw - tmpfs tmpfs rw\n";
        let info = MountInfo::parse(text);
        assert_eq!(info.mounts.len(), 1);
        assert_eq!(info.errors.len(), 2);
        assert!(info.errors[0].starts_with("line 1:"), "{:?}", info.errors);
        assert!(info.errors[1].starts_with("line 2:"), "{:?}", info.errors);
        assert!(info.root().is_none());
    }

    #[test]
    fn non_numeric_id_is_reported() {
        let error = parse_line("x 1 8:1 / / rw - ext4 /dev/sda1 rw", 4).unwrap_err();
        assert!(error.contains("mount ID"), "{error}");
    }
}
