//! `tenantctl-sim serve`: run the simulator standalone.

use clap::{Parser, Subcommand};
use tenantctl_sim::cli::ServeArgs;

#[derive(Parser)]
#[command(
    name = "tenantctl-sim",
    version,
    about = "A local simulator of Microsoft identity, Graph and Partner Center for a CSP partner and its customers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the simulator; prints one JSON line (base_url, credentials) once ready.
    Serve(ServeArgs),
}

fn main() {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("TENANTCTL_SIM_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let Command::Serve(args) = cli.command;
    if let Err(e) = args.config() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = rt.block_on(tenantctl_sim::cli::serve(&args)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
