//! The commands behind the CLI, returning the documented exit status.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{
    Cli, Command, DemoArgs, DiffArgs, MergeArgs, ReportArgs, RequirementsArgs, RunArgs, ScanArgs,
    TemplateArgs,
};
use crate::inventory;
use crate::journal::{self, Resumed};
use crate::run::{execute, resolve_devices, RunPlan};
use crate::targets::spec::{expand, read_list_file, split_comma_list, ExpandOptions, SpecSource};
use jcstar_lab::{DemoLab, LabOptions, Limits};
use jcstar_model::error::{ExitStatus, InputError, Origin};
use jcstar_model::ports::parse_port_spec;
use jcstar_model::profile::Profile;
use jcstar_report::doc::ResultsDoc;
use jcstar_report::gate::{Gate, Standing};
use jcstar_report::texts::Texts;
use jcstar_report::waivers::Waivers;
use jcstar_report::{IntrusiveInfo, RenderOptions, RunReport};

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> ExitStatus {
    let verbose = cli.verbose > 0;
    let result = match cli.command {
        Command::Scan(args) => scan(args, verbose).await,
        Command::Demo(args) => demo(args, verbose).await,
        Command::Requirements(args) => requirements(args),
        Command::EvidenceTemplate(args) => evidence_template(args),
        Command::Report(args) => report(args),
        Command::Diff(args) => diff(args),
        Command::Merge(args) => merge(args),
        Command::Schema => {
            print!("{}", jcstar_report::RESULTS_SCHEMA);
            Ok(ExitStatus::Clean)
        }
    };
    result.unwrap_or_else(|failure| failure.report())
}

/// Why a command stopped early.
enum Failure {
    Input(InputError),
    Run(String),
}

impl Failure {
    fn report(self) -> ExitStatus {
        match self {
            Failure::Input(e) => {
                eprintln!("jcstar: error: {e}");
                ExitStatus::BadInput
            }
            Failure::Run(message) => {
                eprintln!("jcstar: run failed: {message}");
                ExitStatus::RunFailed
            }
        }
    }
}

impl From<InputError> for Failure {
    fn from(e: InputError) -> Self {
        Failure::Input(e)
    }
}

async fn scan(args: ScanArgs, verbose: bool) -> Result<ExitStatus, Failure> {
    let shard = args
        .shard
        .as_deref()
        .map(crate::shard::Shard::parse)
        .transpose()?;
    let mut profile = Profile::load(&args.run.profile)?;
    apply_timing(&mut profile, &args.run)?;
    select_checks(&mut profile, &args.run)?;
    let texts = texts_for(&args.run)?;
    let ports = ports_for(&args.run, &profile)?;
    let options = ExpandOptions {
        max_addresses: profile.scan.max_addresses,
        allow_large: args.allow_large,
    };
    let mut specs: Vec<SpecSource> = args
        .targets
        .iter()
        .map(|text| SpecSource {
            text: text.clone(),
            origin: Origin::command_line(),
        })
        .collect();
    for path in &args.input_list {
        specs.extend(read_list_file(path)?);
    }
    let mut exclusions = Vec::new();
    for list in &args.exclude {
        exclusions.extend(split_comma_list(list, Origin::command_line()));
    }
    for path in &args.excludefile {
        exclusions.extend(read_list_file(path)?);
    }
    let entries = match &args.inventory {
        Some(path) => inventory::load(path, &profile)?,
        None => Vec::new(),
    };
    if specs.is_empty() && entries.is_empty() {
        return Err(InputError::arg(
            "no targets: give addresses (e.g. 192.168.1.10 or 10.0.0.0/28), -iL FILE, or --targets INVENTORY.toml",
        )
        .into());
    }
    let cli_hosts = if specs.is_empty() {
        Vec::new()
    } else {
        expand(&specs, &exclusions, &options).await?
    };
    let peers = resolve_devices(entries, cli_hosts, &options).await?;
    let devices: Vec<_> = match shard {
        Some(shard) => peers
            .iter()
            .filter(|d| shard.owns(&d.address))
            .cloned()
            .collect(),
        None => peers.clone(),
    };
    let gating = Gating::load(
        args.run.waivers.as_deref(),
        args.run.baseline.as_deref(),
        &profile,
    )?;
    let (out, resumed) = match &args.resume {
        Some(dir) => resume_from(dir, args.run.out.as_deref(), &profile, &ports)?,
        None => (
            prepare_out_dir(args.run.out.as_deref())?,
            Resumed::default(),
        ),
    };
    let mut plan = plan_for(
        profile,
        devices,
        ports,
        &args.run,
        verbose,
        (out.clone(), resumed),
    );
    if let (Some(shard), false) = (shard, args.run.quiet) {
        eprintln!(
            "jcstar: shard {shard}: {} of the run's {} device(s)",
            plan.devices.len(),
            peers.len()
        );
    }
    plan.peers = peers;
    plan.shard = shard;
    let mut report = execute(&plan).await;
    gating.apply(&mut report);
    let options = RenderOptions {
        profile: &plan.profile,
        texts: &texts,
        baseline: gating.baseline.as_ref(),
    };
    let written = write_reports(&report, &out, options)?;
    let gate = print_summary(&report, &written, &texts, gating.baseline.as_ref());
    Ok(if report.interrupted {
        ExitStatus::RunFailed
    } else if gate.fails() {
        ExitStatus::CriteriaFailed
    } else {
        ExitStatus::Clean
    })
}

