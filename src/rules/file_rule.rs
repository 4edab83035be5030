//! `kind: file`: whether a file exists or is absent, its permission bits, its owner and its
//! contents.

use regex::Regex;

use super::rule::RuleOutcome;
use super::template::{self, FindingTemplate, Vars};
use crate::check::{Context, Finding};
use crate::host::{Host, MAX_CONFIG_BYTES};

#[derive(Debug)]
pub struct FileRule {
    pub path: String,
    /// `true`: the file must exist. `false`: it must not.
    pub exists: bool,
    /// Permission bits the file may have; any other bit set is a finding.
    pub max_mode: Option<u32>,
    /// `USER` or `USER:GROUP`, by name or number.
    pub owner: Option<String>,
    pub contents_match: Option<Regex>,
    pub contents_not_match: Option<Regex>,
}

impl FileRule {
    fn has_conditions(&self) -> bool {
        self.max_mode.is_some()
            || self.owner.is_some()
            || self.contents_match.is_some()
            || self.contents_not_match.is_some()
    }

    pub fn evaluate(&self, context: &Context, template: &FindingTemplate) -> RuleOutcome {
        let host = context.host.as_ref();
        let mut vars = Vars::new();
        vars.insert("path".into(), self.path.clone());
        vars.insert("node".into(), context.node_name().to_string());

        let meta = match host.stat(&self.path) {
            Ok(meta) => Some(meta),
            Err(error) if error.is_not_found() => None,
            Err(error) => return RuleOutcome::Error(error.to_string()),
        };
        let Some(meta) = meta else {
            // mode, owner and contents conditions describe a file that is there; a missing file
            // is a finding only for a rule that checks existence alone.
            if !self.exists || self.has_conditions() {
                return RuleOutcome::Findings(Vec::new());
            }
            return existence(template, vars, "exists", "missing");
        };
        if !self.exists {
            return existence(template, vars, "absent", "present");
        }

        let mut findings = Vec::new();
        if let Some(max_mode) = self.max_mode
            && meta.mode & !max_mode != 0
        {
            let mut vars = vars.clone();
            set(
                &mut vars,
                "mode",
                &format!("{:04o}", max_mode),
                &format!("{:04o}", meta.mode),
            );
            findings.push(evidenced(template, &vars, "mode"));
        }
        if let Some(owner) = &self.owner {
            match owner_matches(host, owner, meta.uid, meta.gid) {
                Ok(true) => {}
                Ok(false) => {
                    let mut vars = vars.clone();
                    set(
                        &mut vars,
                        "owner",
                        owner,
                        &format!("{}:{}", meta.uid, meta.gid),
                    );
                    findings.push(evidenced(template, &vars, "owner"));
                }
                Err(why) => return RuleOutcome::Error(why),
            }
        }
        if self.contents_match.is_some() || self.contents_not_match.is_some() {
            let text = match host.read_text(&self.path, MAX_CONFIG_BYTES) {
                Ok(text) => text,
                Err(error) => return RuleOutcome::Error(error.to_string()),
            };
            if let Some(pattern) = &self.contents_match
                && !pattern.is_match(&text)
            {
                let mut vars = vars.clone();
                set(&mut vars, "contents", pattern.as_str(), "no match");
                findings.push(evidenced(template, &vars, "contents"));
            }
            if let Some(pattern) = &self.contents_not_match
                && let Some(captures) = pattern.captures(&text)
            {
                let mut vars = vars.clone();
                template::add_captures(&mut vars, pattern, &captures);
                let matched = super::log_line::redact(&captures[0]);
                set(
                    &mut vars,
                    "contents",
                    &format!("no match of {}", pattern.as_str()),
                    &matched,
                );
                findings.push(evidenced(template, &vars, "contents"));
            }
        }
        RuleOutcome::Findings(findings)
    }
}

fn set(vars: &mut Vars, field: &str, expected: &str, value: &str) {
    vars.insert("field".into(), field.to_string());
    vars.insert("expected".into(), expected.to_string());
    vars.insert("value".into(), value.to_string());
}

fn existence(
    template: &FindingTemplate,
    mut vars: Vars,
    expected: &str,
    value: &str,
) -> RuleOutcome {
    set(&mut vars, "exists", expected, value);
    RuleOutcome::Findings(vec![evidenced(template, &vars, "exists")])
}

fn evidenced(template: &FindingTemplate, vars: &Vars, field: &str) -> Finding {
    template
        .instantiate(vars)
        .evidence(&vars["path"], field, &vars["value"])
}

/// Compares a file's owner with `USER[:GROUP]`. Names are looked up in the node's /etc/passwd
/// and /etc/group.
fn owner_matches(host: &dyn Host, owner: &str, uid: u32, gid: u32) -> Result<bool, String> {
    let (user, group) = match owner.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (owner, None),
    };
    let wanted_uid = resolve_id(host, "/etc/passwd", user)?;
    if wanted_uid != uid {
        return Ok(false);
    }
    match group {
        Some(group) => Ok(resolve_id(host, "/etc/group", group)? == gid),
        None => Ok(true),
    }
}

fn resolve_id(host: &dyn Host, database: &str, name: &str) -> Result<u32, String> {
    if let Ok(id) = name.parse::<u32>() {
        return Ok(id);
    }
    let text = host
        .read_text(database, MAX_CONFIG_BYTES)
        .map_err(|error| format!("cannot look up {name:?}: {error}"))?;
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(':');
            let entry = fields.next()?;
            let id = fields.nth(1)?.parse::<u32>().ok()?;
            (entry == name).then_some(id)
        })
        .next()
        .ok_or_else(|| format!("{name:?} is not in the node's {database}"))
}
