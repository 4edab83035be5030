//! docs/checks.md lists every check and finding code with its default severity and description.
//! It is generated from the catalog, so this test fails when a code is added, renamed or
//! reworded without the page following. `NODE_DOCTOR_UPDATE_DOCS=1 cargo test --test codes_doc`
//! writes the page again.

use std::collections::HashSet;
use std::path::Path;

use node_doctor::check::Code;
use node_doctor::checks;

fn render_catalog() -> String {
    let mut page = String::from(
        "# Checks and finding codes\n\n\
         Generated from the code catalog by `NODE_DOCTOR_UPDATE_DOCS=1 cargo test --test codes_doc`.\n\
         Codes are `<check-id>/<problem>` and stable: alerts key on them, so a code is never renamed\n\
         or reused. `node-doctor explain CODE` prints the same text.\n",
    );
    for check in checks::builtin() {
        page.push_str(&format!(
            "\n## `{}`\n\n{}.\n\n",
            check.id(),
            capitalize(check.title())
        ));
        page.push_str("| code | default severity | meaning |\n|---|---|---|\n");
        for code in Code::of_check(check.id()) {
            page.push_str(&format!(
                "| `{}` | {} | {} |\n",
                code.as_str(),
                code.default_severity(),
                code.description().replace('|', "\\|")
            ));
        }
    }
    page
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[test]
fn checks_page_matches_catalog() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/checks.md");
    let rendered = render_catalog();
    if std::env::var_os("NODE_DOCTOR_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &rendered).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == rendered,
        "docs/checks.md is out of date; run NODE_DOCTOR_UPDATE_DOCS=1 cargo test --test codes_doc"
    );
}

#[test]
fn every_code_belongs_to_a_check() {
    let ids: HashSet<&str> = checks::builtin().iter().map(|check| check.id()).collect();
    for code in Code::ALL {
        assert!(
            ids.contains(code.check_id()),
            "{code} names no registered check"
        );
    }
}

#[test]
fn every_check_has_codes() {
    for check in checks::builtin() {
        assert!(
            Code::of_check(check.id()).next().is_some(),
            "{} has no codes",
            check.id()
        );
    }
}

#[test]
fn check_ids_are_unique() {
    let mut seen = HashSet::new();
    for check in checks::builtin() {
        assert!(seen.insert(check.id()), "duplicate check id {}", check.id());
    }
}