/// What decides the exit code besides the verdicts: `--waivers` and `--baseline`, both read
/// and checked before any packet is sent.
struct Gating {
    waivers: Option<Waivers>,
    baseline: Option<ResultsDoc>,
}

impl Gating {
    fn load(
        waivers: Option<&Path>,
        baseline: Option<&Path>,
        profile: &Profile,
    ) -> Result<Gating, InputError> {
        let ids: Vec<&str> = profile.criteria.iter().map(|c| c.id.as_str()).collect();
        Ok(Gating {
            waivers: waivers.map(|path| Waivers::load(path, &ids)).transpose()?,
            baseline: baseline
                .map(|path| ResultsDoc::read(&results_path(path)))
                .transpose()?,
        })
    }

    /// True when either was given (`jcstar demo` and `jcstar report` then exit by the gate).
    fn given(&self) -> bool {
        self.waivers.is_some() || self.baseline.is_some()
    }

    /// Applies the waivers to the run, judged by today's date, and notes unused ones.
    fn apply(&self, report: &mut RunReport) {
        if let Some(waivers) = &self.waivers {
            let applied = waivers.apply_run(report, chrono::Local::now().date_naive());
            note_unused(&applied);
        }
    }
}

/// A waiver that matched no failure is worth removing (or a typo in a device name): say so.
fn note_unused(applied: &jcstar_report::waivers::Applied) {
    for waiver in &applied.unused {
        eprintln!(
            "jcstar: note: {}: the waiver for {} on {} matched no failing criterion; remove it if the failure is fixed, or correct the name",
            waiver.origin,
            waiver.criterion,
            waiver.scope.describe()
        );
    }
}

async fn demo(args: DemoArgs, verbose: bool) -> Result<ExitStatus, Failure> {
    let mut profile = Profile::load(&args.run.profile)?;
    apply_timing(&mut profile, &args.run)?;
    select_checks(&mut profile, &args.run)?;
    let texts = texts_for(&args.run)?;
    let ports = ports_for(&args.run, &profile)?;
    let gating = Gating::load(
        args.run.waivers.as_deref(),
        args.run.baseline.as_deref(),
        &profile,
    )?;
    let lab = match args.devices {
        Some(count) => start_fleet(count, &args, &mut profile).await?,
        None => DemoLab::start_with_limits(
            LabOptions {
                subnet: args.subnet,
            },
            demo_limits(),
        )
        .await
        .map_err(|e| Failure::Run(format!("cannot start the demo lab: {e}")))?,
    };
    print_lab(&lab);
    if let Some(path) = &args.write_inventory {
        std::fs::write(path, lab.inventory_toml()).map_err(|e| {
            Failure::Run(format!(
                "cannot write the lab inventory to {}: {e}",
                path.display()
            ))
        })?;
    }
    if args.serve {
        let inventory = args
            .write_inventory
            .as_deref()
            .map_or("targets/example.toml".into(), |p| p.display().to_string());
        println!("serving until Ctrl-C; scan it with: jcstar scan --targets {inventory}");
        let _ = tokio::signal::ctrl_c().await;
        lab.shutdown().await;
        return Ok(ExitStatus::Clean);
    }
    let inventory_text = lab.inventory_toml();
    let entries = inventory::parse(&inventory_text, Path::new("<demo lab inventory>"), &profile)?;
    let options = ExpandOptions {
        max_addresses: profile.scan.max_addresses,
        allow_large: false,
    };
    let devices = resolve_devices(entries, Vec::new(), &options).await?;
    let out = prepare_out_dir(args.run.out.as_deref())?;
    let plan = plan_for(
        profile,
        devices,
        ports,
        &args.run,
        verbose,
        (out.clone(), Resumed::default()),
    );
    let mut report = execute(&plan).await;
    lab.shutdown().await;
    gating.apply(&mut report);
    let options = RenderOptions {
        profile: &plan.profile,
        texts: &texts,
        baseline: gating.baseline.as_ref(),
    };
    let written = write_reports(&report, &out, options)?;
    let gate = print_summary(&report, &written, &texts, gating.baseline.as_ref());
    // The demo's weak devices are meant to fail: only a waivers file or a baseline, given to
    // try the CI gate, makes the exit code follow the failures.
    Ok(if report.interrupted {
        ExitStatus::RunFailed
    } else if gating.given() && gate.fails() {
        ExitStatus::CriteriaFailed
    } else {
        ExitStatus::Clean
    })
}

