//! The kubelet settings that decide the node IP: --node-ip and the file that sets it, the
//! kubelet's hostname, /etc/hosts, and which file a fix should edit on this node.

use std::net::IpAddr;

use crate::host::{Host, MAX_CONFIG_BYTES};
use crate::kube::KUBELET_KUBECONFIG;
use crate::kube::kubelet_flags::{
    EXTRA_ARGS_FILES, FlagValue, KubeletFlags, env_file_value, split_words,
};

pub const DMI_VENDOR: &str = "/sys/class/dmi/id/sys_vendor";
const HOSTS_FILE: &str = "/etc/hosts";
const OS_RELEASE: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

/// The value of --node-ip, split into its comma-separated entries.
#[derive(Clone, Debug)]
pub struct NodeIpFlag {
    pub raw: String,
    /// The file path or /proc/PID/cmdline the value was read from.
    pub source: String,
    pub variable: Option<String>,
    pub ips: Vec<IpAddr>,
    /// Entries that are not IP addresses, such as a host name.
    pub invalid: Vec<String>,
}

impl NodeIpFlag {
    fn from_flag(flag: &FlagValue) -> NodeIpFlag {
        let mut ips = Vec::new();
        let mut invalid = Vec::new();
        for entry in flag.value.split(',').map(str::trim) {
            match entry.parse::<IpAddr>() {
                Ok(ip) => ips.push(ip),
                Err(_) => invalid.push(entry.to_string()),
            }
        }
        NodeIpFlag {
            raw: flag.value.clone(),
            source: flag.source.clone(),
            variable: flag.variable.clone(),
            ips,
            invalid,
        }
    }

    /// Returns whether the flag leaves the choice to the kubelet: `0.0.0.0` or `::`, which only
    /// select the preferred family.
    pub fn is_unspecified(&self) -> bool {
        self.invalid.is_empty() && self.ips.len() == 1 && self.ips[0].is_unspecified()
    }

    /// Returns where the value came from, for evidence: `/etc/default/kubelet
    /// (KUBELET_EXTRA_ARGS)`.
    pub fn origin(&self) -> String {
        match &self.variable {
            Some(variable) => format!("{} ({variable})", self.source),
            None => self.source.clone(),
        }
    }
}

/// Which packaging the node uses, which decides where KUBELET_EXTRA_ARGS lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OsFamily {
    Deb,
    Rpm,
}

#[derive(Clone, Debug)]
pub struct Setup {
    pub node: String,
    /// The kubelet's hostname: --hostname-override, else the node name.
    pub hostname: String,
    /// --node-ip as the kubelet runs with it (or would start with it), when set and not empty.
    pub node_ip: Option<NodeIpFlag>,
    /// --node-ip as the unit and flag files set it, when a running kubelet's command line set
    /// `node_ip`. A fix edits these files.
    pub node_ip_in_files: Option<NodeIpFlag>,
    /// The whole value of the environment variable that sets --node-ip in a flags file
    /// (KUBELET_EXTRA_ARGS or KUBELET_KUBEADM_ARGS), so a fix can keep the other flags.
    pub node_ip_line: Option<String>,
    pub kubeconfig: String,
    /// Whether the node has joined a cluster: the kubelet's kubeconfig exists.
    pub joined: bool,
    /// The file that contains KUBELET_EXTRA_ARGS on this node, and its current value.
    pub extra_args_file: String,
    pub extra_args: Option<String>,
    pub vendor: Option<String>,
    /// Addresses /etc/hosts gives the hostname, in file order.
    pub hosts_entries: Vec<IpAddr>,
}

impl Setup {
    pub fn read(host: &dyn Host, node: &str) -> Setup {
        let flags = KubeletFlags::read(host);
        let node_ip = flags
            .get("node-ip")
            .filter(|flag| !flag.value.is_empty())
            .map(NodeIpFlag::from_flag);
        let node_ip_in_files = match &node_ip {
            Some(flag) if flag.source.starts_with("/proc/") => KubeletFlags::from_files(host)
                .get("node-ip")
                .filter(|flag| !flag.value.is_empty())
                .map(NodeIpFlag::from_flag),
            _ => None,
        };
        let node_ip_line = node_ip_in_files
            .as_ref()
            .or(node_ip.as_ref())
            .and_then(|flag| {
                let variable = flag.variable.as_deref()?;
                let text = host.read_text(&flag.source, MAX_CONFIG_BYTES).ok()?;
                env_file_value(&text, variable)
            });
        let hostname = flags
            .value("hostname-override")
            .filter(|value| !value.is_empty())
            .map(|value| value.trim().to_lowercase())
            .unwrap_or_else(|| node.to_string());
        let kubeconfig = flags
            .value("kubeconfig")
            .filter(|value| !value.is_empty())
            .unwrap_or(KUBELET_KUBECONFIG)
            .to_string();
        let os_family = detect_os_family(host);
        let extra_args_file = EXTRA_ARGS_FILES
            .iter()
            .find(|path| host.exists(path))
            .map(|path| path.to_string())
            .unwrap_or_else(|| match os_family {
                OsFamily::Deb => EXTRA_ARGS_FILES[0].to_string(),
                OsFamily::Rpm => EXTRA_ARGS_FILES[1].to_string(),
            });
        let extra_args = host
            .read_text(&extra_args_file, MAX_CONFIG_BYTES)
            .ok()
            .and_then(|text| env_file_value(&text, "KUBELET_EXTRA_ARGS"));
        let vendor = host
            .read_text(DMI_VENDOR, 4096)
            .ok()
            .map(|text| text.trim().to_string());

        Setup {
            node: node.to_string(),
            hosts_entries: hosts_entries(host, &hostname),
            hostname,
            node_ip,
            node_ip_in_files,
            node_ip_line,
            joined: host.exists(&kubeconfig),
            kubeconfig,
            extra_args_file,
            extra_args,
            vendor,
        }
    }

