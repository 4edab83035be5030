//! Loaded kernel modules (/proc/modules) and the modules-load.d(5) files that load them at
//! boot.

use crate::host::{Host, MAX_CONFIG_BYTES};
use crate::systemd::list_conf_files;

pub const PROC_MODULES: &str = "/proc/modules";

/// The folders systemd-modules-load reads, highest priority first.
pub const MODULES_LOAD_DIRS: [&str; 5] = [
    "/etc/modules-load.d",
    "/run/modules-load.d",
    "/usr/local/lib/modules-load.d",
    "/usr/lib/modules-load.d",
    "/lib/modules-load.d",
];

/// Debian's list of modules to load at boot, read by its kmod package's init script.
pub const ETC_MODULES: &str = "/etc/modules";

/// Returns whether /proc/modules lists `name`.
pub fn is_loaded(proc_modules: &str, name: &str) -> bool {
    proc_modules
        .lines()
        .any(|line| line.split_whitespace().next() == Some(name))
}

/// A module listed for loading at boot, with the file and line that list it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootModule {
    pub name: String,
    pub file: String,
    pub line: usize,
}

/// Returns every module the modules-load.d files and /etc/modules load at boot, after
/// same-named files are masked.
pub fn boot_modules(host: &dyn Host) -> Vec<BootModule> {
    let dirs: Vec<String> = MODULES_LOAD_DIRS.iter().map(|d| d.to_string()).collect();
    let mut files = list_conf_files(host, &dirs, ".conf").files;
    files.push(ETC_MODULES.to_string());

    let mut modules = Vec::new();
    for file in files {
        let Ok(text) = host.read_text(&file, MAX_CONFIG_BYTES) else {
            continue;
        };
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if let Some(name) = line.split_whitespace().next() {
                modules.push(BootModule {
                    name: name.to_string(),
                    file: file.clone(),
                    line: index + 1,
                });
            }
        }
    }
    modules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_loaded_module() {
        let text = "br_netfilter 32768 0 - Live 0x0000000000000000\nbridge 311296 1 br_netfilter, Live 0x0\n";
        assert!(is_loaded(text, "br_netfilter"));
        assert!(is_loaded(text, "bridge"));
        assert!(!is_loaded(text, "overlay"));
    }
}
