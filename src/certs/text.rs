//! The text form of `node-doctor certs`: kubeadm's two tables, byte for byte.
//!
//! Row formats are kubeadm's (cmd/kubeadm/app/cmd/certs.go): `%s\t%s\t%s\t%s\t%-8v` for a
//! certificate, `!MISSING! %s\t\t\t\t` for an absent one, and the CA table after an empty line
//! with one column less. A row kubeadm cannot print because the file is broken is shown as
//! `!UNREADABLE! <name>` in the missing-row layout, and the reason follows the tables.

use std::fmt::Write as _;

use jiff::Timestamp;

use super::human_duration::short_human_duration;
use super::inventory::{Entry, Inventory, State};
use super::residual_seconds;
use super::tabwriter::KUBEADM;

const CERTIFICATE_HEADER: &str =
    "CERTIFICATE\tEXPIRES\tRESIDUAL TIME\tCERTIFICATE AUTHORITY\tEXTERNALLY MANAGED";
const AUTHORITY_HEADER: &str = "CERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\tEXTERNALLY MANAGED";

/// Renders both tables, then one line per unreadable file.
pub fn render(inventory: &Inventory, now: Timestamp) -> String {
    let mut table = String::new();
    let _ = writeln!(table, "{CERTIFICATE_HEADER}");
    for entry in &inventory.certificates {
        let _ = writeln!(table, "{}", certificate_row(entry, now));
    }
    if inventory.control_plane {
        let _ = writeln!(table);
        let _ = writeln!(table, "{AUTHORITY_HEADER}");
        for entry in &inventory.authorities {
            let _ = writeln!(table, "{}", authority_row(entry, now));
        }
    }

    let mut out = KUBEADM.format(&table);
    out.push_str(&unreadable_notes(inventory));
    out
}

fn certificate_row(entry: &Entry, now: Timestamp) -> String {
    let name = entry.spec.name;
    match &entry.state {
        State::Present(certificate) => format!(
            "{name}\t{}\t{}\t{}\t{:<8}",
            format_expiry(certificate.not_after),
            short_human_duration(residual_seconds(certificate.not_after, now)),
            entry.spec.ca_name,
            yes_no(entry.externally_managed),
        ),
        State::Missing => format!("!MISSING! {name}\t\t\t\t"),
        State::Unreadable(_) => format!("!UNREADABLE! {name}\t\t\t\t"),
    }
}

fn authority_row(entry: &Entry, now: Timestamp) -> String {
    let name = entry.spec.name;
    match &entry.state {
        State::Present(certificate) => format!(
            "{name}\t{}\t{}\t{:<8}",
            format_expiry(certificate.not_after),
            short_human_duration(residual_seconds(certificate.not_after, now)),
            yes_no(entry.externally_managed),
        ),
        State::Missing => format!("!MISSING! {name}\t\t\t"),
        State::Unreadable(_) => format!("!UNREADABLE! {name}\t\t\t"),
    }
}

fn unreadable_notes(inventory: &Inventory) -> String {
    let mut notes = String::new();
    for entry in inventory.entries() {
        if let State::Unreadable(message) = &entry.state {
            let _ = writeln!(notes, "{}: unreadable: {message}", entry.spec.name);
        }
    }
    if notes.is_empty() {
        return notes;
    }
    format!("\n{notes}")
}

/// Formats a time as Go's layout `Jan 02, 2006 15:04 MST` in UTC.
pub fn format_expiry(time: Timestamp) -> String {
    time.strftime("%b %d, %Y %H:%M UTC").to_string()
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}