/// Lists the lab's devices; a fleet of more than a screenful is summarised by persona.
fn print_lab(lab: &DemoLab) {
    let devices = lab.devices();
    if devices.len() > 40 {
        let (first, last) = (&devices[0], &devices[devices.len() - 1]);
        println!(
            "jcstar demo: fleet of {} simulated devices on loopback, {} to {}:",
            devices.len(),
            first.address,
            last.address
        );
        let mut personas: Vec<(&str, usize, String)> = Vec::new();
        for device in devices {
            match personas.iter_mut().find(|(p, ..)| *p == device.persona) {
                Some((_, count, _)) => *count += 1,
                None => personas.push((&device.persona, 1, lab_ports(device).join(", "))),
            }
        }
        for (persona, count, ports) in personas {
            println!("  {count:>6} x {persona:<16} listening on {ports}");
        }
        return;
    }
    println!("jcstar demo: simulated lab running on loopback:");
    for device in devices {
        let listening: Vec<String> = lab_ports(device);
        println!(
            "  {:<16} {:<12} {:<12} listening on {}",
            device.name,
            device.address,
            device.model,
            listening.join(", ")
        );
    }
}

/// Connections an in-process scan of a fleet keeps in flight at least; each takes two open
/// files (the scanner's socket and the device's accepted one).
const FLEET_MIN_IN_FLIGHT: u64 = 256;

/// Starts `jcstar demo --devices N`. Unless only serving, the scan runs in this process too: its
/// connections are bounded so that they and the fleet's listeners fit under the open-file limit.
async fn start_fleet(
    count: usize,
    args: &DemoArgs,
    profile: &mut Profile,
) -> Result<DemoLab, Failure> {
    if count == 0 || count > jcstar_lab::MAX_FLEET_DEVICES {
        return Err(InputError::arg(format!(
            "--devices {count}: give 1 to {} devices",
            jcstar_lab::MAX_FLEET_DEVICES
        ))
        .into());
    }
    let block = 78u8.checked_add(args.subnet).ok_or_else(|| {
        InputError::arg(format!(
            "--subnet {} with --devices: give at most 177 (the fleet lives at 127.(78+subnet).x.y)",
            args.subnet
        ))
    })?;
    let spare_files = if args.serve {
        0
    } else {
        // The scanner's own reserve of files, then two per connection in flight.
        256 + 2 * FLEET_MIN_IN_FLIGHT
    };
    let lab = DemoLab::start_fleet(
        jcstar_lab::FleetOptions {
            devices: count,
            block,
            spare_files,
        },
        demo_limits(),
    )
    .await
    .map_err(|e| Failure::Run(format!("cannot start the demo lab: {e}")))?;
    if !args.serve {
        let soft = jcstar_lab::raise_open_files();
        let free = soft.saturating_sub(jcstar_lab::fleet_files(count) + 256) / 2;
        let free = usize::try_from(free.max(FLEET_MIN_IN_FLIGHT)).unwrap_or(usize::MAX);
        let limit = &mut profile.scan.global_limit;
        *limit = if *limit == 0 {
            free
        } else {
            (*limit).min(free)
        };
    }
    Ok(lab)
}

/// The demo command's lab: the guarded logins (S1.1-04) lock for 10 s instead of 30 s and
/// their growing delays stop at 1.5 s instead of 10 s. Both stay well beyond what the
/// brute-force check needs to see the defence (a lock outlasting its bypass attempts, a delay
/// above the profile's 1 s threshold), and the demo finishes in about half the time.
fn demo_limits() -> Limits {
    Limits {
        lockout_window: Duration::from_secs(10),
        max_login_delay: Duration::from_millis(1500),
        ..Limits::default()
    }
}

