//! The check framework: what a check is, what it reports, and how checks are run.

mod codes;
mod context;
mod finding;
mod runner;
mod severity;

pub use codes::{Code, DeclaredCode};
pub use context::{CertificateExpiry, CheckOptions, Context};
pub use finding::{Evidence, Finding, Fix};
pub use runner::{CheckResult, CheckStatus, RunnerOptions, run_checks};
pub use severity::Severity;

/// One diagnosis that can be run against a node.
///
/// A check reads the node only through [`Context::host`], returns findings for what is wrong,
/// and says why it was skipped or could not run instead of guessing.
pub trait Check: Send + Sync {
    /// The stable id, such as `kubelet-client-cert`. Every code of the check starts with it.
    fn id(&self) -> &'static str;

    /// One line saying what the check looks at.
    fn title(&self) -> &'static str;

    fn run(&self, context: &Context) -> Outcome;

    /// Every code the check can report, for `node-doctor list` and the metrics, which give each
    /// a series. The default is the catalog's codes under the check's id.
    fn codes(&self) -> Vec<Code> {
        Code::of_check(self.id()).collect()
    }
}

/// What a check concluded.
#[derive(Debug)]
pub enum Outcome {
    /// The check ran. No findings means it passed.
    Ran(Vec<Finding>),
    /// The check does not apply to this node, for the given reason.
    Skipped(String),
    /// The check could not decide, for the given reason.
    Error(String),
    /// Part of the check ran and found these problems, but another part could not decide, for
    /// the given reason. The check's status is `error` and the findings are still reported.
    Incomplete(Vec<Finding>, String),
}
