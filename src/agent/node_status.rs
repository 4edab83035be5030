//! Node conditions and Events, the way node-problem-detector reports problems.
//!
//! Each check that ran to completion owns one condition on this node's status, of type
//! `NodeDoctor<CheckId in CamelCase>` (`NodeDoctorKubeletClientCert`). It is `True` while the
//! check has critical or warning findings, with their codes in the reason and message, and
//! `False` when it has none. A check that was skipped or ended with status `error` leaves its
//! condition as it was. The status is patched only when a condition's status, reason or
//! message changed since the last patch. The first run compares with the conditions the Node
//! already has, so a restart of the agent sends nothing when nothing changed. Each critical
//! finding that appears creates one Event on the Node in the `default` namespace, where the
//! kubelet and node-problem-detector put node events too.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::transitions::{Change, Transition};
use crate::check::{CheckStatus, Severity};
use crate::host::api::ApiClient;
use crate::host::encode_path_segment;
use crate::report::{Report, format_rfc3339};

/// Cap on the Node and on the responses read.
const MAX_RESPONSE: u64 = 4 * 1024 * 1024;

/// Maximum length of a condition or event message, in characters.
const MAX_MESSAGE_CHARS: usize = 1024;

/// The namespace node Events are created in.
const EVENT_NAMESPACE: &str = "default";

/// The `source.component` and `reportingComponent` of the Events.
const COMPONENT: &str = "node-doctor";

/// One condition as node-doctor sets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    pub kind: String,
    pub status: &'static str,
    pub reason: String,
    pub message: String,
}

/// Sends this node's conditions and Events to the API server.
pub struct NodeReporter {
    client: ApiClient,
    node: String,
    /// The conditions last seen on the Node or sent, by type, with their
    /// lastTransitionTime. None until the Node has been read.
    known: Option<BTreeMap<String, (Condition, String)>>,
}

impl NodeReporter {
    pub fn new(client: ApiClient, node: &str) -> NodeReporter {
        NodeReporter {
            client,
            node: node.to_string(),
            known: None,
        }
    }

    /// Patches the conditions that changed and creates an Event for each critical finding
    /// that appeared. Failures are logged and retried on the next run.
    pub fn report(&mut self, report: &Report, transitions: &[Transition]) {
        if let Err(error) = self.update_conditions(report) {
            tracing::warn!(node = self.node, %error, "could not update the node conditions; retrying on the next run");
        }
        for transition in transitions {
            if transition.change != Change::Appeared || transition.severity != Severity::Critical {
                continue;
            }
            if let Err(error) = self.create_event(transition) {
                tracing::warn!(node = self.node, code = transition.code.as_str(), %error, "could not create the Event for a new critical finding");
            }
        }
    }

    fn node_path(&self) -> String {
        format!("/api/v1/nodes/{}", encode_path_segment(&self.node))
    }

    fn update_conditions(&mut self, report: &Report) -> Result<(), String> {
        let node_path = self.node_path();
        if self.known.is_none() {
            let body = self
                .client
                .get(&node_path, MAX_RESPONSE)
                .map_err(|error| error.to_string())?;
            let node: Value = serde_json::from_str(&body)
                .map_err(|error| format!("the Node is not valid JSON: {error}"))?;
            self.known = Some(read_conditions(&node));
        }
        let known = self.known.as_mut().expect("set above");

        let now = format_rfc3339(jiff::Timestamp::now());
        let mut changed = Vec::new();
        for condition in desired_conditions(report) {
            let transition_time = match known.get(&condition.kind) {
                Some((previous, _)) if *previous == condition => continue,
                Some((previous, since)) if previous.status == condition.status => since.clone(),
                _ => now.clone(),
            };
            changed.push((condition, transition_time));
        }
        if changed.is_empty() {
            tracing::debug!(node = self.node, "node conditions unchanged; nothing sent");
            return Ok(());
        }

        let conditions: Vec<Value> = changed
            .iter()
            .map(|(condition, since)| {
                json!({
                    "type": condition.kind,
                    "status": condition.status,
                    "reason": condition.reason,
                    "message": condition.message,
                    "lastHeartbeatTime": now,
                    "lastTransitionTime": since,
                })
            })
            .collect();
        let patch = json!({"status": {"conditions": conditions}});
        self.client
            .patch(
                &format!("{node_path}/status"),
                "application/strategic-merge-patch+json",
                patch.to_string(),
                MAX_RESPONSE,
            )
            .map_err(|error| error.to_string())?;
        for (condition, since) in changed {
            tracing::info!(
                node = self.node,
                condition = condition.kind,
                status = condition.status,
                reason = condition.reason,
                "node condition set"
            );
            known.insert(condition.kind.clone(), (condition, since));
        }
        Ok(())
    }

