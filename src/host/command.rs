/// A read-only command a check may ask the host for. Each has a fixed place in a snapshot, so the
/// snapshot host can answer it from captured output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostCommand {
    /// `journalctl -u UNIT -o short-iso --no-pager -n LINES`.
    Journal { unit: String, lines: u32 },
    /// `ip -j addr show`: every interface with its addresses, as JSON.
    IpAddr,
    /// `ip -j route show`: the IPv4 main routing table, as JSON.
    IpRoute,
    /// `ip -j -6 route show`: the IPv6 main routing table, as JSON. `ip route show` lists IPv4
    /// routes only, so an IPv6 default route needs this command.
    IpRoute6,
    /// `systemctl show -p PROPERTY... UNIT`. A snapshot stores the full `systemctl show UNIT`
    /// output, which contains every property, so the reader picks the ones it needs.
    SystemctlShow {
        unit: String,
        properties: Vec<String>,
    },
    /// `timedatectl show`: the clock and NTP state as `Key=value` lines.
    TimedatectlShow,
    /// `kubectl -n kube-system get configmap kubeadm-config -o json`: the cluster's kubeadm
    /// ClusterConfiguration as `kubeadm init` uploaded it.
    KubeadmConfigMap,
}

impl HostCommand {
    /// Returns the file, relative to the snapshot directory, that holds this command's output.
    pub fn snapshot_path(&self) -> String {
        match self {
            HostCommand::Journal { unit, .. } => format!("commands/journal/{unit}.log"),
            HostCommand::IpAddr => "commands/ip-addr.json".to_string(),
            HostCommand::IpRoute => "commands/ip-route.json".to_string(),
            HostCommand::IpRoute6 => "commands/ip-6-route.json".to_string(),
            HostCommand::SystemctlShow { unit, .. } => {
                format!("commands/systemctl-show/{unit}.txt")
            }
            HostCommand::TimedatectlShow => "commands/timedatectl.txt".to_string(),
            HostCommand::KubeadmConfigMap => "api/kubeadm-config.json".to_string(),
        }
    }

    /// Returns the command line as an operator would type it, for evidence and logs.
    pub fn display(&self) -> String {
        match self {
            HostCommand::Journal { unit, lines } => {
                format!("journalctl -u {unit} -o short-iso --no-pager -n {lines}")
            }
            HostCommand::IpAddr => "ip -j addr show".to_string(),
            HostCommand::IpRoute => "ip -j route show".to_string(),
            HostCommand::IpRoute6 => "ip -j -6 route show".to_string(),
            HostCommand::SystemctlShow { unit, properties } => {
                let mut line = "systemctl show".to_string();
                for property in properties {
                    line.push_str(" -p ");
                    line.push_str(property);
                }
                format!("{line} {unit}")
            }
            HostCommand::TimedatectlShow => "timedatectl show".to_string(),
            HostCommand::KubeadmConfigMap => {
                "kubectl -n kube-system get configmap kubeadm-config -o json".to_string()
            }
        }
    }

    /// Returns whether the command queries systemd over D-Bus, so it only works on the running
    /// system itself and only when systemd is PID 1.
    pub fn needs_running_systemd(&self) -> bool {
        matches!(
            self,
            HostCommand::SystemctlShow { .. } | HostCommand::TimedatectlShow
        )
    }
}

/// The captured standard output of a command.
#[derive(Clone, Debug)]
pub struct CommandOutput {
    pub stdout: String,
}
