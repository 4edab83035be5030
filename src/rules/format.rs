//! The YAML shape of a checks file, as read before validation. Values that validation may
//! reject are `Spanned`, so an error can name their line and column.

use serde::Deserialize;
use serde_saphyr::Spanned;

/// The version a checks file may declare in `apiVersion`.
pub const API_VERSION: &str = "node-doctor/v1";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChecksFile {
    pub api_version: Option<Spanned<String>>,
    #[serde(default)]
    pub checks: Vec<RawCheck>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCheck {
    pub id: Spanned<String>,
    pub title: Spanned<String>,
    pub rules: Spanned<Vec<RawRule>>,
}

/// One rule with the fields of every kind. Validation checks that only the fields of its
/// `kind` are set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RawRule {
    pub kind: Spanned<String>,
    pub path: Option<Spanned<String>>,
    pub exists: Option<Spanned<bool>>,
    pub mode: Option<Spanned<String>>,
    pub owner: Option<Spanned<String>>,
    pub contents_match: Option<Spanned<String>>,
    pub contents_not_match: Option<Spanned<String>>,
    pub key: Option<Spanned<String>>,
    pub equals: Option<Spanned<String>>,
    pub module: Option<Spanned<String>>,
    pub loaded: Option<Spanned<bool>>,
    pub warn_within: Option<Spanned<String>>,
    pub unit: Option<Spanned<String>>,
    pub property: Option<Spanned<String>>,
    pub journal: Option<Spanned<String>>,
    pub pod: Option<Spanned<String>>,
    pub pattern: Option<Spanned<String>>,
    pub command: Option<Spanned<Vec<String>>>,
    pub timeout: Option<Spanned<String>>,
    pub output: Option<Spanned<String>>,
    pub finding: Option<Spanned<RawFinding>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFinding {
    pub code: Spanned<String>,
    pub severity: Option<Spanned<String>>,
    pub summary: String,
    #[serde(default)]
    pub details: String,
    #[serde(default)]
    pub fix: RawFix,
    #[serde(default)]
    pub references: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFix {
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub steps: Vec<String>,
    #[serde(default)]
    pub commands: Vec<String>,
}
