/// A read-only command a check may ask the host for. Each has a fixed place in a snapshot, so the
/// snapshot host can answer it from captured output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostCommand {
    /// `journalctl -u UNIT -o short-iso --no-pager -n LINES`.
    Journal { unit: String, lines: u32 },
    /// `kubectl -n kube-system get configmap kubeadm-config -o json`: the cluster's kubeadm
    /// ClusterConfiguration as `kubeadm init` uploaded it.
    KubeadmConfigMap,
}

impl HostCommand {
    /// Returns the file, relative to the snapshot directory, that holds this command's output.
    pub fn snapshot_path(&self) -> String {
        match self {
            HostCommand::Journal { unit, .. } => format!("commands/journal/{unit}.log"),
            HostCommand::KubeadmConfigMap => "api/kubeadm-config.json".to_string(),
        }
    }

    /// Returns the command line as an operator would type it, for evidence and logs.
    pub fn display(&self) -> String {
        match self {
            HostCommand::Journal { unit, lines } => {
                format!("journalctl -u {unit} -o short-iso --no-pager -n {lines}")
            }
            HostCommand::KubeadmConfigMap => {
                "kubectl -n kube-system get configmap kubeadm-config -o json".to_string()
            }
        }
    }
}

/// The captured standard output of a command.
#[derive(Clone, Debug)]
pub struct CommandOutput {
    pub stdout: String,
}
