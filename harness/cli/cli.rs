//! Command-line interface definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  the run completed and no criterion failed
  1  the run completed and at least one criterion failed on some device
  2  bad input: targets, inventory, profile or flags (the message names file, line and fix)
  3  the run itself failed or did not complete: interrupted (SIGINT/SIGTERM; the partial
     reports are still written; `jcstar report` of such a run, or of one rebuilt from its
     journal), could not write reports, could not start the demo lab

Scan only devices you are authorised to test. jcstar sends traffic only to the targets given.";

/// jcstar: JC-STAR ★1 conformance test harness for IoT devices.
///
/// Probes devices on a lab LAN concurrently, maps what it finds to the 16 ★1 criteria
/// (S1.1-01 … S1.1-16) and writes JSON, JUnit XML, an HTML report, the self-assessment
/// checklist (CSV and XLSX), a Markdown summary and a terminal summary, in English or Japanese.
#[derive(Debug, Parser)]
#[command(name = "jcstar", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// More detail on stderr: resource limits (-v), debug logs (-vv).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan devices and judge them against the profile's criteria.
    #[command(after_help = EXIT_CODES)]
    Scan(ScanArgs),
    /// Start the built-in simulated lab on loopback (127.77.N.x), scan it and write reports.
    ///
    /// No hardware and no root needed. Exits 0 when the demo ran (the lab's weak devices are
    /// meant to fail), 3 when it could not run.
    Demo(DemoArgs),
    /// List the profile's criteria: id, official evaluation type, what jcstar checks.
    Requirements(RequirementsArgs),
    /// Print an inventory skeleton with every evidence field of the profile for the devices of
    /// an inventory (values already declared are kept), to fill in once.
    EvidenceTemplate(TemplateArgs),
    /// Render junit.xml, report.html, checklist.csv, checklist.xlsx and summary.md again from
    /// DIR/results.json (e.g. in another language), and print the summary.
    ///
    /// For a run that ended before writing results.json (a crash, a kill, a power cut), every
    /// format, results.json too, is rebuilt from DIR/journal.jsonl: devices the run did not
    /// finish are listed as not finished, their unmeasured criteria inconclusive, and the run is
    /// marked interrupted (exit 3). A torn last journal line is skipped with a note.
    #[command(after_help = EXIT_CODES)]
    Report(ReportArgs),
    /// Join the results of shard runs (`jcstar scan --shard I/N`) into one run in OUT and write
    /// every report format there.
    ///
    /// Refuses runs of another profile, port list, check selection or intrusive setting, a device
    /// in two inputs, and a missing or repeated shard. Key reuse across devices (S1.1-11) is judged
    /// again over all of them. Exit codes as for `jcstar scan`.
    #[command(after_help = EXIT_CODES)]
    Merge(MergeArgs),
    /// Print the JSON Schema of results.json.
    Schema,
    /// Show which criteria changed verdict between two runs (Markdown on stdout).
    ///
    /// Exits 1 when a criterion got worse (a new fail, or a pass lost), 0 otherwise, so CI can
    /// stop a firmware build whose results regressed.
    Diff(DiffArgs),
}

/// Report language: `en` (English) or `ja` (Japanese).
fn parse_lang(text: &str) -> Result<jcstar_report::texts::Lang, String> {
    text.parse()
}

/// A time budget as nmap writes it: `90` (seconds), `500ms`, `30s`, `15m`, `2h`, `1d`; `0` for
/// none. At most 7 days.
fn parse_budget(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; write e.g. 90, 500ms, 30s, 15m, 2h"))?;
    let millis_per_unit: u64 = match unit {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?}; use ms, s, m, h or d"
            ))
        }
    };
    let millis = number.saturating_mul(millis_per_unit);
    if millis > jcstar_model::profile::MAX_BUDGET_S * 1_000 {
        return Err(format!("{text:?} is longer than 7 days"));
    }
    Ok(std::time::Duration::from_millis(millis))
}

