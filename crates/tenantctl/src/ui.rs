//! What every command shares on the terminal side: output sinks for typed rows, progress,
//! Ctrl-C, closed pipes, the status report and the exit code, and the question before writes.

use crate::args::{FanoutArgs, FormatArg, Global, OutputArgs};
use crate::progress::Progress;
use anyhow::{anyhow, bail, Context, Result};
use std::io::{IsTerminal, Write};
use tenantctl_core::rows::{Column, Row, Tenanted};
use tenantctl_core::TenantStatus;
use tenantctl_ops::targets;
use tenantctl_ops::{Flow, RunOptions, Session, Stop, Summary, TenantResult};
use tenantctl_output::{self as output, Format, OutputSpec, Sink};

/// Exit code of an interrupted run (128 + SIGINT), as shells report it.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Run options with a Ctrl-C handler that stops the fan-out.
pub fn run_options(f: &FanoutArgs) -> RunOptions {
    let stop = Stop::new();
    let s = stop.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            s.fire();
        }
    });
    RunOptions {
        limits: f.limits(),
        stop,
    }
}

fn format_of(a: Option<FormatArg>) -> Option<Format> {
    a.map(|f| match f {
        FormatArg::Table => Format::Table,
        FormatArg::Json => Format::Json,
        FormatArg::Jsonl => Format::Jsonl,
        FormatArg::Csv => Format::Csv,
        FormatArg::Xlsx => Format::Xlsx,
    })
}

/// The width of the terminal on stdout (none when stdout is a file or a pipe).
fn terminal_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    terminal_size::terminal_size()
        .map(|(w, _)| w.0 as usize)
        .or_else(|| std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()))
        .or(Some(80))
}

fn stderr_width() -> usize {
    terminal_size::terminal_size_of(std::io::stderr())
        .map(|(w, _)| w.0 as usize)
        .unwrap_or(160)
}

/// Checks before any work that `--status-out` can be written (probe D19: a missing directory
/// failed only after the whole run). Creates nothing.
pub fn check_status_out(o: &OutputArgs) -> Result<()> {
    let Some(p) = &o.status_out else {
        return Ok(());
    };
    let dir = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if p.is_dir() {
        bail!("--status-out {}: is a directory; give a file name", p.display());
    }
    tempfile::tempfile_in(dir)
        .map(drop)
        .with_context(|| format!("--status-out {}: cannot write in {}", p.display(), dir.display()))
}

