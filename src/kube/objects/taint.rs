//! Taints and tolerations, matched the way the scheduler matches them.

use serde::Deserialize;

/// One entry of a Node's `spec.taints`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Taint {
    pub key: String,
    pub value: Option<String>,
    /// NoSchedule, PreferNoSchedule or NoExecute.
    pub effect: String,
    pub time_added: Option<String>,
}

/// One entry of a pod's `spec.tolerations`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Toleration {
    pub key: Option<String>,
    /// `Exists` or `Equal`; empty means `Equal`.
    pub operator: Option<String>,
    pub value: Option<String>,
    /// Empty matches every effect.
    pub effect: Option<String>,
    pub toleration_seconds: Option<i64>,
}

impl Taint {
    /// Returns the taint as `kubectl describe node` prints it: `key=value:Effect`.
    pub fn describe(&self) -> String {
        match self.value.as_deref().filter(|value| !value.is_empty()) {
            Some(value) => format!("{}={value}:{}", self.key, self.effect),
            None => format!("{}:{}", self.key, self.effect),
        }
    }
}

impl Toleration {
    /// Returns whether this toleration matches `taint`: the effect matches or is empty, and
    /// the key matches, or is empty with operator Exists (which tolerates every taint).
    pub fn tolerates(&self, taint: &Taint) -> bool {
        let effect = self.effect.as_deref().unwrap_or_default();
        if !effect.is_empty() && effect != taint.effect {
            return false;
        }
        let key = self.key.as_deref().unwrap_or_default();
        let exists = self.operator.as_deref() == Some("Exists");
        if key.is_empty() {
            return exists;
        }
        if key != taint.key {
            return false;
        }
        if exists {
            return true;
        }
        self.value.as_deref().unwrap_or_default() == taint.value.as_deref().unwrap_or_default()
    }

    /// Returns whether this toleration matches every taint: operator Exists with no key and no
    /// effect.
    pub fn tolerates_everything(&self) -> bool {
        self.key.as_deref().unwrap_or_default().is_empty()
            && self.operator.as_deref() == Some("Exists")
            && self.effect.as_deref().unwrap_or_default().is_empty()
    }

    /// Returns the toleration in the YAML flow form a manifest would show.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let fields = [
            ("key", &self.key),
            ("operator", &self.operator),
            ("value", &self.value),
            ("effect", &self.effect),
        ];
        for (name, value) in fields {
            if let Some(value) = value.as_deref().filter(|value| !value.is_empty()) {
                parts.push(format!("{name}: {value}"));
            }
        }
        if let Some(seconds) = self.toleration_seconds {
            parts.push(format!("tolerationSeconds: {seconds}"));
        }
        format!("{{{}}}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uninitialized() -> Taint {
        Taint {
            key: "node.cloudprovider.kubernetes.io/uninitialized".to_string(),
            value: Some("true".to_string()),
            effect: "NoSchedule".to_string(),
            time_added: None,
        }
    }

    fn toleration(key: &str, operator: &str, value: &str, effect: &str) -> Toleration {
        let some = |text: &str| (!text.is_empty()).then(|| text.to_string());
        Toleration {
            key: some(key),
            operator: some(operator),
            value: some(value),
            effect: some(effect),
            toleration_seconds: None,
        }
    }

    #[test]
    fn exists_without_key_tolerates_all() {
        let all = toleration("", "Exists", "", "");
        assert!(all.tolerates(&uninitialized()));
        assert!(all.tolerates_everything());
    }

    #[test]
    fn critical_addons_does_not_match() {
        let critical = toleration("CriticalAddonsOnly", "Exists", "", "");
        assert!(!critical.tolerates(&uninitialized()));
        let control_plane = toleration(
            "node-role.kubernetes.io/control-plane",
            "",
            "",
            "NoSchedule",
        );
        assert!(!control_plane.tolerates(&uninitialized()));
    }

    #[test]
    fn key_with_equal_needs_value() {
        let key = "node.cloudprovider.kubernetes.io/uninitialized";
        assert!(toleration(key, "Equal", "true", "NoSchedule").tolerates(&uninitialized()));
        assert!(!toleration(key, "Equal", "false", "").tolerates(&uninitialized()));
        assert!(toleration(key, "Exists", "", "").tolerates(&uninitialized()));
        assert!(!toleration(key, "Exists", "", "NoExecute").tolerates(&uninitialized()));
    }

    #[test]
    fn exists_with_effect_only() {
        let no_schedule = toleration("", "Exists", "", "NoSchedule");
        assert!(no_schedule.tolerates(&uninitialized()));
        assert!(!no_schedule.tolerates_everything());
    }

    #[test]
    fn taint_describes_like_kubectl() {
        assert_eq!(
            uninitialized().describe(),
            "node.cloudprovider.kubernetes.io/uninitialized=true:NoSchedule"
        );
    }
}
