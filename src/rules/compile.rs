//! Validation of a parsed checks file into runnable checks. Every problem is collected with
//! its line and column instead of stopping at the first.

use std::path::Path;
use std::time::Duration;

use regex::Regex;
use serde_saphyr::{Location, Spanned};

use super::certificate_rule::CertificateRule;
use super::check::DeclarativeCheck;
use super::error::RuleError;
use super::file_rule::FileRule;
use super::format::{API_VERSION, ChecksFile, RawCheck, RawFinding, RawRule};
use super::kernel_rule::{ModuleRule, SysctlRule};
use super::log_source::LogSource;
use super::plugin::{CommandRule, PluginOutput};
use super::rule::{Rule, RuleKind};
use super::systemd_rule::SystemdRule;
use super::template::FindingTemplate;
use crate::check::{Code, DeclaredCode, Fix, Severity};

/// The rule kinds, as `kind` spells them.
pub const RULE_KINDS: [&str; 7] = [
    "file",
    "sysctl",
    "module",
    "certificate",
    "systemd",
    "log",
    "command",
];

/// Default and maximum run time of a plugin. The maximum stays below the runner's 20 second
/// deadline for a whole check, so a plugin that hangs is killed before its check is abandoned.
const DEFAULT_PLUGIN_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_PLUGIN_TIMEOUT: Duration = Duration::from_secs(15);

/// A validated check with the places of its id and codes, for the checks across files.
pub struct LoadedCheck {
    pub check: DeclarativeCheck,
    pub id_location: Location,
    /// The place of each code in `check.codes`, in the same order.
    pub code_locations: Vec<Location>,
}

/// Collects errors for one file.
pub struct Validator<'a> {
    pub file: &'a str,
    pub errors: Vec<RuleError>,
}

