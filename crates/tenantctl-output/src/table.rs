//! The table: for people on a terminal. Rows are held until the end, sorted, and the
//! columns fitted to the terminal width.

use crate::columns::{shown_by_default, sort_rows, Plan};
use crate::dest::Dest;
use crate::text::{table_text, truncate, width as text_width};
use crate::{Sink, TenantOutcome};
use std::borrow::Cow;
use tenantctl_core::rows::{Cell, Column, Kind};

/// Space between columns.
const GAP: usize = 2;
/// A column is not squeezed below its header or this many cells (whichever is wider),
/// unless its content is narrower.
const MIN_CELLS: usize = 8;

pub(crate) struct TableSink {
    plan: Plan,
    dest: Dest,
    width: Option<usize>,
    rows: Vec<Vec<Cell>>,
}

impl TableSink {
    pub fn new(plan: Plan, dest: Dest, width: Option<usize>) -> TableSink {
        TableSink {
            plan,
            dest,
            width,
            rows: Vec::new(),
        }
    }

    /// `--select`'s columns as given; otherwise every column but ids.
    fn visible(&self) -> Vec<usize> {
        if self.plan.explicit_select {
            return self.plan.selected.clone();
        }
        let v: Vec<usize> = self
            .plan
            .selected
            .iter()
            .copied()
            .filter(|&i| shown_by_default(&self.plan.schema[i]))
            .collect();
        if v.is_empty() {
            self.plan.selected.clone()
        } else {
            v
        }
    }
}

impl Sink for TableSink {
    fn write_row(&mut self, cells: Vec<Cell>) -> std::io::Result<()> {
        self.plan.check(&cells)?;
        self.rows.push(cells);
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }

    fn finish(mut self: Box<Self>, _statuses: &[TenantOutcome]) -> std::io::Result<()> {
        sort_rows(&mut self.rows, &self.plan.display_sort);
        let visible = self.visible();
        let columns: Vec<Column> = visible.iter().map(|&i| self.plan.schema[i]).collect();
        let rows: Vec<Vec<Cell>> = std::mem::take(&mut self.rows)
            .into_iter()
            .map(|mut r| {
                visible
                    .iter()
                    .map(|&i| std::mem::replace(&mut r[i], Cell::Null))
                    .collect()
            })
            .collect();
        let text = render_table(&columns, &rows, self.width);
        self.dest.write(text.as_bytes())?;
        self.dest.finish()
    }
}

