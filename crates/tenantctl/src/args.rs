//! Flag groups shared by several commands, each defined once and flattened where it applies.

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tenantctl_ops::connect::ConnectOptions;
use tenantctl_ops::targets::Selection;

/// Options of every command: where to connect, how much to say. Shown under their own heading.
#[derive(Args, Debug, Clone)]
pub struct Global {
    /// Run against the built-in simulator (seed 1, 30 customers), started in-process.
    #[arg(long, global = true, help_heading = "Global options")]
    pub sandbox: bool,
    /// Put every service under this base URL with the simulator's prefixes (/login, /graph,
    /// /partnercenter, /outlook), e.g. a `tenantctl sim serve` started elsewhere.
    #[arg(
        long,
        global = true,
        env = "TENANTCTL_ENDPOINT",
        value_name = "URL",
        help_heading = "Global options"
    )]
    pub endpoint: Option<String>,
    /// Trust this CA (PEM) besides the built-in roots, e.g. the `ca_file` of `sim serve --tls`.
    #[arg(
        long,
        global = true,
        env = "TENANTCTL_CA_FILE",
        value_name = "PEM",
        help_heading = "Global options"
    )]
    pub ca_file: Option<std::path::PathBuf>,
    /// Cloud: global, usgov (GCC High), usgovdod, china (21Vianet) or custom.
    #[arg(long, global = true, value_name = "CLOUD", help_heading = "Global options")]
    pub cloud: Option<String>,
    /// Profile in the config file (<config dir>/tenantctl/config.toml).
    #[arg(
        long,
        global = true,
        default_value = "default",
        env = "TENANTCTL_PROFILE",
        help_heading = "Global options"
    )]
    pub profile: String,
    /// More detail on stderr (-v debug, -vv trace).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, help_heading = "Global options")]
    pub verbose: u8,
    /// No progress and no summary on stderr (failed tenants are still listed).
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub quiet: bool,
    /// Don't keep access tokens across runs (by default they are, 0600, in
    /// <cache dir>/tenantctl/tokens.json or TENANTCTL_TOKEN_CACHE, until they expire), nor
    /// the tenant sizes beside them (tenant-sizes.json: the biggest tenants start first).
    #[arg(
        long,
        global = true,
        env = "TENANTCTL_NO_TOKEN_CACHE",
        value_parser = clap::builder::BoolishValueParser::new(),
        help_heading = "Global options"
    )]
    pub no_token_cache: bool,
}

impl Global {
    pub fn connect_options(&self) -> ConnectOptions {
        // `--no-token-cache` keeps nothing across runs: neither tokens nor tenant sizes.
        let keep = !self.no_token_cache;
        ConnectOptions {
            sandbox: self.sandbox,
            ca_file: self.ca_file.clone(),
            endpoint: self.endpoint.clone(),
            cloud: self.cloud.clone(),
            profile: self.profile.clone(),
            token_cache: keep.then(tenantctl_ops::connect::token_cache_path).flatten(),
            sizes: keep.then(tenantctl_ops::connect::sizes_path).flatten(),
        }
    }
}

/// Which customer tenants a command runs in.
#[derive(Args, Debug, Clone, Default)]
pub struct TenantsArgs {
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

impl TenantsArgs {
    pub fn selection(&self) -> Selection {
        Selection {
            tenants: self.tenants.clone(),
            all: self.all_tenants,
            exclude: self.exclude.clone(),
        }
    }
}

/// One customer tenant.
#[derive(Args, Debug, Clone)]
pub struct OneTenant {
    /// The customer tenant: id, domain or name.
    #[arg(long = "tenant", short = 't', value_name = "ID|DOMAIN|NAME", required = true)]
    pub tenant: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    Table,
    Json,
    Jsonl,
    Csv,
    Xlsx,
}

/// Where and how rows are written.
#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// Output format (default: from --out's extension, else table on a terminal, else csv).
    #[arg(short = 'o', long = "output", value_enum, help_heading = "Output")]
    pub format: Option<FormatArg>,
    /// Write the rows to FILE (.csv, .json, .jsonl, .xlsx) instead of stdout.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub out: Option<PathBuf>,
    /// Only these columns, in this order (comma-separated; `--select help` lists them).
    #[arg(
        long,
        value_name = "COL,COL",
        value_delimiter = ',',
        alias = "columns",
        help_heading = "Output"
    )]
    pub select: Vec<String>,
    /// Sort by these columns (comma-separated; `-col` for descending).
    #[arg(
        long,
        value_name = "COL,COL",
        value_delimiter = ',',
        allow_hyphen_values = true,
        help_heading = "Output"
    )]
    pub sort: Vec<String>,
    /// A JMESPath query over the JSON rows, as `az --query` (e.g. "[?free > `0`].license").
    #[arg(long, value_name = "JMESPATH", help_heading = "Output")]
    pub query: Option<String>,
    /// CSV: start with a UTF-8 byte order mark (for Excel).
    #[arg(long, help_heading = "Output")]
    pub bom: bool,
    /// CSV: prefix text cells starting with = + - @ with ' so a spreadsheet shows them instead
    /// of running them as formulas (for files opened in Excel; off by default to keep data as is).
    #[arg(long, help_heading = "Output")]
    pub excel_safe: bool,
    /// Write every tenant's status (JSON) to FILE.
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub status_out: Option<PathBuf>,
}