fn lab_ports(device: &jcstar_lab::LabDevice) -> Vec<String> {
    device
        .listening
        .iter()
        .map(|(port, kind)| {
            let transport = if jcstar_lab::is_udp_kind(kind) {
                "udp"
            } else {
                "tcp"
            };
            format!("{port}/{transport} {kind}")
        })
        .collect()
}

fn requirements(args: RequirementsArgs) -> Result<ExitStatus, Failure> {
    let profile = Profile::load(&args.profile)?;
    let texts = Texts::load(args.lang, &args.profile)?;
    if args.json {
        let criteria: Vec<_> = profile
            .criteria
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c.title = texts.criterion_title(&c.id, &c.title).to_string();
                c.text = texts.criterion_text(&c.id, &c.text).to_string();
                c
            })
            .collect();
        let text =
            serde_json::to_string_pretty(&criteria).map_err(|e| Failure::Run(e.to_string()))?;
        println!("{text}");
        return Ok(ExitStatus::Clean);
    }
    print!("{}", requirements_text(&profile, &texts));
    Ok(ExitStatus::Clean)
}

/// The catalogue as `jcstar requirements` prints it, in the language of `texts`: titles and
/// texts from the profile's companion file, labels from the messages. What jcstar checks is
/// profile data kept in English.
pub fn requirements_text(profile: &Profile, texts: &Texts) -> String {
    use std::fmt::Write;
    let r = |key: &str, values: &[(&str, String)]| texts.fill("requirements", key, values);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({} {})\n",
        texts.profile_title().unwrap_or(&profile.profile.title),
        profile.profile.name,
        profile.profile.version
    );
    for c in &profile.criteria {
        let key = match c.evaluation {
            jcstar_model::profile::Evaluation::Document => "evaluation_document",
            jcstar_model::profile::Evaluation::Device => "evaluation_device",
            jcstar_model::profile::Evaluation::Both => "evaluation_both",
            jcstar_model::profile::Evaluation::Unconfirmed => "evaluation_unconfirmed_type",
        };
        let words = r(key, &[]);
        let evaluation = if c.evaluation_confirmed {
            r("evaluation", &[("evaluation", words)])
        } else {
            r("evaluation_unconfirmed", &[("evaluation", words)])
        };
        let title_kind = if c.title_is_ipa {
            r("title_ipa", &[])
        } else {
            r("title_paraphrase", &[])
        };
        let source = match c.text_source {
            jcstar_model::profile::TextSource::Confirmed => r("source_confirmed", &[]),
            jcstar_model::profile::TextSource::PartlyConfirmed => r("source_partly_confirmed", &[]),
            jcstar_model::profile::TextSource::Unconfirmed => r("source_unconfirmed", &[]),
        };
        let _ = writeln!(
            out,
            "{}  {}  [{evaluation}]",
            c.id,
            texts.criterion_title(&c.id, &c.title)
        );
        let _ = writeln!(
            out,
            "    {}",
            r("provenance", &[("title", title_kind), ("source", source)])
        );
        let _ = writeln!(out, "    {}", texts.criterion_text(&c.id, &c.text));
        let _ = writeln!(
            out,
            "    {}",
            r("checks", &[("checks", c.jcstar_checks.clone())])
        );
        if !c.evidence.is_empty() {
            let _ = writeln!(
                out,
                "    {}",
                r("evidence_fields", &[("fields", c.evidence.join(", "))])
            );
        }
        if !c.optional_evidence.is_empty() {
            let _ = writeln!(
                out,
                "    {}",
                r(
                    "optional_evidence_fields",
                    &[("fields", c.optional_evidence.join(", "))]
                )
            );
        }
        if !c.en_303_645.is_empty() {
            let _ = writeln!(
                out,
                "    {}",
                r("en_303_645", &[("provisions", c.en_303_645.join(", "))])
            );
        }
        out.push('\n');
    }
    let _ = writeln!(out, "{}", r("footer", &[]));
    out
}

fn evidence_template(args: TemplateArgs) -> Result<ExitStatus, Failure> {
    let profile = Profile::load(&args.profile)?;
    let entries = inventory::load(&args.inventory, &profile)?;
    print!("{}", crate::template::render(&entries, &profile));
    Ok(ExitStatus::Clean)
}

