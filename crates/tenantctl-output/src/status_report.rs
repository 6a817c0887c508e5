//! The stderr report of tenants that did not end `ok`: one block per status.

use crate::text::{truncate, width, wrap};
use std::collections::BTreeMap;
use tenantctl_core::status::{TenantOutcome, TenantStatus};

/// The tenants that did not end `ok`, grouped by status, fitted to `width` cells:
///
/// ```text
/// consent_missing (2 tenants): the partner app is not consented in this tenant; push
///   consent (Partner Center applicationconsents) or ask the customer's admin
///   Coho Textiles SA, Fabrikam Properties AB
/// ```
///
/// Groups come largest first; each gives its advice once, then the tenant names (sorted).
/// When every tenant of a group failed with the same detail, it is shown once (`cause:`).
/// `verbose` lists one tenant a line with its id and detail instead. Empty when all are ok.
/// Tenant data shown on the terminal: no control characters or bidi overrides.
fn safe(s: &str) -> String {
    crate::text::one_line(std::borrow::Cow::Borrowed(s)).into_owned()
}

pub fn render_status_report(outcomes: &[TenantOutcome], width: usize, verbose: bool) -> String {
    let width = width.max(20);
    let mut groups: BTreeMap<TenantStatus, Vec<&TenantOutcome>> = BTreeMap::new();
    for o in outcomes.iter().filter(|o| !o.status.is_ok()) {
        groups.entry(o.status).or_default().push(o);
    }
    let mut groups: Vec<(TenantStatus, Vec<&TenantOutcome>)> = groups.into_iter().collect();
    groups.sort_by_key(|(s, v)| (std::cmp::Reverse(v.len()), *s));
    let mut out = String::new();
    for (status, mut tenants) in groups {
        tenants.sort_by_key(|o| (o.tenant_name.to_lowercase(), o.tenant_name.clone()));
        let n = tenants.len();
        let head = format!(
            "{status} ({n} tenant{}): {}",
            if n == 1 { "" } else { "s" },
            status.hint()
        );
        push_lines(&mut out, wrap(&head, width, 0, 2));
        if verbose {
            for o in &tenants {
                let mut line = format!("  {} ({})", safe(&o.tenant_name), o.tenant_id);
                if !o.detail.is_empty() {
                    line.push_str(": ");
                    line.push_str(&safe(&o.detail));
                }
                push_lines(&mut out, wrap(&line, width, 0, 4));
            }
            continue;
        }
        let detail = &tenants[0].detail;
        if !detail.is_empty() && tenants.iter().all(|o| &o.detail == detail) {
            push_lines(&mut out, wrap(&format!("  cause: {}", safe(detail)), width, 0, 4));
        }
        let safe_names: Vec<String> = tenants.iter().map(|o| safe(&o.tenant_name)).collect();
        let names: Vec<&str> = safe_names.iter().map(String::as_str).collect();
        push_lines(&mut out, wrap_items(&names, width, 2));
    }
    out
}

fn push_lines(out: &mut String, lines: Vec<String>) {
    for l in lines {
        out.push_str(l.trim_end());
        out.push('\n');
    }
}

/// `items` `, `-separated on lines of at most `max` cells, each line indented; an item is
/// never split across lines (one longer than a line is cut with `…`).
fn wrap_items(items: &[&str], max: usize, indent: usize) -> Vec<String> {
    let pad = " ".repeat(indent);
    let mut lines = Vec::new();
    let mut line = pad.clone();
    let mut used = indent;
    for (i, item) in items.iter().enumerate() {
        let sep = if i + 1 < items.len() { "," } else { "" };
        let item = truncate(item, max.saturating_sub(indent + 1).max(1));
        let w = width(&item) + sep.len();
        if used > indent && used + 1 + w > max {
            lines.push(std::mem::replace(&mut line, pad.clone()));
            used = indent;
        }
        if used > indent {
            line.push(' ');
            used += 1;
        }
        line.push_str(&item);
        line.push_str(sep);
        used += w;
    }
    lines.push(line);
    lines
}
