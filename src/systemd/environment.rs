//! A service's environment (`Environment=`, `EnvironmentFile=`) and its `ExecStart=` command
//! line with variables expanded, following systemd.exec(5) and systemd.service(5).

use std::collections::BTreeMap;

use super::unit::Unit;
use crate::host::{Host, MAX_CONFIG_BYTES};

/// One environment variable's value and where it was set, as `FILE:LINE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvironmentValue {
    pub value: String,
    pub source: String,
}

/// One word of the expanded command line and where it came from, as `FILE:LINE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WordSource {
    pub word: String,
    pub source: String,
    /// The variable the word was expanded from, such as KUBELET_EXTRA_ARGS, if any.
    pub variable: Option<String>,
}

/// The environment systemd gives a service.
#[derive(Clone, Debug, Default)]
pub struct ServiceEnvironment {
    pub variables: BTreeMap<String, EnvironmentValue>,
    /// Environment files that were named but could not be read, with the reason.
    pub problems: Vec<String>,
}

impl ServiceEnvironment {
    /// Builds the environment of `unit`: `Environment=` assignments in order, then each
    /// `EnvironmentFile=` in order. Values from files override `Environment=`, as systemd.exec(5)
    /// specifies, whatever the order of the lines.
    pub fn resolve(host: &dyn Host, unit: &Unit) -> ServiceEnvironment {
        let mut environment = ServiceEnvironment::default();
        for assignment in unit.list("Service", "Environment") {
            for word in split_unit_words(&assignment.value) {
                if let Some((name, value)) = word.split_once('=') {
                    environment.variables.insert(
                        name.to_string(),
                        EnvironmentValue {
                            value: value.to_string(),
                            source: assignment.location(),
                        },
                    );
                }
            }
        }
        for assignment in unit.list("Service", "EnvironmentFile") {
            let (optional, path) = match assignment.value.strip_prefix('-') {
                Some(path) => (true, path.trim()),
                None => (false, assignment.value.as_str()),
            };
            match host.read_text(path, MAX_CONFIG_BYTES) {
                Ok(text) => {
                    for (name, value, line) in parse_environment_file(&text) {
                        let source = format!("{path}:{line}");
                        environment
                            .variables
                            .insert(name, EnvironmentValue { value, source });
                    }
                }
                Err(error) if optional && error.is_not_found() => {}
                Err(error) => environment.problems.push(format!(
                    "{}: EnvironmentFile={}: {}",
                    assignment.location(),
                    assignment.value,
                    error.kind
                )),
            }
        }
        environment
    }

    pub fn get(&self, name: &str) -> Option<&EnvironmentValue> {
        self.variables.get(name)
    }

    /// Expands the unit's `ExecStart=` command, the last one after any reset, into words. A
    /// `$NAME` word becomes the variable's value split at whitespace, and `${NAME}` becomes one
    /// word; an unset variable expands to nothing. Returns `None` without an `ExecStart=`.
    pub fn exec_start(&self, unit: &Unit) -> Option<Vec<WordSource>> {
        let assignment = *unit.list("Service", "ExecStart").last()?;
        let mut words = Vec::new();
        for (index, word) in split_unit_words(&assignment.value).into_iter().enumerate() {
            let word = if index == 0 {
                word.trim_start_matches(['-', '@', ':', '+', '!'])
                    .to_string()
            } else {
                word
            };
            if let Some(name) = word.strip_prefix('$').filter(|n| is_variable_name(n)) {
                if let Some(variable) = self.get(name) {
                    for part in split_unit_words(&variable.value) {
                        words.push(WordSource {
                            word: part,
                            source: variable.source.clone(),
                            variable: Some(name.to_string()),
                        });
                    }
                }
                continue;
            }
            let (expanded, source, variable) = self.expand_braced(&word, &assignment.location());
            words.push(WordSource {
                word: expanded,
                source,
                variable,
            });
        }
        Some(words)
    }

    /// Replaces each `${NAME}` in `word`. The word's source is the variable's when the word
    /// contains one variable, else the `ExecStart=` line. Returns the word, its source and the
    /// variable it came from.
    fn expand_braced(&self, word: &str, line: &str) -> (String, String, Option<String>) {
        let mut output = String::new();
        let mut rest = word;
        let mut only_variable: Option<(String, String)> = None;
        let mut replaced = 0;
        while let Some(start) = rest.find("${") {
            let Some(end) = rest[start..].find('}') else {
                break;
            };
            output.push_str(&rest[..start]);
            let name = &rest[start + 2..start + end];
            if let Some(variable) = self.get(name) {
                output.push_str(&variable.value);
                only_variable = Some((name.to_string(), variable.source.clone()));
            }
            replaced += 1;
            rest = &rest[start + end + 1..];
        }
        output.push_str(rest);
        // `--node-ip=${IP}` is set where IP is set, so a fix edits that file.
        match only_variable {
            Some((name, source)) if replaced == 1 => (output, source, Some(name)),
            _ => (output, line.to_string(), None),
        }
    }
}

fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit()
}

/// Parses an environment file: `NAME=value` lines, `#` and `;` comments, optional quotes.
/// Returns each name, value and 1-based line number.
pub fn parse_environment_file(text: &str) -> Vec<(String, String, usize)> {
    let mut variables = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if !is_variable_name(name) {
            continue;
        }
        variables.push((name.to_string(), unquote(value.trim()), index + 1));
    }
    variables
}

fn unquote(value: &str) -> String {
    let quoted = value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')));
    if quoted {
        value[1..value.len() - 1].to_string()
    } else {
        value.to_string()
    }
}

/// Splits a unit file value into words at whitespace. Double and single quotes group words and
/// are removed, and a backslash keeps the next character as it is.
pub fn split_unit_words(value: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                if let Some(next) = chars.next() {
                    word.push(next);
                }
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_quoted_words() {
        assert_eq!(
            split_unit_words(r#""KUBELET_EXTRA_ARGS=--a=1 --b" X=2"#),
            vec!["KUBELET_EXTRA_ARGS=--a=1 --b", "X=2"]
        );
    }

    #[test]
    fn environment_file_lines() {
        let parsed = parse_environment_file("# c\nA=\"x y\"\n\nB=2\nnot a var\n");
        assert_eq!(
            parsed,
            vec![
                ("A".to_string(), "x y".to_string(), 2),
                ("B".to_string(), "2".to_string(), 4)
            ]
        );
    }
}