/// How many tenants and requests run at once.
#[derive(Args, Debug, Clone)]
pub struct FanoutArgs {
    /// Most tenants worked on at once. The number adapts below it: it starts at a quarter (at
    /// most 16), doubles every round of clean answers until Microsoft first throttles the app
    /// (429) or is unavailable (503), halves then, and grows by about one a round after. See
    /// docs/adaptive.md.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u16).range(1..=1000), help_heading = "Fan-out")]
    pub concurrency: u16,
    /// Requests at once within one tenant.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64), help_heading = "Fan-out")]
    pub per_tenant: u16,
    /// Work on exactly --concurrency tenants at once, whatever the answers (no adaptation).
    #[arg(long, help_heading = "Fan-out")]
    pub fixed_concurrency: bool,
}

impl FanoutArgs {
    pub fn limits(&self) -> tenantctl_ops::Limits {
        tenantctl_ops::Limits {
            tenants: self.concurrency as usize,
            per_tenant: self.per_tenant as usize,
            adaptive: !self.fixed_concurrency,
        }
    }
}

/// How many tenants and requests run at once against Exchange Online, whose admin API refuses
/// more than a few concurrent requests per tenant (its "maximum number of concurrent requests
/// per tenant" answer, which tenantctl waits out and retries).
#[derive(Args, Debug, Clone)]
pub struct ExoFanoutArgs {
    /// Most tenants worked on at once (adapts below it, as for Graph; see docs/adaptive.md).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1000), help_heading = "Fan-out")]
    pub concurrency: u16,
    /// Exchange requests at once within one tenant (Exchange's per-tenant concurrency budget).
    #[arg(long, default_value_t = tenantctl_ops::exchange::DEFAULT_PER_TENANT as u16,
          value_parser = clap::value_parser!(u16).range(1..=10), help_heading = "Fan-out")]
    pub per_tenant: u16,
    /// Work on exactly --concurrency tenants at once, whatever the answers (no adaptation).
    #[arg(long, help_heading = "Fan-out")]
    pub fixed_concurrency: bool,
}

impl ExoFanoutArgs {
    pub fn fanout(&self) -> FanoutArgs {
        FanoutArgs {
            concurrency: self.concurrency,
            per_tenant: self.per_tenant,
            fixed_concurrency: self.fixed_concurrency,
        }
    }
}

/// Asking before a change: every write has these.
#[derive(Args, Debug, Clone, Default)]
pub struct ConfirmArgs {
    /// Show the full plan (and every problem); change nothing.
    #[arg(long, alias = "dry-run")]
    pub what_if: bool,
    /// Do not ask before writing (needed to write without a terminal to more than one tenant).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Allow writing to the partner's own tenant (writes go only to customers otherwise).
    #[arg(long)]
    pub partner_tenant: bool,
}

/// Flags of every write from rows (CSV, flags): asking first, and what to do with bad rows.
#[derive(Args, Debug, Clone, Default)]
pub struct WriteArgs {
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    /// Apply the valid rows even if some are bad (the bad ones are reported as failed).
    #[arg(long)]
    pub continue_on_error: bool,
}

impl std::ops::Deref for WriteArgs {
    type Target = ConfirmArgs;
    fn deref(&self) -> &ConfirmArgs {
        &self.confirm
    }
}