/// Opens the sink for a schema, from the output flags.
pub fn open_sink(o: &OutputArgs, schema: Vec<Column>, default_sort: &[&'static str]) -> Result<Box<dyn Sink>> {
    check_status_out(o)?;
    if o.select.iter().any(|s| s.eq_ignore_ascii_case("help")) {
        println!("{}", schema.iter().map(|c| c.name).collect::<Vec<_>>().join(","));
        std::process::exit(0);
    }
    let spec = output_spec(o, default_sort);
    output::open(&spec, schema, std::io::stdout().is_terminal()).map_err(|e| anyhow!("{e}"))
}

/// Whether stdout is a terminal (the table then fits its width).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// The output flags as the output crate takes them (`--status-out` is checked by
/// [`check_status_out`]).
pub fn output_spec(o: &OutputArgs, default_sort: &[&'static str]) -> OutputSpec {
    OutputSpec {
        format: format_of(o.format),
        out: o.out.clone(),
        select: o.select.clone(),
        sort: o.sort.clone(),
        default_sort: default_sort.to_vec(),
        bom: o.bom,
        excel_safe: o.excel_safe,
        terminal_width: terminal_width(),
        query: o.query.clone(),
    }
}

/// Writes a whole list of rows (a write's results, a plan) with the output flags.
pub fn write_rows<R: Row>(output: &OutputArgs, rows: &[R]) -> Result<()> {
    let sink = open_sink(output, R::columns().to_vec(), &[])?;
    let mut w = RowWriter::new(sink, 0, true);
    w.all(rows);
    w.finish(None)?;
    Ok(())
}

/// Writes rows to a sink as tenants finish; stops the run when the output is gone.
pub struct RowWriter {
    sink: Option<Box<dyn Sink>>,
    progress: Progress,
    /// The reader went away (`| head`): stop quietly.
    pub pipe_closed: bool,
    error: Option<std::io::Error>,
}

impl RowWriter {
    pub fn new(sink: Box<dyn Sink>, tenants: usize, quiet: bool) -> RowWriter {
        RowWriter::streamed(
            sink,
            std::sync::Arc::new(tenantctl_fanout::TargetCount::known(tenants)),
            quiet,
        )
    }

    /// A writer whose tenants are still being named (see [`tenantctl_fanout::Targets`]).
    pub fn streamed(
        sink: Box<dyn Sink>,
        tenants: std::sync::Arc<tenantctl_fanout::TargetCount>,
        quiet: bool,
    ) -> RowWriter {
        RowWriter {
            sink: Some(sink),
            progress: Progress::streamed(tenants, quiet),
            pipe_closed: false,
            error: None,
        }
    }

    fn write(&mut self, rows: impl Iterator<Item = Vec<tenantctl_core::rows::Cell>>) -> Flow {
        if self.pipe_closed || self.error.is_some() {
            return Flow::Stop;
        }
        let sink = self.sink.as_mut().expect("open until finished");
        let r = rows
            .into_iter()
            .try_for_each(|c| sink.write_row(c))
            .and_then(|_| sink.flush());
        match r {
            Ok(()) => Flow::Continue,
            Err(e) if output::is_broken_pipe(&e) => {
                self.pipe_closed = true;
                Flow::Stop
            }
            Err(e) => {
                self.error = Some(e);
                Flow::Stop
            }
        }
    }

    /// A fan-out's `on_done` for per-tenant rows.
    pub fn tenant<R: Row>(&mut self, r: TenantResult<R>) -> Flow {
        self.progress.tenant_done(r.outcome.status.is_ok(), r.outcome.rows);
        let id = r.target.id.to_string();
        let name = &r.target.name;
        self.write(r.items.iter().map(|row| Tenanted::cells_of(&id, name, row)))
    }

    /// A fan-out's `on_done` for rows that carry their tenant themselves.
    pub fn plain<R: Row>(&mut self, r: TenantResult<R>) -> Flow {
        self.progress.tenant_done(r.outcome.status.is_ok(), r.outcome.rows);
        self.write(r.items.iter().map(|x| x.cells()))
    }

    /// Writes a whole list of rows (commands without a fan-out).
    pub fn all<R: Row>(&mut self, rows: &[R]) -> Flow {
        self.write(rows.iter().map(|x| x.cells()))
    }

    /// Ends the output (unless the reader went away) and the progress line.
    pub fn finish(mut self, s: Option<&Summary>) -> Result<bool> {
        self.progress.finish();
        if let Some(e) = self.error.take() {
            return Err(anyhow!("writing the output: {e}"));
        }
        if self.pipe_closed {
            return Ok(false);
        }
        let statuses = s.map(|s| s.outcomes.as_slice()).unwrap_or(&[]);
        match self.sink.take().expect("finished once").finish(statuses) {
            Ok(()) => Ok(true),
            Err(e) if output::is_broken_pipe(&e) => Ok(false),
            Err(e) => Err(anyhow!("writing the output: {e}")),
        }
    }
}

/// Ends a fan-out command: output, `--status-out`, the report of not-ok tenants and a summary
/// on stderr; returns the exit code (0 when the reader of the output went away).
pub fn finish(
    g: &Global,
    o: &OutputArgs,
    w: RowWriter,
    summary: &Summary,
    session: &Session,
    stop: &Stop,
) -> Result<i32> {
    let completed = w.finish(Some(summary))?;
    conclude(g, o, completed, summary, session, stop)
}

/// [`finish`] for a run over streamed targets ([`targets::select_streamed`]): a customer list
/// that broke off part-way is an error once the tenants it named are written and summed up.
pub fn finish_listed(
    g: &Global,
    o: &OutputArgs,
    w: RowWriter,
    summary: &Summary,
    session: &Session,
    stop: &Stop,
    listing: targets::ListingCheck,
) -> Result<i32> {
    let code = finish(g, o, w, summary, session, stop)?;
    listing.result()?;
    Ok(code)
}

/// The end of a fan-out command once its output is written (`completed` false: the reader
/// went away, exit quietly): the status report and the exit code.
pub fn conclude(
    g: &Global,
    o: &OutputArgs,
    completed: bool,
    summary: &Summary,
    session: &Session,
    stop: &Stop,
) -> Result<i32> {
    if !completed {
        return Ok(0);
    }
    report(g, o, summary, session)?;
    if stop.is_fired() {
        eprintln!(
            "interrupted: {} of {} tenants finished; the others are `cancelled`",
            summary.outcomes.len() - summary.count(TenantStatus::Cancelled),
            summary.outcomes.len()
        );
        return Ok(EXIT_INTERRUPTED);
    }
    Ok(summary.exit_code())
}

/// `--status-out`, the not-ok tenants grouped by status, and a one-line summary.
pub fn report(g: &Global, o: &OutputArgs, s: &Summary, session: &Session) -> Result<()> {
    if let Some(p) = &o.status_out {
        let text = serde_json::to_string_pretty(&s.outcomes)?;
        std::fs::write(p, text).with_context(|| format!("--status-out {}", p.display()))?;
    }
    let mut err = std::io::stderr().lock();
    let text = output::render_status_report(&s.outcomes, stderr_width(), g.verbose > 0);
    if !text.is_empty() {
        write!(err, "{text}")?;
    }
    if let Some(f) = &s.fatal {
        writeln!(err, "error: stopped: {f}")?;
    }
    if !g.quiet {
        let mut counts: std::collections::BTreeMap<TenantStatus, usize> = Default::default();
        for x in &s.outcomes {
            *counts.entry(x.status).or_default() += 1;
        }
        let parts: Vec<String> = counts.iter().map(|(k, v)| format!("{v} {k}")).collect();
        let rows: u64 = s.outcomes.iter().map(|x| x.rows).sum();
        let (requests, retries, throttled) = session.request_stats();
        let n = s.outcomes.len();
        writeln!(
            err,
            "{n} {}: {}; {rows} rows; {requests} requests, {retries} retried, {throttled} throttled",
            if n == 1 { "tenant" } else { "tenants" },
            parts.join(", ")
        )?;
    }
    Ok(())
}

/// Prints every problem of the input (stderr), one per line.
pub fn print_problems(problems: &[tenantctl_core::bulk::RowError]) {
    for p in problems {
        eprintln!("{p}");
    }
}

/// Asks before a write: always on a terminal, and for more than one tenant; `--yes` skips it;
/// without a terminal a write to several tenants refuses unless `--yes` is given.
pub fn confirm_write(session: &Session, what: &str, rows: usize, tenants: usize, yes: bool) -> Result<()> {
    let on_terminal = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if yes || rows == 0 || (!on_terminal && tenants <= 1) {
        return Ok(());
    }
    let question = format!(
        "{what}: {rows} change(s) in {tenants} customer tenant(s) of partner {} (profile {})",
        session.partner(),
        session.profile
    );
    if !on_terminal {
        bail!("{question}; nothing was changed: without a terminal to confirm on, give --yes to apply");
    }
    eprint!("{question}. Apply? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
        Ok(())
    } else {
        bail!("nothing was changed")
    }
}

/// Writes a dynamic output (rows whose columns are known at the end); false when the reader
/// went away.
pub fn finish_dynamic(sink: tenantctl_output::DynamicSink, statuses: &[tenantctl_core::TenantOutcome]) -> Result<bool> {
    match sink.finish(statuses) {
        Ok(()) => Ok(true),
        Err(tenantctl_output::DynamicError::Io(e)) if output::is_broken_pipe(&e) => Ok(false),
        Err(e) => Err(anyhow!("writing the output: {e}")),
    }
}
