//! Declarative checks: YAML files in checks.d folders that define checks without recompiling,
//! as node-problem-detector's custom plugins and kube-bench's controls do.
//!
//! A file holds `checks`, each with an id, a title and rules. A rule describes the healthy
//! state (`file`, `sysctl`, `module`, `certificate`, `systemd`) and reports its finding when
//! the node differs, or names a problem directly (`log`: a matching line; `command`: a plugin
//! that says so). Finding text takes `{{name}}` placeholders. docs/declarative-checks.md is
//! the format reference.

mod certificate_rule;
mod check;
mod compile;
mod error;
mod file_rule;
mod format;
mod kernel_rule;
mod load;
pub mod log_line;
pub mod log_match;
mod log_rule;
pub mod log_source;
mod plugin;
mod rule;
mod systemd_rule;
pub mod template;

pub use check::DeclarativeCheck;
pub use compile::{RULE_KINDS, is_kebab_case};
pub use error::RuleError;
pub use load::{DEFAULT_CHECKS_DIRS, Loaded, checks_files, load};
pub use plugin::MAX_PLUGIN_OUTPUT;
