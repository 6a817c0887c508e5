//! `tenantctl`: administer and report on all of a Microsoft 365 partner's customer tenants.
//! The binary is thin: flags (clap) in, one file per command calling `tenantctl-ops`.

mod args;
mod cli;
mod commands;
mod progress;
mod ui;

use clap::Parser;

/// glibc's malloc, tuned for a fan-out (docs/performance.md):
/// - it raises its mmap threshold each time a large block is freed, up to 32 MiB, after which
///   the 100–400 KiB response bodies of a fan-out are carved from the heap and their freed
///   space is not returned: at 10,000 tenants the peak RSS was twice the peak heap. A fixed
///   threshold keeps such blocks in their own mappings, given back when freed;
/// - it gives threads arenas of their own (up to 8 per core), each keeping its own free
///   space: one arena for the process cut the peak RSS at 10,000 tenants by 7–12 MiB (the
///   runtime's few threads allocate from their per-thread caches first).
///
/// A user's own `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES` arena setting is left as it is.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let user_arenas = std::env::var_os("MALLOC_ARENA_MAX").is_some()
            || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("arena_max"));
        // SAFETY: mallopt only sets an allocator parameter; called before any thread starts.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
            if !user_arenas {
                libc::mallopt(libc::M_ARENA_MAX, 1);
            }
        }
    }
}

fn main() {
    tune_malloc();
    // `exo`'s long options may follow the cmdlet: put them where clap looks.
    let argv = commands::exo::hoist_options(std::env::args_os().collect());
    let cli = match cli::Cli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    cli::init_tracing(cli.global.verbose);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = match rt.block_on(commands::exec(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    std::process::exit(code);
}