/// Options shared by commands that run a scan.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Check profile: the built-in name `jc-star-1` or a TOML file.
    #[arg(long, default_value = jcstar_model::profile::BUILTIN_NAME, value_name = "NAME|FILE")]
    pub profile: String,
    /// TCP ports in nmap syntax (`22,80,8000-8100`; `-p-` for all 65535). Default: the profile's
    /// IoT list.
    #[arg(
        short = 'p',
        long = "ports",
        value_name = "PORTS",
        allow_hyphen_values = true
    )]
    pub ports: Option<String>,
    /// Directory for results.json, junit.xml, report.html, checklist.csv, checklist.xlsx and
    /// summary.md. Default: reports/<timestamp>/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Language of report.html, checklist.csv/.xlsx, summary.md and the terminal summary: en or ja.
    #[arg(long, value_name = "en|ja", default_value = "en", value_parser = parse_lang)]
    pub lang: jcstar_report::texts::Lang,
    /// Skip intrusive checks (credential guessing, lockout tests); the report says they were
    /// skipped.
    #[arg(long)]
    pub no_intrusive: bool,
    /// Time budget of each device, port scan and service checks together (e.g. 90s, 15m; 0 for
    /// none). A device past it keeps what was measured; its unjudged criteria are inconclusive.
    /// Default: the profile's host_timeout_s.
    #[arg(long, value_name = "TIME", value_parser = parse_budget)]
    pub host_timeout: Option<std::time::Duration>,
    /// Time budget of the whole run (e.g. 30m, 2h; 0 for none). When it runs out the run stops
    /// as on Ctrl-C and writes what was measured (exit 3). Default: the profile's max_duration_s.
    #[arg(long, value_name = "TIME", value_parser = parse_budget)]
    pub max_duration: Option<std::time::Duration>,
    /// Waivers file (TOML, [[waiver]] entries: criterion, device or model, reason, owner,
    /// expires = YYYY-MM-DD): failures it covers are shown as waived in every format and do not
    /// fail the exit code until they expire; an expired waiver waives nothing and fails the run.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// A previous run (its directory or results.json): the exit code then reflects only
    /// regressions, criteria failing now that did not fail in it (per device and criterion);
    /// the summary says which failures are new and which pre-existing.
    #[arg(long, value_name = "RUN")]
    pub baseline: Option<PathBuf>,
    /// Run only these checks (comma-separated names: interfaces, declared_evidence,
    /// unauthenticated_access, default_credentials, crypto, web_information, identity,
    /// udp_services, brute_force) of those the profile enables; `ports` alone means the port
    /// scan with no checks at all.
    #[arg(long, value_name = "LIST")]
    pub checks: Option<String>,
    /// Do not run these checks (names as for --checks).
    #[arg(long, value_name = "LIST")]
    pub skip: Option<String>,
    /// Devices worked on at once (port scan and service checks); default: all of them.
    #[arg(long, value_name = "N")]
    pub max_hosts: Option<String>,
    /// New connections per second over the whole run, port scan and checks together (0: no
    /// limit). Default: the profile's max_rate.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=1_000_000))]
    pub max_rate: Option<u32>,
    /// New connections per minute to any one service (address and port) from the checks and
    /// service identification, for devices that throttle new connections: jcstar then never
    /// trips the throttle itself, and time it waits is not read as the device's (0: no
    /// limit). Slows TLS enumeration and credential checks on every service. Default: the
    /// profile's service_rate_per_minute.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=60_000))]
    pub service_rate: Option<u32>,
    /// Timing preset, as nmap's -T0 … -T5 (or paranoid, sneaky, polite, normal, aggressive,
    /// insane): sets the profile's [scan] timing keys and the devices worked on at once.
    ///
    ///   -T  connect timeout ms  window      banner  host      devices
    ///       initial/min/max     start/max   ms      timeout   at once
    ///   0   5000/1000/10000     1/1         10000   profile   1
    ///   1   3000/500/5000       1/4         5000    profile   1
    ///   2   1500/200/3000       4/64        3000    profile   4
    ///   3   1000/100/1500       64/1024     1500    profile   all
    ///   4   500/100/1250        128/2048    1500    profile   all
    ///   5   250/50/300          256/4096    750     15m       all
    ///
    /// What wins, strongest first: --host-timeout and --max-hosts; a key the --profile FILE
    /// sets in its [scan] table; the preset; the built-in profile (which is -T3).
    #[arg(short = 'T', long = "timing", value_name = "0-5", value_parser = parse_timing, verbatim_doc_comment)]
    pub timing: Option<jcstar_model::profile::TimingPreset>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
}