/// Renders rows as an aligned table: a header of the column names, a rule, one line per row.
///
/// Integers are right-aligned, dates shown to the minute (UTC), lists `, `-joined, booleans
/// yes/no. With `width` (a terminal), long cells are cut with `…`, the widest columns first,
/// no column narrower than its header or 8 cells; columns that still do not fit are left
/// out from the right and named on a last line. Without `width`, nothing is cut.
pub fn render_table(columns: &[Column], rows: &[Vec<Cell>], width: Option<usize>) -> String {
    // Each cell's text and display width, measured once.
    let texts: Vec<Vec<(Cow<'_, str>, usize)>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| {
                    let t = table_text(c);
                    let w = text_width(&t);
                    (t, w)
                })
                .collect()
        })
        .collect();
    let header: Vec<(Cow<'_, str>, usize)> = columns
        .iter()
        .map(|c| (Cow::Borrowed(c.name), text_width(c.name)))
        .collect();
    let natural: Vec<usize> = (0..columns.len())
        .map(|i| texts.iter().map(|r| r[i].1).fold(header[i].1, usize::max))
        .collect();
    let header_widths: Vec<usize> = header.iter().map(|h| h.1).collect();
    let (widths, shown) = match width {
        Some(w) => fit(&natural, &header_widths, w),
        None => (natural.clone(), columns.len()),
    };
    let layout = Layout {
        widths: &widths,
        right: &columns.iter().map(|c| c.kind == Kind::Int).collect::<Vec<_>>(),
    };
    let mut out = String::with_capacity((widths.iter().sum::<usize>() + GAP * shown + 1) * (rows.len() + 2));
    layout.line(&mut out, &header);
    let rule: Vec<(Cow<'_, str>, usize)> = widths.iter().map(|&w| (Cow::Owned("-".repeat(w)), w)).collect();
    layout.line(&mut out, &rule);
    for r in &texts {
        layout.line(&mut out, r);
    }
    if shown < columns.len() {
        let rest: Vec<&str> = columns[shown..].iter().map(|c| c.name).collect();
        let note = format!(
            "({} more column{} not shown: {}; choose columns with --select)",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" },
            rest.join(", ")
        );
        for l in crate::text::wrap(&note, width.unwrap_or(usize::MAX), 0, 1) {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
}

/// Column widths (of the columns shown) and alignments.
struct Layout<'a> {
    widths: &'a [usize],
    right: &'a [bool],
}

impl Layout<'_> {
    /// One line: cells cut and padded to their column, a gap between, no trailing spaces.
    fn line(&self, out: &mut String, cells: &[(Cow<'_, str>, usize)]) {
        let start = out.len();
        for (i, (text, w)) in cells.iter().take(self.widths.len()).enumerate() {
            if i > 0 {
                spaces(out, GAP);
            }
            let col = self.widths[i];
            let cut;
            let (text, w) = if *w > col {
                cut = truncate(text, col);
                (cut.as_str(), text_width(&cut))
            } else {
                (text.as_ref(), *w)
            };
            if self.right[i] {
                spaces(out, col - w);
                out.push_str(text);
            } else {
                out.push_str(text);
                spaces(out, col - w);
            }
        }
        let end = start + out[start..].trim_end_matches(' ').len();
        out.truncate(end);
        out.push('\n');
    }
}

fn spaces(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Column widths for a terminal `total` cells wide, and how many columns (from the left)
/// fit at all.
///
/// Columns shrink from the widest down (a common cap), each to no less than
/// `min(natural, max(header, MIN_CELLS))`; cells left over go back to the capped columns.
fn fit(natural: &[usize], header: &[usize], total: usize) -> (Vec<usize>, usize) {
    let min: Vec<usize> = natural
        .iter()
        .zip(header)
        .map(|(&n, &h)| n.min(h.max(MIN_CELLS)))
        .collect();
    let gaps = |k: usize| GAP * k.saturating_sub(1);
    let mut shown = natural.len();
    while shown > 1 && min[..shown].iter().sum::<usize>() + gaps(shown) > total {
        shown -= 1;
    }
    let natural = &natural[..shown];
    let min = &min[..shown];
    let room = total.saturating_sub(gaps(shown));
    if natural.iter().sum::<usize>() <= room {
        return (natural.to_vec(), shown);
    }
    let at = |cap: usize| -> Vec<usize> { natural.iter().zip(min).map(|(&n, &m)| n.min(cap).max(m)).collect() };
    // The largest cap that fits (binary search: the sum grows with the cap).
    let (mut lo, mut hi) = (0, natural.iter().copied().max().unwrap_or(0));
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if at(mid).iter().sum::<usize>() <= room {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let mut widths = at(lo);
    let mut spare = room.saturating_sub(widths.iter().sum());
    for (w, &n) in widths.iter_mut().zip(natural) {
        if spare == 0 {
            break;
        }
        if *w < n {
            *w += 1;
            spare -= 1;
        }
    }
    (widths, shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_shrinks_the_widest_columns_first() {
        // 10 + 40 + 60 + 2 gaps = 114 into 80: the two wide ones share the cut.
        let (w, shown) = fit(&[10, 40, 60], &[4, 4, 4], 80);
        assert_eq!(shown, 3);
        assert_eq!(w.iter().sum::<usize>() + 4, 80);
        assert_eq!(w[0], 10, "a narrow column keeps its width");
        assert!(w[1].abs_diff(w[2]) <= 1, "{w:?}");
    }

    #[test]
    fn fitting_keeps_headers_and_drops_trailing_columns_when_nothing_else_helps() {
        let (w, shown) = fit(&[20, 20, 20], &[15, 15, 15], 40);
        assert_eq!(shown, 2);
        assert!(w.iter().all(|&x| x >= 15), "{w:?}");
        assert_eq!(fit(&[5, 6], &[3, 3], 80), (vec![5, 6], 2), "fits: untouched");
    }
}