    /// Returns --node-ip when it names addresses, not when it is unset, `0.0.0.0` or `::`.
    pub fn pinned(&self) -> Option<&NodeIpFlag> {
        self.node_ip.as_ref().filter(|flag| !flag.is_unspecified())
    }

    pub fn is_digitalocean(&self) -> bool {
        self.vendor.as_deref() == Some("DigitalOcean")
    }
}

/// Returns the words of a flag string with any --node-ip flag and its value removed.
pub fn without_node_ip(args: &str) -> Vec<String> {
    let words = split_words(args);
    let mut kept = Vec::new();
    let mut index = 0;
    while index < words.len() {
        let word = &words[index];
        index += 1;
        let bare = word.trim_start_matches('-');
        if bare == "node-ip" {
            index += 1;
            continue;
        }
        if bare.starts_with("node-ip=") && word.starts_with('-') {
            continue;
        }
        kept.push(word.clone());
    }
    kept
}

/// Tells deb from rpm nodes by /etc/os-release, else by which kubelet defaults file exists.
fn detect_os_family(host: &dyn Host) -> OsFamily {
    if host.exists(EXTRA_ARGS_FILES[1]) && !host.exists(EXTRA_ARGS_FILES[0]) {
        return OsFamily::Rpm;
    }
    for path in OS_RELEASE {
        let Ok(text) = host.read_text(path, 64 * 1024) else {
            continue;
        };
        let mut ids = String::new();
        for variable in ["ID", "ID_LIKE"] {
            if let Some(value) = env_file_value(&text, variable) {
                ids.push_str(&value.to_lowercase());
                ids.push(' ');
            }
        }
        let rpm = [
            "rhel",
            "fedora",
            "centos",
            "suse",
            "amzn",
            "rocky",
            "almalinux",
        ];
        if rpm.iter().any(|id| ids.contains(id)) {
            return OsFamily::Rpm;
        }
        return OsFamily::Deb;
    }
    if host.exists("/etc/sysconfig") && !host.exists("/etc/default") {
        OsFamily::Rpm
    } else {
        OsFamily::Deb
    }
}

/// Returns the addresses /etc/hosts gives `name`, as the kubelet's DNS lookup of the node name
/// finds them before asking DNS.
fn hosts_entries(host: &dyn Host, name: &str) -> Vec<IpAddr> {
    let Ok(text) = host.read_text(HOSTS_FILE, MAX_CONFIG_BYTES) else {
        return Vec::new();
    };
    let mut entries = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let mut fields = line.split_whitespace();
        let Some(Ok(ip)) = fields.next().map(str::parse::<IpAddr>) else {
            continue;
        };
        if fields.any(|alias| alias.eq_ignore_ascii_case(name)) {
            entries.push(ip);
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ip_removed_from_args() {
        let kept = without_node_ip("--node-ip=10.0.2.15 --v=2 --node-ip 10.0.2.16 --max-pods=50");
        assert_eq!(kept, vec!["--v=2", "--max-pods=50"]);
    }

    #[test]
    fn dual_stack_flag_parses() {
        let flag = FlagValue {
            value: "203.0.113.24,2001:db8::5".to_string(),
            source: "/etc/default/kubelet".to_string(),
            line: Some(1),
            variable: Some("KUBELET_EXTRA_ARGS".to_string()),
        };
        let parsed = NodeIpFlag::from_flag(&flag);
        assert_eq!(parsed.ips.len(), 2);
        assert!(parsed.invalid.is_empty());
        assert!(!parsed.is_unspecified());
    }

    #[test]
    fn host_name_is_invalid_entry() {
        let flag = FlagValue {
            value: "kube1".to_string(),
            source: "/etc/default/kubelet".to_string(),
            line: Some(1),
            variable: None,
        };
        assert_eq!(NodeIpFlag::from_flag(&flag).invalid, vec!["kube1"]);
    }
}
