//! Terminal text: display widths (East Asian wide characters take two cells), truncation
//! with `…`, and how a cell reads in a table.

use std::borrow::Cow;
use tenantctl_core::rows::Cell;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Cells `s` takes on a terminal.
pub(crate) fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` cut to at most `max` cells, ending in `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if width(s) <= max {
        return s.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        out.push(c);
        used += w;
    }
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// A cell as a table shows it: one line, dates to the minute (UTC), lists `, `-joined,
/// booleans yes/no, empty for null.
pub(crate) fn table_text(c: &Cell) -> Cow<'_, str> {
    match c {
        Cell::Null => Cow::Borrowed(""),
        Cell::Text(s) => one_line(Cow::Borrowed(s)),
        Cell::Int(i) => Cow::Owned(i.to_string()),
        Cell::Bool(true) => Cow::Borrowed("yes"),
        Cell::Bool(false) => Cow::Borrowed("no"),
        Cell::DateTime(d) => {
            let d = d.to_offset(time::UtcOffset::UTC);
            Cow::Owned(format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                d.year(),
                d.month() as u8,
                d.day(),
                d.hour(),
                d.minute()
            ))
        }
        Cell::Date(d) => Cow::Owned(tenantctl_core::rows::format_day(*d)),
        Cell::List(v) => one_line(Cow::Owned(v.join(", "))),
    }
}

/// A character a terminal would act on rather than show: control characters (escape
/// sequences, line breaks) and the bidirectional overrides that reorder what is shown.
fn unsafe_on_terminal(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Line breaks, tabs, escape sequences and bidi overrides become spaces: a row stays one
/// line and tenant data cannot drive the terminal (probe D18).
pub(crate) fn one_line(s: Cow<'_, str>) -> Cow<'_, str> {
    if s.chars().any(unsafe_on_terminal) {
        Cow::Owned(s.chars().map(|c| if unsafe_on_terminal(c) { ' ' } else { c }).collect())
    } else {
        s
    }
}

/// Words of `text` in lines of at most `max` cells; the first line starts after `first`
/// cells already used and keeps `text`'s leading spaces, the others start with `indent`
/// spaces. A word longer than a line is cut.
pub(crate) fn wrap(text: &str, max: usize, first: usize, indent: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let body = text.trim_start_matches(' ');
    let mut line = " ".repeat(text.len() - body.len());
    let mut used = first + line.len();
    let mut start = true;
    for word in body.split(' ').filter(|w| !w.is_empty()) {
        let w = width(word);
        let sep = usize::from(!start);
        if !start && used + sep + w > max {
            lines.push(std::mem::take(&mut line));
            line.push_str(&" ".repeat(indent));
            used = indent;
            start = true;
        }
        if !start {
            line.push(' ');
            used += 1;
        }
        let room = max.saturating_sub(used).max(1);
        let word = truncate(word, room);
        used += width(&word);
        line.push_str(&word);
        start = false;
    }
    lines.push(line);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn east_asian_characters_take_two_cells() {
        assert_eq!(width("日本語"), 6);
        assert_eq!(width("Jürgen"), 6);
        assert_eq!(truncate("日本語テスト", 5), "日本…");
        assert_eq!(
            width(&truncate("日本語テスト", 6)),
            5,
            "a wide char never straddles the edge"
        );
        assert_eq!(truncate("abcdef", 6), "abcdef");
        assert_eq!(truncate("abcdefg", 6), "abcde…");
        assert_eq!(truncate("abcd efgh", 6), "abcd…", "no space before the ellipsis");
    }

    #[test]
    fn table_text_is_one_line() {
        assert_eq!(table_text(&Cell::Text("two\nlines\tx".into())), "two lines x");
        assert_eq!(table_text(&Cell::List(vec!["a".into(), "b".into()])), "a, b");
        assert_eq!(table_text(&Cell::Bool(false)), "no");
    }

    #[test]
    fn wrap_breaks_at_spaces() {
        assert_eq!(wrap("aa bb cc dd", 8, 0, 2), ["aa bb cc", "  dd"]);
        assert_eq!(wrap("aa bb", 8, 5, 2), ["aa", "  bb"]);
        assert_eq!(wrap("  aa bb cc", 8, 0, 4), ["  aa bb", "    cc"]);
    }
}
