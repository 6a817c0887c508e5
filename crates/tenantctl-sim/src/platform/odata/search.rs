//! `$search`: quoted `"property:term"` clauses joined by AND/OR (aad-advanced-queries).

use super::*;

fn invalid_search() -> QueryError {
    bad("Request_UnsupportedQuery", "Invalid $search clause.")
}

/// `"displayName:wa" OR "displayName:to" AND "mail:x"` (AND binds tighter).
pub(super) fn parse_search(s: &str, spec: &EntitySpec) -> Result<Vec<Vec<(String, String)>>, QueryError> {
    let mut groups: Vec<Vec<(String, String)>> = vec![vec![]];
    let mut rest = s.trim();
    let mut expect_clause = true;
    while !rest.is_empty() {
        if expect_clause {
            let body = rest.strip_prefix('"').ok_or_else(invalid_search)?;
            let end = body.find('"').ok_or_else(invalid_search)?;
            let clause = &body[..end];
            rest = body[end + 1..].trim_start();
            let (prop, term) = clause.split_once(':').ok_or_else(invalid_search)?;
            let canon = spec
                .searchable
                .iter()
                .find(|p| p.eq_ignore_ascii_case(prop.trim()))
                .ok_or_else(|| {
                    bad(
                        "Request_UnsupportedQuery",
                        format!(
                            "Unsupported or invalid query search clause specified for property '{}' of resource '{}'.",
                            prop.trim(),
                            spec.resource
                        ),
                    )
                })?;
            groups
                .last_mut()
                .expect("a group")
                .push((canon.to_string(), term.trim().to_owned()));
            expect_clause = false;
        } else {
            let (word, after) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            match word {
                "AND" => {}
                "OR" => groups.push(vec![]),
                _ => return Err(invalid_search()),
            }
            rest = after.trim_start();
            expect_clause = true;
        }
    }
    if expect_clause {
        return Err(invalid_search());
    }
    Ok(groups)
}

/// Directory `$search` matches the start of any word of the value (tokenised on non-alphanumerics).
pub(super) fn search_match(v: &Value, term: &str) -> bool {
    let Some(s) = v.as_str() else { return false };
    let term = term.to_lowercase();
    let s = s.to_lowercase();
    s.starts_with(&term) || s.split(|c: char| !c.is_alphanumeric()).any(|w| w.starts_with(&term))
}
