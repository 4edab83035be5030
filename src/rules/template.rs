//! Finding text with `{{name}}` placeholders, filled in from what a rule observed: regex
//! capture groups (`{{1}}`, `{{name}}`), `{{path}}`, `{{value}}` and the others each rule kind
//! documents. Double braces were picked because fix commands often contain JSON, whose single
//! braces must stay as written.

use std::collections::BTreeMap;

use crate::check::{Code, Finding, Fix, Severity};

/// Values a rule observed, by placeholder name.
pub type Vars = BTreeMap<String, String>;

/// Replaces each `{{name}}` whose name is in `vars`. Unknown placeholders stay as written, so
/// a typo shows in the output instead of vanishing.
pub fn render(template: &str, vars: &Vars) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let name = after[..end].trim();
                match vars.get(name) {
                    Some(value) => out.push_str(value),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The finding a rule reports, before its placeholders are filled in.
#[derive(Clone, Debug)]
pub struct FindingTemplate {
    pub code: Code,
    pub severity: Severity,
    pub summary: String,
    pub details: String,
    pub fix: Fix,
    pub references: Vec<String>,
}

impl FindingTemplate {
    /// Builds the finding with `vars` filled into every text field.
    pub fn instantiate(&self, vars: &Vars) -> Finding {
        let mut fix = Fix::new(render(&self.fix.summary, vars));
        for step in &self.fix.steps {
            fix = fix.step(render(step, vars));
        }
        for command in &self.fix.commands {
            fix = fix.command(render(command, vars));
        }
        let mut finding = Finding::new(self.code, render(&self.summary, vars))
            .severity(self.severity)
            .details(render(&self.details, vars))
            .fix(fix);
        for reference in &self.references {
            finding = finding.reference(render(reference, vars));
        }
        finding
    }
}

/// Adds a regex match's groups to `vars`: `{{0}}` is the whole match, `{{1}}`... the numbered
/// groups and named groups go by their names. A group that did not take part is empty.
pub fn add_captures(vars: &mut Vars, regex: &regex::Regex, captures: &regex::Captures<'_>) {
    for (index, group) in captures.iter().enumerate() {
        let text = group.map(|m| m.as_str()).unwrap_or_default();
        vars.insert(index.to_string(), text.to_string());
    }
    for name in regex.capture_names().flatten() {
        let text = captures.name(name).map(|m| m.as_str()).unwrap_or_default();
        vars.insert(name.to_string(), text.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_fills_known_names() {
        let mut vars = Vars::new();
        vars.insert("node".into(), "worker-1".into());
        assert_eq!(
            render("node {{ node }} is {{node}}", &vars),
            "node worker-1 is worker-1"
        );
    }

    #[test]
    fn render_keeps_unknown_and_json() {
        let vars = Vars::new();
        assert_eq!(
            render("{{missing}} {\"a\":{}}", &vars),
            "{{missing}} {\"a\":{}}"
        );
        assert_eq!(render("open {{ end", &vars), "open {{ end");
    }
}