/// A timing preset: `0` … `5` or its nmap name.
fn parse_timing(text: &str) -> Result<jcstar_model::profile::TimingPreset, String> {
    jcstar_model::profile::TimingPreset::parse(text).ok_or_else(|| {
        format!("{text:?} is not a timing preset; give 0-5 (-T4) or paranoid, sneaky, polite, normal, aggressive, insane")
    })
}

/// `jcstar scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Targets in nmap syntax: 192.168.1.5, 10.0.0.0/24, 10.0.0.1-20, 10.0.1-3.7, ::1,
    /// 2001:db8::/120, hostnames.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Read targets from a file (nmap's -iL): whitespace-separated, `#` comments.
    #[arg(
        long = "input-list",
        value_name = "FILE",
        help = "Read targets from FILE (also -iL FILE): whitespace-separated, # comments"
    )]
    pub input_list: Vec<PathBuf>,
    /// Exclude targets: comma-separated specs.
    #[arg(long, value_name = "SPECS")]
    pub exclude: Vec<String>,
    /// Exclude the targets listed in a file.
    #[arg(long, value_name = "FILE")]
    pub excludefile: Vec<PathBuf>,
    /// TOML inventory of devices with declared services, credentials and vendor evidence.
    #[arg(long = "targets", value_name = "FILE")]
    pub inventory: Option<PathBuf>,
    /// Allow target specs that expand to more addresses than the profile's max_addresses (never
    /// more than 16,777,216, a /8).
    #[arg(long)]
    pub allow_large: bool,
    /// Continue the interrupted run whose output directory is DIR: devices it finished (port
    /// scan and service checks) are not probed again; the reports are written to DIR. Give the
    /// same targets, profile and ports as the first run.
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// Scan only slice I of N of the devices (1 <= I <= N), chosen by a fixed hash of each
    /// device's address, so N machines each run one slice and `jcstar merge` joins them.
    /// Adding a device moves no other. The reports say which slice they hold.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Run options.
    #[command(flatten)]
    pub run: RunArgs,
}

/// `jcstar demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Lab subnet N: devices listen on 127.77.N.1, 127.77.N.2, … (lets several demos run at once).
    #[arg(long, default_value_t = 0)]
    pub subnet: u8,
    /// Only start the lab and keep it running until Ctrl-C, to scan it with `jcstar scan`
    /// (e.g. `--targets targets/example.toml`).
    #[arg(long)]
    pub serve: bool,
    /// Serve a fleet of N cheap simulated devices instead of the persona lab, at
    /// 127.(78+subnet).0.1, .0.2, … (254 per /24, up to 65,024): single-port personas (FTP,
    /// MQTT, SSH, legacy TLS, VNC) in turn, for scale runs. Each device is one listening socket;
    /// the soft open-file limit is raised to the hard one, and a fleet that does not fit is
    /// refused with the limit and the fix.
    #[arg(long, value_name = "N")]
    pub devices: Option<usize>,
    /// Write the lab's inventory (TOML) to FILE, e.g. to scan a `--serve` lab with
    /// `jcstar scan --targets FILE`.
    #[arg(long, value_name = "FILE")]
    pub write_inventory: Option<PathBuf>,
    /// Run options.
    #[command(flatten)]
    pub run: RunArgs,
}

/// `jcstar requirements`.
#[derive(Debug, Args)]
pub struct RequirementsArgs {
    /// Check profile: the built-in name `jc-star-1` or a TOML file.
    #[arg(long, default_value = jcstar_model::profile::BUILTIN_NAME, value_name = "NAME|FILE")]
    pub profile: String,
    /// Print the catalogue as JSON.
    #[arg(long)]
    pub json: bool,
    /// Language of the titles, texts and labels: en or ja (titles and texts from the profile's
    /// companion file, e.g. profiles/jc-star-1.ja.toml).
    #[arg(long, value_name = "en|ja", default_value = "en", value_parser = parse_lang)]
    pub lang: jcstar_report::texts::Lang,
}

