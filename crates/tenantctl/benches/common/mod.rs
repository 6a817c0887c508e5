//! What the benchmarks read of a process from `/proc` (Linux), shared by `fleet_bench` and
//! `perf_bench`.
#![allow(dead_code)]

/// A `VmHWM:`-style field of `/proc/<pid>/status`, in kB (0 when unreadable).
pub fn proc_field(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The state letter and utime + stime (seconds) of a process; `None` once it is gone.
pub fn proc_stat(pid: u32) -> Option<(char, f64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = s.rsplit(')').next()?;
    let f: Vec<&str> = after.split_whitespace().collect();
    let state = f.first()?.chars().next()?;
    let ticks = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some((state, ticks as f64 / 100.0))
}

/// utime + stime of a live process, in seconds (0 once it is gone).
pub fn cpu_secs(pid: u32) -> f64 {
    proc_stat(pid).map_or(0.0, |(_, c)| c)
}