impl<'a> Validator<'a> {
    pub fn new(file: &'a str) -> Validator<'a> {
        Validator {
            file,
            errors: Vec::new(),
        }
    }

    pub fn error(&mut self, at: Location, message: impl Into<String>) {
        self.errors.push(RuleError {
            file: self.file.to_string(),
            line: at.line(),
            column: at.column(),
            message: message.into(),
        });
    }

    /// Validates a parsed file. `folder` is where relative plugin paths are resolved.
    pub fn checks(&mut self, parsed: ChecksFile, folder: &Path) -> Vec<LoadedCheck> {
        if let Some(version) = &parsed.api_version
            && version.value != API_VERSION
        {
            self.error(
                version.referenced,
                format!(
                    "unsupported apiVersion {:?}; expected {API_VERSION}",
                    version.value
                ),
            );
        }
        parsed
            .checks
            .into_iter()
            .filter_map(|check| self.check(check, folder))
            .collect()
    }

    fn check(&mut self, raw: RawCheck, folder: &Path) -> Option<LoadedCheck> {
        let id_ok = is_kebab_case(&raw.id.value);
        if !id_ok {
            self.error(
                raw.id.referenced,
                format!(
                    "invalid check id {:?}; use kebab-case, such as my-check",
                    raw.id.value
                ),
            );
        }
        if raw.rules.value.is_empty() {
            self.error(raw.rules.referenced, "a check needs at least one rule");
        }
        let mut rules = Vec::new();
        let mut codes: Vec<Code> = Vec::new();
        let mut code_locations = Vec::new();
        for rule in raw.rules.value {
            let Some((rule, code_location)) = self.rule(rule, &raw.id.value, folder) else {
                continue;
            };
            // Rules may share a code. The first rule's severity and text document it.
            if let Some(template) = &rule.finding
                && !codes.iter().any(|c| c.as_str() == template.code.as_str())
            {
                codes.push(template.code);
                code_locations.push(code_location);
            }
            rules.push(rule);
        }
        if !id_ok {
            return None;
        }
        let check = DeclarativeCheck {
            id: leak(raw.id.value),
            title: leak(raw.title.value),
            codes,
            rules,
        };
        Some(LoadedCheck {
            check,
            id_location: raw.id.referenced,
            code_locations,
        })
    }

    fn rule(&mut self, raw: RawRule, check_id: &str, folder: &Path) -> Option<(Rule, Location)> {
        let kind = raw.kind.value.as_str();
        let start = raw.kind.referenced;
        if !RULE_KINDS.contains(&kind) {
            self.error(
                start,
                format!(
                    "unknown rule kind {kind:?}; expected one of {}",
                    RULE_KINDS.join(", ")
                ),
            );
            return None;
        }
        self.reject_foreign_fields(&raw, kind);
        let errors_before = self.errors.len();

        let finding = match &raw.finding {
            Some(finding) => self.finding(finding, check_id),
            None => {
                let json =
                    kind == "command" && raw.output.as_ref().is_some_and(|o| o.value == "json");
                if !json {
                    self.error(start, format!("a {kind} rule needs a finding"));
                }
                None
            }
        };
        let code_location = raw
            .finding
            .as_ref()
            .map_or(start, |finding| finding.value.code.referenced);

        let rule_kind = match kind {
            "file" => self.file_rule(&raw, start),
            "sysctl" => {
                let key = self.required(&raw.key, "key", start);
                let equals = self.required(&raw.equals, "equals", start);
                Some(RuleKind::Sysctl(SysctlRule {
                    key: key?,
                    equals: equals?,
                }))
            }
            "module" => {
                let name = self.required(&raw.module, "module", start)?;
                let loaded = raw.loaded.as_ref().is_none_or(|loaded| loaded.value);
                Some(RuleKind::Module(ModuleRule { name, loaded }))
            }
            "certificate" => {
                let path = self.path(&raw.path, start);
                let warn_within = match &raw.warn_within {
                    Some(text) => self.duration(text),
                    None => Some(Duration::ZERO),
                };
                Some(RuleKind::Certificate(CertificateRule {
                    path: path?,
                    warn_within: warn_within?,
                }))
            }
            "systemd" => {
                let unit = self.required(&raw.unit, "unit", start);
                let property = self.required(&raw.property, "property", start);
                let equals = self.required(&raw.equals, "equals", start);
                Some(RuleKind::Systemd(SystemdRule {
                    unit: unit?,
                    property: property?,
                    equals: equals?,
                }))
            }
            "log" => self.log_rule(&raw, start),
            "command" => self.command_rule(&raw, start, folder),
            _ => unreachable!("kinds are checked above"),
        };
        if self.errors.len() > errors_before {
            return None;
        }
        let rule = Rule {
            kind: rule_kind?,
            finding,
            location: format!("{}:{}", self.file, start.line()),
        };
        Some((rule, code_location))
    }

    fn reject_foreign_fields(&mut self, raw: &RawRule, kind: &str) {
        let allowed: &[&str] = match kind {
            "file" => &[
                "path",
                "exists",
                "mode",
                "owner",
                "contentsMatch",
                "contentsNotMatch",
            ],
            "sysctl" => &["key", "equals"],
            "module" => &["module", "loaded"],
            "certificate" => &["path", "warnWithin"],
            "systemd" => &["unit", "property", "equals"],
            "log" => &["journal", "pod", "path", "pattern"],
            "command" => &["command", "timeout", "output"],
            _ => &[],
        };
        let present: [(&str, Option<Location>); 19] = [
            ("path", raw.path.as_ref().map(|v| v.referenced)),
            ("exists", raw.exists.as_ref().map(|v| v.referenced)),
            ("mode", raw.mode.as_ref().map(|v| v.referenced)),
            ("owner", raw.owner.as_ref().map(|v| v.referenced)),
            (
                "contentsMatch",
                raw.contents_match.as_ref().map(|v| v.referenced),
            ),
            (
                "contentsNotMatch",
                raw.contents_not_match.as_ref().map(|v| v.referenced),
            ),
            ("key", raw.key.as_ref().map(|v| v.referenced)),
            ("equals", raw.equals.as_ref().map(|v| v.referenced)),
            ("module", raw.module.as_ref().map(|v| v.referenced)),
            ("loaded", raw.loaded.as_ref().map(|v| v.referenced)),
            ("warnWithin", raw.warn_within.as_ref().map(|v| v.referenced)),
            ("unit", raw.unit.as_ref().map(|v| v.referenced)),
            ("property", raw.property.as_ref().map(|v| v.referenced)),
            ("journal", raw.journal.as_ref().map(|v| v.referenced)),
            ("pod", raw.pod.as_ref().map(|v| v.referenced)),
            ("pattern", raw.pattern.as_ref().map(|v| v.referenced)),
            ("command", raw.command.as_ref().map(|v| v.referenced)),
            ("timeout", raw.timeout.as_ref().map(|v| v.referenced)),
            ("output", raw.output.as_ref().map(|v| v.referenced)),
        ];
        for (field, location) in present {
            if let Some(location) = location
                && !allowed.contains(&field)
            {
                self.error(
                    location,
                    format!(
                        "field {field} does not apply to a {kind} rule; it takes {}",
                        allowed.join(", ")
                    ),
                );
            }
        }
    }

    fn required(
        &mut self,
        value: &Option<Spanned<String>>,
        field: &str,
        rule: Location,
    ) -> Option<String> {
        match value {
            Some(value) if !value.value.trim().is_empty() => Some(value.value.clone()),
            Some(value) => {
                self.error(value.referenced, format!("{field} is empty"));
                None
            }
            None => {
                self.error(rule, format!("this rule needs {field}"));
                None
            }
        }
    }

    fn path(&mut self, value: &Option<Spanned<String>>, rule: Location) -> Option<String> {
        let path = self.required(value, "path", rule)?;
        if !path.starts_with('/') {
            let at = value.as_ref().map_or(rule, |v| v.referenced);
            self.error(
                at,
                format!("path {path:?} must be absolute, such as /etc/kubernetes/kubelet.conf"),
            );
            return None;
        }
        Some(path)
    }

    fn regex(&mut self, value: &Spanned<String>) -> Option<Regex> {
        match Regex::new(&value.value) {
            Ok(regex) => Some(regex),
            Err(error) => {
                // The regex crate's message spans lines with a caret under the problem.
                let message = error
                    .to_string()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                self.error(
                    value.referenced,
                    format!("invalid regular expression: {message}"),
                );
                None
            }
        }
    }

    fn duration(&mut self, value: &Spanned<String>) -> Option<Duration> {
        match crate::duration::parse_duration(&value.value) {
            Ok(duration) => Some(duration),
            Err(why) => {
                self.error(value.referenced, why);
                None
            }
        }
    }

    fn file_rule(&mut self, raw: &RawRule, start: Location) -> Option<RuleKind> {
        let path = self.path(&raw.path, start);
        let exists = raw.exists.as_ref().is_none_or(|exists| exists.value);
        let max_mode = raw.mode.as_ref().and_then(|mode| {
            let digits = mode.value.trim_start_matches("0o");
            match u32::from_str_radix(digits, 8) {
                Ok(bits) if bits <= 0o7777 => Some(bits),
                _ => {
                    self.error(
                        mode.referenced,
                        format!("invalid mode {:?}; use octal, such as \"0600\"", mode.value),
                    );
                    None
                }
            }
        });
        let contents_match = raw.contents_match.as_ref().and_then(|p| self.regex(p));
        let contents_not_match = raw.contents_not_match.as_ref().and_then(|p| self.regex(p));
        if !exists
            && let Some(extra) = [
                &raw.mode,
                &raw.owner,
                &raw.contents_match,
                &raw.contents_not_match,
            ]
            .into_iter()
            .flatten()
            .next()
        {
            self.error(
                extra.referenced,
                "a file that must not exist has no mode, owner or contents to check",
            );
        }
        Some(RuleKind::File(FileRule {
            path: path?,
            exists,
            max_mode,
            owner: raw.owner.as_ref().map(|owner| owner.value.clone()),
            contents_match,
            contents_not_match,
        }))
    }

    fn log_rule(&mut self, raw: &RawRule, start: Location) -> Option<RuleKind> {
        let sources: Vec<&Spanned<String>> = [&raw.journal, &raw.pod, &raw.path]
            .into_iter()
            .flatten()
            .collect();
        if sources.len() != 1 {
            self.error(
                start,
                "a log rule needs exactly one of journal, pod or path",
            );
            return None;
        }
        let source = if let Some(unit) = &raw.journal {
            LogSource::Journal(unit.value.clone())
        } else if let Some(pod) = &raw.pod {
            match LogSource::pods(&pod.value) {
                Ok(source) => source,
                Err(why) => {
                    self.error(pod.referenced, why);
                    return None;
                }
            }
        } else {
            LogSource::File(self.path(&raw.path, start)?)
        };
        let pattern = match &raw.pattern {
            Some(pattern) => self.regex(pattern)?,
            None => {
                self.error(start, "this rule needs pattern");
                return None;
            }
        };
        Some(RuleKind::Log { source, pattern })
    }

    fn command_rule(&mut self, raw: &RawRule, start: Location, folder: &Path) -> Option<RuleKind> {
        let Some(command) = &raw.command else {
            self.error(
                start,
                "this rule needs command, a list such as [./check-disk.sh, --quick]",
            );
            return None;
        };
        let Some((program, args)) = command.value.split_first() else {
            self.error(command.referenced, "command is empty");
            return None;
        };
        let output = match raw.output.as_ref().map(|o| o.value.as_str()) {
            None | Some("npd") => PluginOutput::Npd,
            Some("json") => PluginOutput::Json,
            Some(other) => {
                let at = raw.output.as_ref().map_or(start, |o| o.referenced);
                self.error(
                    at,
                    format!("unknown output {other:?}; expected npd or json"),
                );
                return None;
            }
        };
        let timeout = match &raw.timeout {
            Some(text) => {
                let timeout = self.duration(text)?;
                if timeout.is_zero() || timeout > MAX_PLUGIN_TIMEOUT {
                    self.error(
                        text.referenced,
                        format!(
                            "timeout must be between 1s and {}s",
                            MAX_PLUGIN_TIMEOUT.as_secs()
                        ),
                    );
                    return None;
                }
                timeout
            }
            None => DEFAULT_PLUGIN_TIMEOUT,
        };
        Some(RuleKind::Command(CommandRule {
            program: folder.join(program),
            args: args.to_vec(),
            timeout,
            output,
        }))
    }

    fn finding(&mut self, raw: &Spanned<RawFinding>, check_id: &str) -> Option<FindingTemplate> {
        let finding = &raw.value;
        let code = &finding.code;
        let valid_code = match code.value.split_once('/') {
            Some((check, problem)) => {
                check == check_id && is_kebab_case(check) && is_kebab_case(problem)
            }
            None => false,
        };
        if !valid_code {
            self.error(
                code.referenced,
                format!(
                    "invalid code {:?}; codes are {check_id}/PROBLEM with a kebab-case PROBLEM",
                    code.value
                ),
            );
        }
        let severity = match &finding.severity {
            None => Some(Severity::Warning),
            Some(text) => match text.value.as_str() {
                "critical" => Some(Severity::Critical),
                "warning" => Some(Severity::Warning),
                "info" => Some(Severity::Info),
                other => {
                    self.error(
                        text.referenced,
                        format!("unknown severity {other:?}; expected critical, warning or info"),
                    );
                    None
                }
            },
        };
        if finding.summary.trim().is_empty() {
            self.error(raw.referenced, "the finding's summary is empty");
        }
        let severity = severity?;
        if !valid_code {
            return None;
        }
        let description = if finding.details.trim().is_empty() {
            finding.summary.clone()
        } else {
            finding.details.clone()
        };
        let declared: &'static DeclaredCode = Box::leak(Box::new(DeclaredCode {
            code: leak(code.value.clone()),
            severity,
            description: leak(description),
        }));
        Some(FindingTemplate {
            code: Code::Declared(declared),
            severity,
            summary: finding.summary.clone(),
            details: finding.details.clone(),
            fix: Fix {
                summary: finding.fix.summary.clone(),
                steps: finding.fix.steps.clone(),
                commands: finding.fix.commands.clone(),
            },
            references: finding.references.clone(),
        })
    }
}

/// Keeps a string for the life of the process. Check ids and codes are `&'static str`
/// everywhere, and a process loads its checks files once.
fn leak(text: String) -> &'static str {
    Box::leak(text.into_boxed_str())
}

pub fn is_kebab_case(text: &str) -> bool {
    !text.is_empty()
        && !text.starts_with('-')
        && !text.ends_with('-')
        && !text.contains("--")
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
