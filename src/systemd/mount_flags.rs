//! The `MountFlags=` setting of systemd.exec(5) and the numbers `systemctl show` prints for it.

use std::fmt;

/// The mount propagation a `MountFlags=` value gives the service's own mount namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MountPropagation {
    Shared,
    Slave,
    Private,
}

/// MS_PRIVATE, MS_SLAVE and MS_SHARED from <linux/mount.h>.
const MS_PRIVATE: u64 = 1 << 18;
const MS_SLAVE: u64 = 1 << 19;
const MS_SHARED: u64 = 1 << 20;

impl MountPropagation {
    /// Parses a unit file value or a `systemctl show` value: a name, or the kernel flag number
    /// that older systemctl versions print (262144, 524288, 1048576). An empty value and 0 mean
    /// unset; anything else is an error.
    pub fn parse(value: &str) -> Result<Option<MountPropagation>, String> {
        let value = value.trim();
        match value {
            "" | "0" => Ok(None),
            "shared" => Ok(Some(MountPropagation::Shared)),
            "slave" => Ok(Some(MountPropagation::Slave)),
            "private" => Ok(Some(MountPropagation::Private)),
            _ => match value.parse::<u64>() {
                Ok(MS_SHARED) => Ok(Some(MountPropagation::Shared)),
                Ok(MS_SLAVE) => Ok(Some(MountPropagation::Slave)),
                Ok(MS_PRIVATE) => Ok(Some(MountPropagation::Private)),
                _ => Err(format!("invalid MountFlags value {value:?}")),
            },
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MountPropagation::Shared => "shared",
            MountPropagation::Slave => "slave",
            MountPropagation::Private => "private",
        }
    }

    /// Returns the kernel flag number, as older systemctl versions print it.
    pub fn flag(self) -> u64 {
        match self {
            MountPropagation::Shared => MS_SHARED,
            MountPropagation::Slave => MS_SLAVE,
            MountPropagation::Private => MS_PRIVATE,
        }
    }

    /// Returns `value` for evidence, naming the setting when `value` is a number:
    /// `524288 (slave)`.
    pub fn describe_raw(value: &str) -> String {
        match MountPropagation::parse(value) {
            Ok(Some(propagation)) if value.trim().bytes().all(|b| b.is_ascii_digit()) => {
                format!("{} ({propagation})", value.trim())
            }
            _ => value.trim().to_string(),
        }
    }
}

impl fmt::Display for MountPropagation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_numbers() {
        assert_eq!(
            MountPropagation::parse("524288"),
            Ok(Some(MountPropagation::Slave))
        );
        assert_eq!(
            MountPropagation::parse("262144"),
            Ok(Some(MountPropagation::Private))
        );
        assert_eq!(
            MountPropagation::parse("1048576"),
            Ok(Some(MountPropagation::Shared))
        );
        assert_eq!(
            MountPropagation::parse("shared"),
            Ok(Some(MountPropagation::Shared))
        );
        assert_eq!(MountPropagation::parse(""), Ok(None));
        assert_eq!(MountPropagation::parse("0"), Ok(None));
        assert!(MountPropagation::parse("rslave").is_err());
    }

    #[test]
    fn describes_numbers_with_names() {
        assert_eq!(MountPropagation::describe_raw("524288"), "524288 (slave)");
        assert_eq!(MountPropagation::describe_raw("slave"), "slave");
    }
}