/// Narrows the profile's enabled checks by `--checks` and `--skip`, and checks `--max-hosts`.
/// Names are [`CheckId`](jcstar_model::profile::CheckId) names, plus `ports` in `--checks`
/// (the port scan alone); an unknown name is a one-line error listing the valid ones.
fn select_checks(profile: &mut Profile, args: &RunArgs) -> Result<(), InputError> {
    use jcstar_model::profile::CheckId;
    let valid = || {
        let mut names: Vec<&str> = vec!["ports"];
        names.extend(CheckId::ALL.iter().map(|c| c.name()));
        names.join(", ")
    };
    let parse = |flag: &str, list: &str, allow_ports: bool| -> Result<Vec<CheckId>, InputError> {
        let mut checks = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match CheckId::from_name(name) {
                Some(check) => checks.push(check),
                None if name == "ports" && allow_ports => {}
                None if name == "ports" => {
                    return Err(InputError::arg(format!(
                    "{flag}: the port scan always runs; use --checks ports for the port scan alone"
                )))
                }
                None => {
                    return Err(InputError::arg(format!(
                        "{flag}: unknown check {name:?}; valid names: {}",
                        valid()
                    )))
                }
            }
        }
        Ok(checks)
    };
    if let Some(list) = &args.checks {
        let wanted = parse("--checks", list, true)?;
        if wanted.is_empty() && !list.split(',').any(|n| n.trim() == "ports") {
            return Err(InputError::arg(format!(
                "--checks: no check named; valid names: {}",
                valid()
            )));
        }
        profile
            .checks
            .enabled
            .retain(|name| CheckId::from_name(name).is_some_and(|c| wanted.contains(&c)));
    }
    if let Some(list) = &args.skip {
        let skipped = parse("--skip", list, false)?;
        profile
            .checks
            .enabled
            .retain(|name| !CheckId::from_name(name).is_some_and(|c| skipped.contains(&c)));
    }
    max_hosts(args)?;
    Ok(())
}

/// `-T<0-5>`: writes the preset into the profile's [scan] keys the --profile FILE leaves out
/// (the built-in profile leaves them all to it).
fn apply_timing(profile: &mut Profile, args: &RunArgs) -> Result<(), InputError> {
    let Some(preset) = args.timing else {
        return Ok(());
    };
    let kept = if args.profile == jcstar_model::profile::BUILTIN_NAME {
        std::collections::BTreeSet::new()
    } else {
        // The file parsed as a profile a moment ago; read which [scan] keys it sets.
        let text = std::fs::read_to_string(&args.profile)
            .map_err(|e| InputError::arg(format!("cannot read profile {:?}: {e}", args.profile)))?;
        let table: toml::Table = text
            .parse()
            .map_err(|e| InputError::arg(format!("profile {:?}: {e}", args.profile)))?;
        table
            .get("scan")
            .and_then(toml::Value::as_table)
            .map(|scan| scan.keys().cloned().collect())
            .unwrap_or_default()
    };
    preset.apply(&mut profile.scan, &kept);
    Ok(())
}

/// `--max-hosts N`, else the timing preset's bound; `None`: every device at once.
fn effective_max_hosts(args: &RunArgs) -> Option<usize> {
    max_hosts(args)
        .ok()
        .flatten()
        .or_else(|| args.timing.and_then(|preset| preset.values().max_hosts))
}

/// `--max-hosts N`: a whole number of at least 1.
fn max_hosts(args: &RunArgs) -> Result<Option<usize>, InputError> {
    args.max_hosts
        .as_deref()
        .map(|text| {
            text.trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| n >= 1)
                .ok_or_else(|| {
                    InputError::arg(format!(
                        "--max-hosts {text:?}: give a whole number of devices, at least 1"
                    ))
                })
        })
        .transpose()
}

/// The ports to probe: `--ports` if given, else the profile's list. The profile's ports go
/// first so the adaptive timeout learns from likely-open ports early.
fn ports_for(args: &RunArgs, profile: &Profile) -> Result<Vec<u16>, InputError> {
    let defaults = profile.default_ports();
    let Some(spec) = &args.ports else {
        return Ok(defaults);
    };
    let requested = parse_port_spec(spec, Origin::command_line())?;
    let mut ordered: Vec<u16> = defaults
        .iter()
        .copied()
        .filter(|p| requested.binary_search(p).is_ok())
        .collect();
    ordered.extend(requested.iter().copied().filter(|p| !defaults.contains(p)));
    Ok(ordered)
}

