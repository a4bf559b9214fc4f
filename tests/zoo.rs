//! The hostile-device zoo end to end: the real `jcstar scan` binary against each hostile persona
//! of the lab (`jcstar_lab::hostile`) on its own loopback address, with a stated time budget.
//! Each run must end within its budget plus 10 % (plus a fixed allowance for process start and
//! report writing on a busy machine), keep its peak RSS bounded, exit normally, judge no
//! criterion `pass`, nor any single finding (verdicts are inconclusive, error, fail or not
//! applicable, each with its reason), and write
//! a results.json that follows the shipped schema and a junit.xml that parses and is complete.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use jcstar_lab::hostile::{Hostile, HostileDevice};

/// Fixed allowance on top of budget + 10 %: process start, the last probe's own deadline
/// and report writing, on a busy two-core machine.
const ALLOWANCE: Duration = Duration::from_secs(5);
/// Peak resident set size allowed to a run, in kilobytes.
const MAX_RSS_KB: i64 = 200 * 1024;
/// A run still going this long after its budget is killed (and the test fails).
const HARD_LIMIT: Duration = Duration::from_secs(60);

/// What one measured run of the binary did.
struct Measured {
    status: ExitStatus,
    took: Duration,
    /// Peak resident set size (`ru_maxrss` from `wait4`), in kilobytes.
    max_rss_kb: i64,
    log: String,
}

