//! The folders systemd searches for unit files and drop-ins, in priority order.

/// The system unit search path, highest priority first, as `systemd-analyze unit-paths`
/// prints it for systemd 252 built with /usr/lib as the data directory.
// NOTE: Debian builds with split /usr search /lib/systemd/system before /usr/lib/systemd/system.
// The order matters only when both folders hold a file of the same name, which cannot happen
// on a merged-/usr system, where they are one folder.
pub const UNIT_SEARCH_PATH: [&str; 13] = [
    "/etc/systemd/system.control",
    "/run/systemd/system.control",
    "/run/systemd/transient",
    "/run/systemd/generator.early",
    "/etc/systemd/system",
    "/etc/systemd/system.attached",
    "/run/systemd/system",
    "/run/systemd/system.attached",
    "/run/systemd/generator",
    "/usr/local/lib/systemd/system",
    "/usr/lib/systemd/system",
    "/lib/systemd/system",
    "/run/systemd/generator.late",
];

/// Returns the names of the drop-in folders for `unit`, highest priority first: the unit's own
/// (`docker.service.d`), its template's (`getty@.service.d`), then each prefix up to a dash
/// (`a-b-.service.d`, `a-.service.d`) and finally the type's (`service.d`). systemd.unit(5)
/// documents the prefix and type folders since systemd 246.
pub fn drop_in_dir_names(unit: &str) -> Vec<String> {
    let mut names = vec![format!("{unit}.d")];
    let Some((stem, suffix)) = unit.rsplit_once('.') else {
        return names;
    };
    if let Some((prefix, instance)) = stem.split_once('@')
        && !instance.is_empty()
    {
        names.push(format!("{prefix}@.{suffix}.d"));
    }
    let mut rest = stem.split('@').next().unwrap_or(stem);
    while let Some(index) = rest.trim_end_matches('-').rfind('-') {
        rest = &rest[..index];
        names.push(format!("{rest}-.{suffix}.d"));
    }
    names.push(format!("{suffix}.d"));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_in_dirs_for_plain_unit() {
        assert_eq!(
            drop_in_dir_names("docker.service"),
            vec!["docker.service.d", "service.d"]
        );
    }

    #[test]
    fn drop_in_dirs_with_prefixes() {
        assert_eq!(
            drop_in_dir_names("a-b-c.service"),
            vec![
                "a-b-c.service.d",
                "a-b-.service.d",
                "a-.service.d",
                "service.d"
            ]
        );
    }

    #[test]
    fn drop_in_dirs_for_instance() {
        assert_eq!(
            drop_in_dir_names("getty@tty1.service"),
            vec!["getty@tty1.service.d", "getty@.service.d", "service.d"]
        );
    }
}
