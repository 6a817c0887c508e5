//! `tenantctl`: administer and report on all of a Microsoft 365 partner's customer tenants.
//! The binary is thin: flags (clap) in, a command in `commands`, records out through `output`.

mod commands;
mod config;
mod import;
mod output;
mod progress;
mod writes;

use clap::{Args, Parser, Subcommand};
use output::Format;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "tenantctl",
    version,
    about = "Administer and report on all of a Microsoft 365 partner's customer tenants at once",
    after_help = "Try it without a tenant: tenantctl --sandbox users list --all-tenants -o csv --out users.csv"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Run against the built-in simulator (seed 1, 30 customers), started in-process.
    #[arg(long, global = true)]
    pub sandbox: bool,
    /// Put every service under this base URL with the simulator's prefixes (/login, /graph,
    /// /partnercenter, /outlook), e.g. a `tenantctl sim serve` started elsewhere.
    #[arg(long, global = true, env = "TENANTCTL_ENDPOINT", value_name = "URL")]
    pub endpoint: Option<String>,
    /// Cloud: global, usgov (GCC High), usgovdod, china (21Vianet) or custom.
    #[arg(long, global = true, value_name = "CLOUD")]
    pub cloud: Option<String>,
    /// Profile in the config file (<config dir>/tenantctl/config.toml).
    #[arg(long, global = true, default_value = "default", env = "TENANTCTL_PROFILE")]
    pub profile: String,
    /// Output format (default: table on a terminal, else from --out's extension, else csv).
    #[arg(short = 'o', long, global = true, value_enum)]
    pub output: Option<Format>,
    /// Write the rows to FILE instead of stdout.
    #[arg(long, global = true, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write every tenant's status (JSON) to FILE.
    #[arg(long, global = true, value_name = "FILE")]
    pub status_out: Option<PathBuf>,
    /// Tenants worked on at once.
    #[arg(long, global = true, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub concurrency: u16,
    /// Requests at once within one tenant.
    #[arg(long, global = true, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub per_tenant: u16,
    /// More detail on stderr (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// No progress and no summary on stderr (failed tenants are still listed).
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

/// Which customer tenants a command runs in.
#[derive(Args, Debug, Clone, Default)]
pub struct TenantArgs {
    /// A customer tenant by id, domain or name (repeatable).
    #[arg(long = "tenant", short = 't', value_name = "ID|DOMAIN|NAME")]
    pub tenants: Vec<String>,
    /// Every customer tenant.
    #[arg(long, conflicts_with = "tenants")]
    pub all_tenants: bool,
    /// Leave out a tenant (id, domain or name; repeatable).
    #[arg(long, value_name = "ID|DOMAIN|NAME")]
    pub exclude: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The partner's customers: tenant id, name, default domain, relationship status.
    Customers {
        #[command(subcommand)]
        cmd: CustomersCmd,
    },
    /// GDAP relationships: roles, end dates, days left, auto-extend.
    Relationships {
        #[command(subcommand)]
        cmd: RelationshipsCmd,
    },
    /// Customer domains.
    Domains {
        #[command(subcommand)]
        cmd: DomainsCmd,
    },
    /// Customer users and their licences.
    Users {
        #[command(subcommand)]
        cmd: UsersCmd,
    },
    /// Subscribed licences: bought, assigned, free.
    Licenses {
        #[command(subcommand)]
        cmd: LicensesCmd,
    },
    /// Sign the partner's admin in (device code) and store the refresh token (file 0600).
    Login {
        /// Use the device code flow (the only interactive flow tenantctl offers).
        #[arg(long, required = true)]
        device_code: bool,
    },
    /// The simulator of Microsoft's services.
    Sim {
        #[command(subcommand)]
        cmd: SimCmd,
    },
}

