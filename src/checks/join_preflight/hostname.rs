//! The node name, which must be a DNS-1123 subdomain.

use crate::check::{Code, Finding, Fix};
use crate::kube::NodeIdentity;

const NAMES_URL: &str =
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-subdomain-names";
const MAX_LENGTH: usize = 253;

/// Returns why `name` is not a DNS-1123 subdomain: at most 253 characters of lowercase
/// letters, digits, '-' and '.', each dot-separated label starting and ending with a letter or
/// digit.
pub fn invalid_reason(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".to_string());
    }
    if name.len() > MAX_LENGTH {
        return Some(format!(
            "it is {} characters long, over {MAX_LENGTH}",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-' || *c == '.'))
    {
        return Some(format!(
            "it contains {c:?}; only lowercase letters, digits, '-' and '.' are allowed"
        ));
    }
    for label in name.split('.') {
        let alphanumeric = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        if !alphanumeric(label.chars().next()) || !alphanumeric(label.chars().last()) {
            return Some(format!(
                "the part {label:?} does not start and end with a letter or digit"
            ));
        }
    }
    None
}

/// Returns a valid name close to `name`: lowercase, invalid characters replaced by '-'.
fn suggest(name: &str) -> String {
    let replaced: String = name
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let labels: Vec<&str> = replaced
        .split('.')
        .map(|label| label.trim_matches('-'))
        .filter(|label| !label.is_empty())
        .collect();
    let joined = labels.join(".");
    let mut suggestion: String = joined.chars().take(MAX_LENGTH).collect();
    while suggestion.ends_with(['-', '.']) {
        suggestion.pop();
    }
    if suggestion.is_empty() {
        "node-1".to_string()
    } else {
        suggestion
    }
}

pub fn check(node: &NodeIdentity) -> Option<Finding> {
    let reason = invalid_reason(&node.name)?;
    let suggestion = suggest(&node.name);
    Some(
        Finding::new(
            Code::JoinPreflightHostnameInvalid,
            format!("node name {:?} is not a valid DNS-1123 subdomain: {reason}", node.name),
        )
        .details("The kubelet registers a Node object under this name and the API server rejects names that are not DNS-1123 subdomains, so the node never appears. kubeadm warns with \"invalid node name format\".")
        .evidence(&node.source, "node name", &node.name)
        .fix(
            Fix::new(format!("rename the host to a valid name such as {suggestion:?}, or override the node name"))
                .step(format!("Set the hostname to {suggestion}; hostnamectl writes /etc/hostname, so the name survives reboots."))
                .step("Or keep the hostname and give kubeadm a valid name with --node-name (nodeRegistration.name), which becomes the kubelet's --hostname-override.")
                .command(format!("hostnamectl set-hostname {suggestion}"))
                .command(format!("kubeadm join ... --node-name {suggestion}")),
        )
        .reference(NAMES_URL),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names() {
        for name in ["node-1", "worker.example.test", "a", "10-0-0-1"] {
            assert_eq!(invalid_reason(name), None, "{name}");
        }
    }

    #[test]
    fn invalid_names() {
        for name in ["node_1", "-node", "node-", "a..b", "", "Node"] {
            assert!(invalid_reason(name).is_some(), "{name}");
        }
        assert!(invalid_reason(&"a".repeat(254)).is_some());
    }

    #[test]
    fn suggests_valid_name() {
        assert_eq!(suggest("My_Node"), "my-node");
        assert_eq!(invalid_reason(&suggest("__x__.y_")), None);
    }
}