/// `jcstar evidence-template`.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// The inventory whose devices the skeleton lists.
    #[arg(long = "targets", value_name = "FILE")]
    pub inventory: PathBuf,
    /// Check profile whose evidence fields are listed.
    #[arg(long, default_value = jcstar_model::profile::BUILTIN_NAME, value_name = "NAME|FILE")]
    pub profile: String,
}

/// The command line as UTF-8 strings, or a one-line message naming the first argument that is
/// not UTF-8 (targets, paths and flags are all text jcstar must print in its reports).
pub fn utf8_args(
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> Result<Vec<String>, String> {
    args.into_iter()
        .enumerate()
        .map(|(i, arg)| {
            arg.into_string().map_err(|raw| {
                let shown = jcstar_model::bounded_to(&raw.to_string_lossy(), 80);
                format!(
                    "command line: argument {i} ({shown:?}) is not valid UTF-8; rename the file or give the value in UTF-8"
                )
            })
        })
        .collect()
}

/// `jcstar report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A run's output directory (it holds results.json, or only journal.jsonl when the run
    /// ended before writing its reports), or that results.json.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Language of report.html, checklist.csv/.xlsx, summary.md and the terminal summary: en or ja.
    #[arg(long, value_name = "en|ja", default_value = "en", value_parser = parse_lang)]
    pub lang: jcstar_report::texts::Lang,
    /// The profile the run used: the built-in name `jc-star-1` or a TOML file.
    #[arg(long, default_value = jcstar_model::profile::BUILTIN_NAME, value_name = "NAME|FILE")]
    pub profile: String,
    /// Waivers file (TOML, [[waiver]] entries: criterion, device or model, reason, owner,
    /// expires = YYYY-MM-DD): failures it covers are shown as waived in every format and do not
    /// fail the exit code until they expire; an expired waiver waives nothing and fails the run.
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// A previous run (its directory or results.json): the exit code then reflects only
    /// regressions, criteria failing now that did not fail in it (per device and criterion);
    /// the summary says which failures are new and which pre-existing.
    #[arg(long, value_name = "RUN")]
    pub baseline: Option<PathBuf>,
}

/// `jcstar merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Directory for the merged results.json and every report rendered from it.
    #[arg(value_name = "OUT")]
    pub out: PathBuf,
    /// The shard runs: their output directories or their results.json files.
    #[arg(value_name = "DIR", required = true)]
    pub runs: Vec<PathBuf>,
    /// The profile the runs used: the built-in name `jc-star-1` or a TOML file.
    #[arg(long, default_value = jcstar_model::profile::BUILTIN_NAME, value_name = "NAME|FILE")]
    pub profile: String,
    /// Language of report.html, checklist.csv/.xlsx, summary.md and the terminal summary: en or ja.
    #[arg(long, value_name = "en|ja", default_value = "en", value_parser = parse_lang)]
    pub lang: jcstar_report::texts::Lang,
}

/// `jcstar diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older run: its directory or its results.json.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The newer run: its directory or its results.json.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Language of the output: en or ja.
    #[arg(long, value_name = "en|ja", default_value = "en", value_parser = parse_lang)]
    pub lang: jcstar_report::texts::Lang,
}

/// Rewrites nmap's `-iL FILE` into `--input-list FILE`, which clap can parse.
pub fn normalise_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    args.into_iter()
        .map(|arg| {
            if arg == "-iL" {
                "--input-list".to_string()
            } else if let Some(rest) = arg.strip_prefix("-iL") {
                format!("--input-list={rest}")
            } else {
                arg
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_read_like_nmap_and_refuse_nonsense() {
        use std::time::Duration;
        assert_eq!(parse_budget("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_budget("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_budget("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_budget("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_budget("0"), Ok(Duration::ZERO));
        for bad in [
            "",
            "s",
            "1.5h",
            "-3",
            "10 parsecs",
            "8d",
            "99999999999999999999",
        ] {
            assert!(parse_budget(bad).is_err(), "{bad}");
        }
    }
}