fn plan_for(
    profile: Profile,
    devices: Vec<jcstar_model::device::Device>,
    ports: Vec<u16>,
    args: &RunArgs,
    verbose: bool,
    (out_dir, resumed): (PathBuf, Resumed),
) -> RunPlan {
    let intrusive = if args.no_intrusive {
        IntrusiveInfo {
            enabled: false,
            disabled_by: Some("--no-intrusive".into()),
        }
    } else if !profile.checks.intrusive {
        IntrusiveInfo {
            enabled: false,
            disabled_by: Some("profile [checks] intrusive = false".into()),
        }
    } else {
        IntrusiveInfo {
            enabled: true,
            disabled_by: None,
        }
    };
    let (host_timeout_s, max_duration_s) =
        (profile.scan.host_timeout_s, profile.scan.max_duration_s);
    let (max_rate, service_rate) = (profile.scan.max_rate, profile.scan.service_rate_per_minute);
    RunPlan {
        profile,
        peers: devices.clone(),
        shard: None,
        devices,
        ports,
        intrusive,
        show_progress: !args.quiet,
        max_hosts: effective_max_hosts(args),
        timing: args.timing,
        verbose,
        host_timeout: budget(args.host_timeout, host_timeout_s),
        max_duration: budget(args.max_duration, max_duration_s),
        max_rate: nonzero(args.max_rate, max_rate),
        service_rate: nonzero(args.service_rate, service_rate),
        out_dir,
        resumed,
    }
}

/// A rate from the command line, else the profile's; zero means none.
fn nonzero(flag: Option<u32>, profile: u32) -> Option<u32> {
    Some(flag.unwrap_or(profile)).filter(|&n| n > 0)
}

/// A budget from the command line, else the profile's (seconds); zero means none.
fn budget(flag: Option<Duration>, profile_seconds: u64) -> Option<Duration> {
    let budget = flag.unwrap_or(Duration::from_secs(profile_seconds));
    (!budget.is_zero()).then_some(budget)
}

/// The report words for `--lang` and the profile's companion texts.
fn texts_for(args: &RunArgs) -> Result<Texts, InputError> {
    Texts::load(args.lang, &args.profile)
}

/// `DIR/results.json` for a run directory, or the path itself when it names a file.
fn results_path(path: &Path) -> PathBuf {
    if path.is_file() {
        path.to_path_buf()
    } else {
        path.join("results.json")
    }
}

fn diff(args: DiffArgs) -> Result<ExitStatus, Failure> {
    let texts = Texts::load(args.lang, jcstar_model::profile::BUILTIN_NAME)?;
    let read = |path: &Path| jcstar_report::doc::ResultsDoc::read(&results_path(path));
    let old = read(&args.old)?;
    let new = read(&args.new)?;
    let diff = jcstar_report::diff::compare(&old, &new);
    print!("{}", jcstar_report::diff::render(&diff, &old, &new, &texts));
    Ok(if diff.has_regressions() {
        ExitStatus::CriteriaFailed
    } else {
        ExitStatus::Clean
    })
}

fn merge(args: MergeArgs) -> Result<ExitStatus, Failure> {
    let profile = Profile::load(&args.profile)?;
    let texts = Texts::load(args.lang, &args.profile)?;
    let merged = crate::merge::merge_runs(&args.runs, &profile)?;
    let out = prepare_out_dir(Some(&args.out))?;
    let mut bytes = serde_json::to_vec_pretty(&merged).map_err(|e| Failure::Run(e.to_string()))?;
    bytes.push(b'\n');
    jcstar_report::write_atomic(&out.join("results.json"), &bytes)
        .map_err(|e| Failure::Run(format!("cannot write reports to {}: {e}", out.display())))?;
    let options = RenderOptions {
        profile: &profile,
        texts: &texts,
        baseline: None,
    };
    let written = jcstar_report::rerender(&out, options).map_err(|e| match e {
        jcstar_report::RerenderError::Input(e) => Failure::Input(e),
        write => Failure::Run(write.to_string()),
    })?;
    let doc = ResultsDoc::read(&written.json)?;
    println!("{}", jcstar_report::table::render_doc(&doc, &texts));
    println!(
        "merged {} run(s): {} device(s)",
        args.runs.len(),
        doc.devices.len()
    );
    print_written(&written, true);
    let gate = Gate::evaluate(&doc, None);
    Ok(if doc.interrupted {
        ExitStatus::RunFailed
    } else if gate.fails() {
        ExitStatus::CriteriaFailed
    } else {
        ExitStatus::Clean
    })
}