    fn create_event(&self, transition: &Transition) -> Result<(), String> {
        let now = format_rfc3339(jiff::Timestamp::now());
        let message = shorten(&format!(
            "{} ({}): {}",
            transition.code, transition.severity, transition.summary
        ));
        let event = json!({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "generateName": format!("{}.node-doctor.", self.node),
                "namespace": EVENT_NAMESPACE,
            },
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Node",
                "name": self.node,
                // The kubelet uses the node name as the uid of its Node events too.
                "uid": self.node,
            },
            "reason": camel_case(transition.code.as_str()),
            "message": message,
            "type": "Warning",
            "source": {"component": COMPONENT, "host": self.node},
            "reportingComponent": COMPONENT,
            "reportingInstance": self.node,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
        });
        self.client
            .post_json(
                &format!("/api/v1/namespaces/{EVENT_NAMESPACE}/events"),
                event.to_string(),
                MAX_RESPONSE,
            )
            .map_err(|error| error.to_string())?;
        tracing::info!(
            node = self.node,
            code = transition.code.as_str(),
            "Event created for a new critical finding"
        );
        Ok(())
    }
}

/// Returns the condition of each check that ran to completion.
pub fn desired_conditions(report: &Report) -> Vec<Condition> {
    let mut conditions = Vec::new();
    for result in &report.results {
        if !matches!(result.status, CheckStatus::Passed | CheckStatus::Failed) {
            continue;
        }
        let kind = condition_type(result.id);
        let mut problems: Vec<_> = result
            .findings
            .iter()
            .filter(|finding| finding.severity >= Severity::Warning)
            .collect();
        problems.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.code.cmp(&b.code)));

        let Some(first) = problems.first() else {
            conditions.push(Condition {
                kind,
                status: "False",
                reason: format!("{}Passed", camel_case(result.id)),
                message: format!("node-doctor check {} found no problem", result.id),
            });
            continue;
        };
        let mut codes: Vec<String> = Vec::new();
        for finding in &problems {
            let entry = format!("{} ({})", finding.code, finding.severity);
            if !codes.contains(&entry) {
                codes.push(entry);
            }
        }
        conditions.push(Condition {
            kind,
            status: "True",
            reason: camel_case(first.code.as_str()),
            message: shorten(&format!("{}: {}", codes.join(", "), first.summary)),
        });
    }
    conditions
}

/// Returns `NodeDoctor` followed by the check id in CamelCase.
pub fn condition_type(check: &str) -> String {
    format!("NodeDoctor{}", camel_case(check))
}

/// Turns `kubelet-client-cert/expired` into `KubeletClientCertExpired`.
fn camel_case(text: &str) -> String {
    text.split(['-', '/'])
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first.into_iter().chain(chars).collect::<String>()
        })
        .collect()
}

/// Reads the conditions of type `NodeDoctor*` from a Node object.
fn read_conditions(node: &Value) -> BTreeMap<String, (Condition, String)> {
    let mut known = BTreeMap::new();
    let Some(conditions) = node.pointer("/status/conditions").and_then(Value::as_array) else {
        return known;
    };
    for condition in conditions {
        let text = |key: &str| condition.get(key).and_then(Value::as_str).unwrap_or("");
        let kind = text("type");
        if !kind.starts_with("NodeDoctor") {
            continue;
        }
        let status = match text("status") {
            "True" => "True",
            "False" => "False",
            _ => "Unknown",
        };
        known.insert(
            kind.to_string(),
            (
                Condition {
                    kind: kind.to_string(),
                    status,
                    reason: text("reason").to_string(),
                    message: text("message").to_string(),
                },
                text("lastTransitionTime").to_string(),
            ),
        );
    }
    known
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(MAX_MESSAGE_CHARS - 3).collect();
    cut.push_str("...");
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn camel_case_of_code() {
        assert_eq!(
            camel_case("kubelet-client-cert/expired"),
            "KubeletClientCertExpired"
        );
        assert_eq!(condition_type("node-ip"), "NodeDoctorNodeIp");
    }

    #[test]
    fn read_conditions_keeps_own_types() {
        let node = json!({"status": {"conditions": [
            {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok"},
            {"type": "NodeDoctorPki", "status": "False", "reason": "PkiPassed",
             "message": "m", "lastTransitionTime": "2026-12-04T10:00:00Z"}
        ]}});
        let known = read_conditions(&node);
        assert_eq!(known.len(), 1);
        let (condition, since) = &known["NodeDoctorPki"];
        assert_eq!(condition.status, "False");
        assert_eq!(since, "2026-12-04T10:00:00Z");
    }
}
