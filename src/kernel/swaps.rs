//! Active swap (/proc/swaps) and the /etc/fstab lines that turn it on at boot.

use super::unescape_octal;

pub const PROC_SWAPS: &str = "/proc/swaps";
pub const FSTAB: &str = "/etc/fstab";

/// One active swap area from /proc/swaps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwapArea {
    pub filename: String,
    /// `partition` or `file`.
    pub kind: String,
    pub size_kib: u64,
    pub line: usize,
}

/// Parses /proc/swaps: a header line, then `Filename Type Size Used Priority` per area.
pub fn parse_proc_swaps(text: &str) -> Vec<SwapArea> {
    text.lines()
        .enumerate()
        .skip(1)
        .filter_map(|(index, line)| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 3 {
                return None;
            }
            Some(SwapArea {
                filename: unescape_octal(fields[0]),
                kind: fields[1].to_string(),
                size_kib: fields[2].parse().unwrap_or(0),
                line: index + 1,
            })
        })
        .collect()
}

/// One /etc/fstab line of type swap that is activated at boot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FstabSwap {
    pub device: String,
    pub text: String,
    pub line: usize,
}

/// Returns the fstab lines with file system type `swap` and without the `noauto` option.
pub fn fstab_swap_lines(text: &str) -> Vec<FstabSwap> {
    text.lines()
        .enumerate()
        .filter_map(|(index, line)| {
            let trimmed = line.trim();
            if trimmed.starts_with('#') {
                return None;
            }
            let fields: Vec<&str> = trimmed.split_whitespace().collect();
            let is_swap = fields.get(2) == Some(&"swap");
            let noauto = fields
                .get(3)
                .is_some_and(|options| options.split(',').any(|o| o == "noauto"));
            (is_swap && !noauto).then(|| FstabSwap {
                device: fields[0].to_string(),
                text: trimmed.to_string(),
                line: index + 1,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_active_areas() {
        let text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/var/swap                               file            102396          0               -2\n";
        let areas = parse_proc_swaps(text);
        assert_eq!(areas.len(), 1);
        assert_eq!(areas[0].filename, "/var/swap");
        assert_eq!(areas[0].kind, "file");
        assert_eq!(areas[0].size_kib, 102396);
        assert_eq!(areas[0].line, 2);
    }

    #[test]
    fn header_only_means_no_swap() {
        assert!(parse_proc_swaps("Filename Type Size Used Priority\n").is_empty());
    }

    #[test]
    fn finds_fstab_swap_lines() {
        let text = "UUID=1 / ext4 defaults 0 1\n# /swapfile none swap sw 0 0\n/swapfile none swap sw 0 0\n/dev/sdb2 none swap noauto 0 0\n";
        let lines = fstab_swap_lines(text);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].line, 3);
        assert_eq!(lines[0].device, "/swapfile");
    }
}