fn report(args: ReportArgs) -> Result<ExitStatus, Failure> {
    let profile = Profile::load(&args.profile)?;
    let texts = Texts::load(args.lang, &args.profile)?;
    let json = results_path(&args.dir);
    let dir = json.parent().unwrap_or(Path::new(".")).to_path_buf();
    if !json.exists() && dir.join(journal::FILE_NAME).is_file() {
        return report_from_journal(&args, &dir, profile, &texts);
    }
    let doc = jcstar_report::doc::ResultsDoc::read(&json)?;
    if doc.profile.name != profile.profile.name {
        return Err(InputError::arg(format!(
            "{} was written with profile {:?}, not {:?}; give that profile with --profile FILE",
            json.display(),
            doc.profile.name,
            profile.profile.name
        ))
        .into());
    }
    let gating = Gating::load(args.waivers.as_deref(), args.baseline.as_deref(), &profile)?;
    let options = RenderOptions {
        profile: &profile,
        texts: &texts,
        baseline: gating.baseline.as_ref(),
    };
    let today = chrono::Local::now().date_naive();
    let (written, doc, applied) =
        jcstar_report::rerender_with(&dir, options, gating.waivers.as_ref().map(|w| (w, today)))
            .map_err(|e| match e {
                jcstar_report::RerenderError::Input(e) => Failure::Input(e),
                write => Failure::Run(write.to_string()),
            })?;
    note_unused(&applied);
    println!("{}", jcstar_report::table::render_doc(&doc, &texts));
    let gate = Gate::evaluate(&doc, gating.baseline.as_ref());
    if gate.has_news() {
        println!("{}", gate.render(&doc, &texts, false));
    }
    print_written(&written, false);
    Ok(report_status(doc.interrupted, gating.given(), &gate))
}

/// `jcstar report DIR` for a run that ended before writing results.json: every format, and
/// results.json itself, rebuilt from its journal.
fn report_from_journal(
    args: &ReportArgs,
    dir: &Path,
    profile: Profile,
    texts: &Texts,
) -> Result<ExitStatus, Failure> {
    let (mut report, profile) = crate::replay::rebuild(dir, profile)?;
    let gating = Gating::load(args.waivers.as_deref(), args.baseline.as_deref(), &profile)?;
    gating.apply(&mut report);
    let options = RenderOptions {
        profile: &profile,
        texts,
        baseline: gating.baseline.as_ref(),
    };
    let written = write_reports(&report, dir, options)?;
    let gate = print_summary(&report, &written, texts, gating.baseline.as_ref());
    let unfinished = report
        .devices
        .iter()
        .filter(|d| d.unfinished.is_some())
        .count();
    if report.interrupted {
        eprintln!(
            "jcstar: rebuilt from {}: the run ended before writing its reports; {unfinished} of {} device(s) not finished (inconclusive). `jcstar scan --resume {}` with the same targets finishes them",
            dir.join(journal::FILE_NAME).display(),
            report.devices.len(),
            dir.display()
        );
    } else {
        eprintln!(
            "jcstar: rebuilt from {}: every device had finished",
            dir.join(journal::FILE_NAME).display()
        );
    }
    Ok(report_status(report.interrupted, gating.given(), &gate))
}

/// `jcstar report`'s exit status: a run that did not complete exits 3 as `scan` did; else 0
/// unless `--waivers` or `--baseline` make it exit by the gate.
fn report_status(interrupted: bool, gated: bool, gate: &Gate) -> ExitStatus {
    if interrupted {
        ExitStatus::RunFailed
    } else if gated && gate.fails() {
        ExitStatus::CriteriaFailed
    } else {
        ExitStatus::Clean
    }
}

/// Lists the report files written (results.json too when `with_json`).
fn print_written(written: &jcstar_report::WrittenReports, with_json: bool) {
    let mut paths = vec![
        &written.junit,
        &written.html,
        &written.checklist,
        &written.xlsx,
        &written.summary,
    ];
    if with_json {
        paths.insert(0, &written.json);
    }
    for (i, path) in paths.iter().enumerate() {
        let label = if i == 0 { "reports:" } else { "        " };
        println!("{label} {}", path.display());
    }
}

