//! `--resume DIR`: a run stopped part-way (here by `--max-duration`) left every finished device
//! in `journal.jsonl`; the resumed run does not probe those again, finishes the others and
//! writes complete reports, which `jcstar report` can rebuild from the journal alone. Traffic
//! goes to 127.0.0.2 and 127.0.0.3 only.

mod common;

use common::{device, jcstar, results, transcript};

#[test]
fn a_resumed_run_keeps_finished_devices_and_completes_the_rest() {
    let port = common::tarpit("127.0.0.2").to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    // Identification of the silent port waits 10 s per probe: the first run cannot finish it.
    let profile = dir.path().join("slow.toml");
    let text = jcstar_model::profile::BUILTIN_TEXT
        .replace("banner_timeout_ms = 1500", "banner_timeout_ms = 10000");
    std::fs::write(&profile, text).expect("profile");
    let inventory = dir.path().join("inv.toml");
    std::fs::write(
        &inventory,
        "[[device]]\nname = \"quick\"\naddress = \"127.0.0.3\"\nservices = []\n\
         [[device]]\nname = \"slow\"\naddress = \"127.0.0.2\"\nservices = []\n",
    )
    .expect("inventory");
    let out = dir.path().join("run");
    let (profile, inventory, out_text) = (
        profile.to_str().expect("utf-8"),
        inventory.to_str().expect("utf-8"),
        out.to_str().expect("utf-8"),
    );
    let common = [
        "--targets",
        inventory,
        "--profile",
        profile,
        "-p",
        &port,
        "--quiet",
    ];

    let mut first = vec!["scan", "--out", out_text, "--max-duration", "5s"];
    first.extend(common);
    let output = jcstar(&first);
    assert_eq!(output.status.code(), Some(3), "{}", transcript(&output));
    let earlier = results(&out);
    assert_eq!(earlier["interrupted"], true);
    let quick_elapsed = device(&earlier, "quick")["scan_stats"]["elapsed_ms"].clone();
    assert!(quick_elapsed.is_u64(), "{earlier}");

    let mut second = vec!["scan", "--resume", out_text, "--host-timeout", "3s"];
    second.extend(common);
    let output = jcstar(&second);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        transcript(&output)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("resuming: 1 device(s)"), "{stderr}");
    assert!(stderr.contains("scanning 1 device(s)"), "{stderr}");
    let resumed = results(&out);
    assert_eq!(resumed["interrupted"], false);
    let quick = device(&resumed, "quick");
    assert_eq!(
        quick["scan_stats"]["elapsed_ms"], quick_elapsed,
        "the quick device's scan comes from the journal, not a new probe"
    );
    assert!(!quick["udp_ports"].as_array().expect("udp ports").is_empty());
    let slow = device(&resumed, "slow");
    assert_eq!(slow["ports"]["open"][0]["port"].to_string(), port);
    for file in ["junit.xml", "report.html", "journal.jsonl"] {
        assert!(out.join(file).is_file(), "{file}");
    }

    // A different port list cannot resume this run.
    let mut other = vec!["scan", "--resume", out_text, "--targets", inventory];
    other.extend(["--profile", profile, "-p", "1", "--quiet"]);
    let output = jcstar(&other);
    assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("journal.jsonl"));

    // Without results.json (a crash or power cut before the reports), `report` rebuilds every
    // report from the journal; this run finished every device, so it is complete.
    std::fs::remove_file(out.join("results.json")).expect("remove results.json");
    let output = jcstar(&["report", out_text, "--profile", profile]);
    assert!(
        matches!(output.status.code(), Some(0)),
        "{}",
        transcript(&output)
    );
    let rebuilt = results(&out);
    assert_eq!(rebuilt["interrupted"], false);
    assert!(rebuilt.get("stopped").is_none(), "{rebuilt}");
    assert_eq!(
        device(&rebuilt, "slow")["ports"]["open"][0]["port"].to_string(),
        port
    );
    assert_eq!(
        device(&rebuilt, "quick")["scan_stats"]["elapsed_ms"],
        quick_elapsed
    );
}
