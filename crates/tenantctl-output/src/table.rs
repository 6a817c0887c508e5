//! The table: for people on a terminal. Rows are held until the end, sorted, and the
//! columns fitted to the terminal width.

use crate::columns::{shown_by_default, sort_rows, Plan};
use crate::dest::Dest;
use crate::text::{pad, table_text, truncate};
use crate::{Sink, TenantOutcome};
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
    let texts: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(table_text).collect()).collect();
    let header: Vec<usize> = columns.iter().map(|c| crate::text::width(c.name)).collect();
    let natural: Vec<usize> = (0..columns.len())
        .map(|i| {
            texts
                .iter()
                .map(|r| crate::text::width(&r[i]))
                .fold(header[i], usize::max)
        })
        .collect();
    let (widths, shown) = match width {
        Some(w) => fit(&natural, &header, w),
        None => (natural.clone(), columns.len()),
    };
    let right: Vec<bool> = columns.iter().map(|c| c.kind == Kind::Int).collect();
    let line = |cells: &mut dyn Iterator<Item = String>| {
        let mut s = String::new();
        for (i, c) in cells.take(shown).enumerate() {
            if i > 0 {
                s.push_str(&" ".repeat(GAP));
            }
            s.push_str(&pad(&truncate(&c, widths[i]), widths[i], right[i]));
        }
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let mut out = line(&mut columns.iter().map(|c| c.name.to_owned()));
    out.push_str(&line(&mut widths.iter().map(|w| "-".repeat(*w))));
    for r in texts {
        out.push_str(&line(&mut r.into_iter()));
    }
    if shown < columns.len() {
        let rest: Vec<&str> = columns[shown..].iter().map(|c| c.name).collect();
        let note = format!(
            "({} more column{} not shown: {}; choose columns with --select)",
            rest.len(),
            if rest.len() == 1 { "" } else { "s" },
            rest.join(", ")
        );
        let max = width.unwrap_or(usize::MAX);
        for l in crate::text::wrap(&note, max, 0, 1) {
            out.push_str(&l);
            out.push('\n');
        }
    }
    out
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