fn write_reports(
    report: &RunReport,
    dir: &Path,
    options: RenderOptions<'_>,
) -> Result<jcstar_report::WrittenReports, Failure> {
    jcstar_report::write_all(report, dir, options)
        .map_err(|e| Failure::Run(format!("cannot write reports to {}: {e}", dir.display())))
}

/// The output directory and journal of the interrupted run in `dir` (`--resume DIR`), checked
/// against this run's profile and ports.
fn resume_from(
    dir: &Path,
    out: Option<&Path>,
    profile: &Profile,
    ports: &[u16],
) -> Result<(PathBuf, Resumed), InputError> {
    if out.is_some_and(|out| out != dir) {
        return Err(InputError::arg(
            "--resume DIR writes its reports to DIR; leave out --out (or give the same directory)",
        ));
    }
    let resumed = journal::read(dir)?;
    if let Some(line) = resumed.torn_line {
        eprintln!(
            "jcstar: note: {}:{line}: the last line was cut off mid-write and is skipped; that measurement is made again",
            dir.join(journal::FILE_NAME).display()
        );
    }
    let ports = jcstar_model::ports::format_port_ranges(ports);
    let journal = dir.join(journal::FILE_NAME);
    match &resumed.run {
        Some((name, earlier)) if *name != profile.profile.name || *earlier != ports => {
            Err(InputError::new(
                Origin::file(&journal),
                format!(
                    "the earlier run used profile {name:?} and ports {earlier}; resume it with the same --profile and -p (this run: {:?}, {ports})",
                    profile.profile.name
                ),
            ))
        }
        Some(_) => Ok((prepare_out_dir(Some(dir))?, resumed)),
        None => Err(InputError::new(
            Origin::file(&journal),
            "no run line: this is not the journal of a jcstar run",
        )),
    }
}

/// The output directory (`--out`, else `reports/<timestamp>/`), created and proven writable
/// before any packet is sent: a run must not end with nowhere to put its results.
fn prepare_out_dir(out: Option<&Path>) -> Result<PathBuf, InputError> {
    let dir = out.map(Path::to_path_buf).unwrap_or_else(default_out_dir);
    let unwritable = |e: std::io::Error| {
        InputError::arg(format!(
            "cannot write reports to {} ({e}); give --out a directory you can write to",
            dir.display()
        ))
    };
    std::fs::create_dir_all(&dir).map_err(unwritable)?;
    let probe = dir.join(".jcstar-write-test");
    std::fs::write(&probe, b"").map_err(unwritable)?;
    let _ = std::fs::remove_file(&probe);
    Ok(dir)
}

/// `reports/<timestamp>/`, with a suffix if two runs start in the same second.
fn default_out_dir() -> PathBuf {
    let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
    let base = Path::new("reports");
    let mut dir = base.join(&stamp);
    let mut n = 2;
    while dir.exists() {
        dir = base.join(format!("{stamp}-{n}"));
        n += 1;
    }
    dir
}

/// Prints the terminal summary (and the gate, when waivers or a baseline bear on it) and
/// returns the gate that decides the exit code.
fn print_summary(
    report: &RunReport,
    written: &jcstar_report::WrittenReports,
    texts: &Texts,
    baseline: Option<&ResultsDoc>,
) -> Gate {
    let gate = match ResultsDoc::from_run(report) {
        Ok(doc) => {
            println!("\n{}", jcstar_report::table::render_doc(&doc, texts));
            let gate = Gate::evaluate(&doc, baseline);
            if gate.has_news() {
                println!("{}", gate.render(&doc, texts, false));
            }
            gate
        }
        Err(_) => {
            println!("\n{}", jcstar_report::table::render(report));
            // Cannot classify: every failure counts, as without a baseline or waivers.
            Gate {
                items: report
                    .devices
                    .iter()
                    .flat_map(|d| {
                        d.criteria
                            .iter()
                            .filter(|c| c.verdict == jcstar_model::Verdict::Fail)
                            .map(|c| jcstar_report::gate::GateItem {
                                device: d.device.name.clone(),
                                id: c.id.clone(),
                                standing: Standing::New,
                                in_baseline: None,
                            })
                    })
                    .collect(),
                baseline: None,
            }
        }
    };
    if !report.intrusive.enabled {
        println!(
            "{} ({})",
            texts.ui("intrusive_skipped"),
            report
                .intrusive
                .disabled_by
                .as_deref()
                .unwrap_or("disabled")
        );
    }
    print_written(written, true);
    gate
}