#[derive(Subcommand, Debug)]
pub enum CustomersCmd {
    /// List every customer.
    List {
        /// Where the list comes from.
        #[arg(long, value_enum, default_value = "graph")]
        source: commands::SourceArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum RelationshipsCmd {
    /// List GDAP relationships (those ending within 30 days are flagged `endingSoon`).
    List {
        /// Only these customers (id, domain or name; repeatable).
        #[arg(long = "tenant", short = 't', value_name = "ID|DOMAIN|NAME")]
        tenants: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum DomainsCmd {
    /// List domains: name, default, initial, verified, authentication type, services.
    List {
        #[command(flatten)]
        tenants: TenantArgs,
    },
    /// Add a domain to a customer and print the DNS records that prove ownership.
    Add {
        /// The domain, e.g. contoso.com.
        name: String,
        #[arg(long = "tenant", short = 't', value_name = "ID|DOMAIN|NAME", required = true)]
        tenant: String,
        /// Show what would change; change nothing.
        #[arg(long)]
        what_if: bool,
    },
    /// Verify a domain once its TXT record is published.
    Verify {
        name: String,
        #[arg(long = "tenant", short = 't', value_name = "ID|DOMAIN|NAME", required = true)]
        tenant: String,
    },
    /// The DNS records the domain's services need (MX, SPF, autodiscover...).
    Records {
        name: String,
        #[arg(long = "tenant", short = 't', value_name = "ID|DOMAIN|NAME", required = true)]
        tenant: String,
        /// Print a BIND zone-file fragment instead of rows.
        #[arg(long)]
        zone: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum UsersCmd {
    /// List users with their licences (part numbers and friendly names).
    List {
        #[command(flatten)]
        tenants: TenantArgs,
        /// An OData $filter passed to Graph, e.g. "accountEnabled eq false".
        #[arg(long, value_name = "ODATA")]
        filter: Option<String>,
        /// Only users with at least one licence.
        #[arg(long, conflicts_with = "unlicensed")]
        licensed: bool,
        /// Only users without a licence.
        #[arg(long)]
        unlicensed: bool,
        /// Only users holding this SKU (part number like SPB, or skuId).
        #[arg(long, value_name = "PART_NUMBER|GUID")]
        sku: Option<String>,
    },
    /// Create one user (and license it).
    Create {
        #[arg(long = "tenant", short = 't', value_name = "ID|DOMAIN|NAME", required = true)]
        tenant: String,
        #[arg(long, value_name = "UPN")]
        upn: String,
        #[arg(long)]
        display_name: String,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        /// Two-letter country code (needed for a licence).
        #[arg(long)]
        usage_location: Option<String>,
        /// A licence to assign (part number or skuId; repeatable).
        #[arg(long = "license", value_name = "PART_NUMBER|GUID")]
        licenses: Vec<String>,
        /// Read the password from the first line of stdin (else one is generated).
        #[arg(long)]
        password_stdin: bool,
        /// Where generated passwords go (CSV, created 0600).
        #[arg(long, value_name = "FILE")]
        passwords_out: Option<PathBuf>,
        #[command(flatten)]
        write: WriteArgs,
    },
    /// Create users from a CSV (the classic New-MsolUser header or the modern one; see README).
    Import {
        /// The CSV file.
        file: PathBuf,
        /// The tenant of rows without a TenantId.
        #[arg(long = "tenant", short = 't', value_name = "ID|DOMAIN|NAME")]
        tenant: Option<String>,
        /// Where generated passwords go (CSV, created 0600); needed when rows have no Password.
        #[arg(long, value_name = "FILE")]
        passwords_out: Option<PathBuf>,
        /// Users need not change their password at first sign-in.
        #[arg(long)]
        no_force_change_password: bool,
        #[command(flatten)]
        write: WriteArgs,
    },
}

#[derive(Subcommand, Debug)]
pub enum LicensesCmd {
    /// List subscribed SKUs: friendly name, part number, bought, assigned, free, suspended, warning.
    List {
        #[command(flatten)]
        tenants: TenantArgs,
    },
    /// Assign a licence to a user (or to many: --csv).
    Assign(LicenseChange),
    /// Remove a licence from a user (or from many: --csv).
    Remove(LicenseChange),
}

#[derive(Args, Debug, Clone)]
pub struct LicenseChange {
    /// The customer tenant (id, domain or name); the CSV's `tenant` column may name others.
    #[arg(long = "tenant", short = 't', value_name = "ID|DOMAIN|NAME")]
    pub tenant: Option<String>,
    /// The user (UPN or object id).
    #[arg(long, value_name = "UPN", required_unless_present = "csv")]
    pub user: Option<String>,
    /// The SKU: part number (e.g. SPB) or skuId.
    #[arg(long, value_name = "PART_NUMBER|GUID", required_unless_present = "csv")]
    pub sku: Option<String>,
    /// Service plans to leave off (name like EXCHANGE_S_STANDARD, or id); assign only.
    #[arg(long = "disable-plan", value_name = "PLAN")]
    pub disable_plans: Vec<String>,
    /// Many changes from a CSV with columns tenant,userPrincipalName,sku[,disabledPlans].
    #[arg(long, value_name = "FILE", conflicts_with_all = ["user", "sku"])]
    pub csv: Option<PathBuf>,
    #[command(flatten)]
    pub write: WriteArgs,
}

/// Flags of every write.
#[derive(Args, Debug, Clone, Default)]
pub struct WriteArgs {
    /// Show what would change; change nothing.
    #[arg(long)]
    pub what_if: bool,
    /// Apply the valid rows even if some are bad (the bad ones are reported as failed).
    #[arg(long)]
    pub continue_on_error: bool,
}

#[derive(Subcommand, Debug)]
pub enum SimCmd {
    /// Serve the simulator; prints one JSON line (base_url, credentials) once ready.
    Serve(tenantctl_sim::cli::ServeArgs),
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let level = match cli.global.verbose {
        0 => "warn",
        1 => "tenantctl=debug,tenantctl_transport=debug,tenantctl_fanout=debug,tenantctl_clients=debug",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TENANTCTL_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let code = match rt.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    };
    rt.shutdown_timeout(std::time::Duration::from_secs(1));
    std::process::exit(code);
}