/// Runs jcstar with `args`, waiting with `wait4` to read the child's own peak RSS; kills it
/// once it runs `hard_limit` long.
fn run_measured(args: &[String], logs: &Path, hard_limit: Duration) -> Measured {
    let stdout = std::fs::File::create(logs.join("stdout.txt")).expect("stdout file");
    let stderr = std::fs::File::create(logs.join("stderr.txt")).expect("stderr file");
    let started = Instant::now();
    #[expect(
        clippy::zombie_processes,
        reason = "reaped below by wait4, which also gives its peak RSS"
    )]
    let mut child = Command::new(env!("CARGO_BIN_EXE_jcstar"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("jcstar starts");
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits");
    let mut killed = false;
    let (raw, usage) = loop {
        let mut raw: libc::c_int = 0;
        // SAFETY: an all-zero rusage is a valid value of this plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is this test's own child, not yet reaped (std never waits for it
        // here); `raw` and `usage` are valid for writes for the duration of the call.
        let reaped = unsafe { libc::wait4(pid, &mut raw, libc::WNOHANG, &mut usage) };
        assert!(reaped >= 0, "wait4: {}", std::io::Error::last_os_error());
        if reaped == pid {
            break (raw, usage);
        }
        if !killed && started.elapsed() > hard_limit {
            let _ = child.kill();
            killed = true;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let took = started.elapsed();
    let read = |name: &str| std::fs::read_to_string(logs.join(name)).unwrap_or_default();
    Measured {
        status: ExitStatus::from_raw(raw),
        took,
        max_rss_kb: usage.ru_maxrss,
        log: format!(
            "status: {:?}{}\n--- stdout\n{}\n--- stderr\n{}",
            ExitStatus::from_raw(raw),
            if killed { " (killed: no end)" } else { "" },
            read("stdout.txt"),
            read("stderr.txt")
        ),
    }
}

/// One persona's run: its budget flags and what counts as the run's whole budget.
struct Case {
    persona: Hostile,
    /// Third octet of the persona's loopback address `127.66.<octet>.1`.
    octet: u8,
    /// `--host-timeout` of the run.
    host_timeout: Duration,
}

/// What a zoo run left behind, for persona-specific assertions.
struct Outcome {
    device: serde_json::Value,
    log: String,
}

/// Starts the persona, scans it, and checks what every zoo run must satisfy.
async fn scan_persona(case: Case) -> Outcome {
    let address = IpAddr::V4(Ipv4Addr::new(127, 66, case.octet, 1));
    let zoo = HostileDevice::start(case.persona, address)
        .await
        .unwrap_or_else(|e| panic!("start {} on {address}: {e}", case.persona.name()));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out");
    let budget = case.host_timeout;
    let tcp_ports = zoo.tcp.len();
    let args: Vec<String> = [
        "scan".to_string(),
        address.to_string(),
        "-p".to_string(),
        zoo.ports_arg(),
        "--host-timeout".to_string(),
        format!("{}s", budget.as_secs()),
        "--out".to_string(),
        out.to_str().expect("utf-8 path").to_string(),
        "--quiet".to_string(),
    ]
    .into();
    let logs = dir.path().to_path_buf();
    let run = tokio::task::spawn_blocking(move || run_measured(&args, &logs, budget + HARD_LIMIT))
        .await
        .expect("measured run");
    zoo.shutdown().await;
    let name = case.persona.name();
    let log = format!("persona {name}\n{}", run.log);

    // Ends within its budget, normally, with bounded memory.
    let allowed = budget.mul_f64(1.1) + ALLOWANCE;
    assert!(
        run.took <= allowed,
        "{name}: took {:?}, budget {budget:?} (+10 % +{ALLOWANCE:?})\n{log}",
        run.took
    );
    assert!(
        matches!(run.status.code(), Some(0 | 1)),
        "{name}: not a normal exit\n{log}"
    );
    assert!(
        run.max_rss_kb < MAX_RSS_KB,
        "{name}: peak RSS {} kB\n{log}",
        run.max_rss_kb
    );

    // results.json: valid against the shipped schema, the one device, no pass.
    let results = common::results(&out);
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("harness/report/schema/results.schema.json"),
        )
        .expect("schema file"),
    )
    .expect("schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&results)
        .map(|e| format!("{e} at {}", e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:?}\n{log}");
    assert_eq!(results["interrupted"], false, "{name}\n{log}");
    let devices = results["devices"].as_array().expect("devices");
    assert_eq!(devices.len(), 1, "{name}\n{log}");
    let device = devices[0].clone();
    let criteria = device["criteria"].as_array().expect("criteria");
    assert_eq!(
        criteria.len(),
        16,
        "{name}: every criterion reported\n{log}"
    );
    for criterion in criteria {
        let verdict = criterion["verdict"].as_str().expect("verdict");
        assert!(
            matches!(
                verdict,
                "inconclusive" | "error" | "fail" | "not_applicable"
            ),
            "{name}: {} is {verdict} on a hostile device\n{criterion:#}",
            criterion["id"]
        );
        let findings = criterion["findings"].as_array().expect("findings");
        assert!(
            !findings.is_empty(),
            "{name}: {} has no reason\n{criterion:#}",
            criterion["id"]
        );
        // Not even one port's finding may pass on what a hostile service said.
        for finding in findings {
            assert_ne!(
                finding["verdict"], "pass",
                "{name}: a finding of {} passes\n{finding:#}",
                criterion["id"]
            );
        }
    }
    let open = device["ports"]["open"]
        .as_array()
        .expect("open ports")
        .len();
    assert_eq!(open, tcp_ports, "{name}: every open port kept\n{log}");

    // junit.xml: parses, one suite with a test case per criterion, counts that add up.
    let junit = std::fs::read_to_string(out.join("junit.xml")).expect("junit.xml written");
    let doc = roxmltree::Document::parse(&junit)
        .unwrap_or_else(|e| panic!("{name}: junit.xml does not parse: {e}"));
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let cases = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .count();
    assert_eq!(cases, 16, "{name}: junit test cases");
    assert_eq!(root.attribute("tests"), Some("16"), "{name}: junit total");
    Outcome { device, log }
}

/// The UDP port entry `port` of a device, if it was probed.
fn udp_port(device: &serde_json::Value, port: u16) -> Option<serde_json::Value> {
    device["udp_ports"]
        .as_array()
        .expect("udp ports")
        .iter()
        .find(|p| p["port"] == port)
        .cloned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tarpit_is_finished_by_its_budget() {
    let outcome = scan_persona(Case {
        persona: Hostile::Tarpit,
        octet: 1,
        // Shorter than identification of a silent port takes (four probes of 1.5 s each).
        host_timeout: Duration::from_secs(4),
    })
    .await;
    assert!(
        outcome.device.to_string().contains("time budget exceeded"),
        "{}",
        outcome.log
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_byte_drip_on_every_port_is_finished_by_its_budget() {
    scan_persona(Case {
        persona: Hostile::ByteDrip,
        octet: 2,
        host_timeout: Duration::from_secs(10),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_streams_are_cut_at_their_byte_caps() {
    scan_persona(Case {
        persona: Hostile::Firehose,
        octet: 3,
        host_timeout: Duration::from_secs(15),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_tls_servers_yield_no_pass_and_no_crash() {
    scan_persona(Case {
        persona: Hostile::TlsLiar,
        octet: 4,
        host_timeout: Duration::from_secs(15),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_upnp_description_nested_thousands_deep_is_survived() {
    let outcome = scan_persona(Case {
        persona: Hostile::DeepXml,
        octet: 5,
        host_timeout: Duration::from_secs(15),
    })
    .await;
    let ssdp = udp_port(&outcome.device, 1900).unwrap_or_else(|| panic!("{}", outcome.log));
    assert_eq!(ssdp["state"], "open", "the SSDP answer was read\n{ssdp:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_upnp_description_of_megabytes_is_survived() {
    let outcome = scan_persona(Case {
        persona: Hostile::HugeXml,
        octet: 6,
        host_timeout: Duration::from_secs(15),
    })
    .await;
    let ssdp = udp_port(&outcome.device, 1900).unwrap_or_else(|| panic!("{}", outcome.log));
    assert_eq!(ssdp["state"], "open", "the SSDP answer was read\n{ssdp:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_compression_loops_in_mdns_answers_are_survived() {
    let outcome = scan_persona(Case {
        persona: Hostile::DnsLoop,
        octet: 7,
        host_timeout: Duration::from_secs(15),
    })
    .await;
    let mdns = udp_port(&outcome.device, 5353).unwrap_or_else(|| panic!("{}", outcome.log));
    assert_ne!(mdns["state"], "closed", "the responder was asked\n{mdns:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_with_thousands_of_open_ports_is_finished_by_its_budget() {
    // A listener per port: raise the soft descriptor limit where the hard limit allows.
    let _ = rlimit::increase_nofile_limit(u64::from(jcstar_lab::hostile::MANY_PORTS) * 2 + 1024);
    let outcome = scan_persona(Case {
        persona: Hostile::ManyPorts,
        octet: 8,
        host_timeout: Duration::from_secs(12),
    })
    .await;
    let open = outcome.device["ports"]["open"]
        .as_array()
        .expect("open")
        .len();
    if open > 256 {
        let unidentified = &outcome.device["scan_stats"]["unidentified"];
        assert!(
            unidentified.as_u64().is_some_and(|n| n > 0),
            "identification is capped and says so: {unidentified}\n{}",
            outcome.log
        );
    }
}
