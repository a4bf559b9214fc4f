//! `jcstar scan --shard I/4` four times, then `jcstar merge`, equals one unsharded run: the
//! same devices in the same order, the same verdict and findings per device and criterion, and
//! key reuse (S1.1-11) judged across shards. The simulated demo lab serves the devices, plus
//! three TLS units (two sharing a key) placed so the sharing pair lands in different shards.
//!
//! Runs use `--no-intrusive` (no credential guessing or lockout timing, whose measured delays
//! differ from run to run) so the test takes about 20 s on 2 cores; the single run goes first,
//! then the four shards in parallel (each probes other devices).

mod common;

use std::net::IpAddr;

use common::{jcstar, jcstar_beside_lab, results, transcript};
use jcstar::shard::shard_of;
use jcstar_lab::{DemoLab, LabOptions};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const SUBNET: u8 = 215;

/// Serves TLS handshakes on `address` until the test ends; returns the port.
async fn serve(address: IpAddr, acceptor: TlsAcceptor) -> u16 {
    let listener = TcpListener::bind((address, 0))
        .await
        .expect("bind loopback");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    acceptor.accept(stream),
                )
                .await;
            });
        }
    });
    port
}

/// Per device name, per criterion: (verdict, sorted (check, verdict, summary) of its findings).
type Judged = Vec<(String, Vec<(String, String, Vec<String>)>)>;

fn judged(results: &serde_json::Value) -> Judged {
    results["devices"]
        .as_array()
        .expect("devices")
        .iter()
        .map(|device| {
            let criteria = device["criteria"]
                .as_array()
                .expect("criteria")
                .iter()
                .map(|c| {
                    let mut findings: Vec<String> = c["findings"]
                        .as_array()
                        .expect("findings")
                        .iter()
                        .map(|f| format!("{} {} {}", f["check"], f["verdict"], f["summary"]))
                        .collect();
                    findings.sort();
                    (
                        c["id"].as_str().unwrap_or("").to_string(),
                        c["verdict"].as_str().unwrap_or("").to_string(),
                        findings,
                    )
                })
                .collect();
            (
                device["device"]["name"].as_str().unwrap_or("").to_string(),
                criteria,
            )
        })
        .collect()
}

fn scan_args(inventory: &str, out: &std::path::Path, shard: Option<String>) -> Vec<String> {
    let mut args: Vec<String> = ["scan", "--targets", inventory, "--no-intrusive", "--quiet"]
        .map(String::from)
        .into();
    args.push("--out".into());
    args.push(out.display().to_string());
    if let Some(shard) = shard {
        args.push("--shard".into());
        args.push(shard);
    }
    args
}

#[tokio::test(flavor = "multi_thread")]
async fn four_merged_shards_equal_one_run() {
    let lab = DemoLab::start(LabOptions { subnet: SUBNET })
        .await
        .expect("lab starts");
    // Two units sharing a key in different shards, one with its own key.
    let candidates: Vec<IpAddr> = (1..=60u8)
        .map(|host| IpAddr::from([127, 78, SUBNET, host]))
        .collect();
    let first = candidates[0];
    let second = *candidates
        .iter()
        .find(|a| shard_of(a, 4) != shard_of(&first, 4))
        .expect("another shard among 60 addresses");
    let third = candidates[1..]
        .iter()
        .copied()
        .find(|&a| a != second)
        .expect("a third address");
    let shared = common::tls_acceptor();
    let units = [
        ("key-unit-a", first, serve(first, shared.clone()).await),
        ("key-unit-b", second, serve(second, shared).await),
        (
            "key-unit-c",
            third,
            serve(third, common::tls_acceptor()).await,
        ),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = lab.inventory_toml();
    for (name, address, port) in units {
        text.push_str(&format!(
            "\n[[device]]\nname = \"{name}\"\naddress = \"{address}\"\nmodel = \"JCS-KEY-1\"\nservices = [\"{port}/tcp\"]\n"
        ));
    }
    let inventory = dir.path().join("inventory.toml");
    std::fs::write(&inventory, text).expect("write inventory");
    let inventory = inventory.display().to_string();

    let whole = dir.path().join("whole");
    let output = jcstar_beside_lab(scan_args(&inventory, &whole, None)).await;
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        transcript(&output)
    );
    let mut shards = Vec::new();
    for i in 1..=4 {
        let out = dir.path().join(format!("shard-{i}"));
        let args = scan_args(&inventory, &out, Some(format!("{i}/4")));
        shards.push((out, tokio::spawn(jcstar_beside_lab(args))));
    }
    let mut shard_dirs = Vec::new();
    let mut sizes = Vec::new();
    for (out, run) in shards {
        let output = run.await.expect("shard ran");
        assert!(
            matches!(output.status.code(), Some(0 | 1)),
            "{}",
            transcript(&output)
        );
        sizes.push(results(&out)["devices"].as_array().map_or(0, Vec::len));
        shard_dirs.push(out.display().to_string());
    }
    lab.shutdown().await;

    let merged = dir.path().join("merged");
    let mut args = vec!["merge".to_string(), merged.display().to_string()];
    args.extend(shard_dirs.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = jcstar(&args);
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{}",
        transcript(&output)
    );
    for file in ["junit.xml", "report.html", "checklist.csv", "summary.md"] {
        assert!(merged.join(file).is_file(), "{file}");
    }

    let single = results(&whole);
    let joined = results(&merged);
    let total = single["devices"].as_array().map_or(0, Vec::len);
    assert_eq!(sizes.iter().sum::<usize>(), total, "{sizes:?}");
    assert!(
        sizes.iter().filter(|&&n| n > 0).count() >= 3,
        "the hash spreads the devices: {sizes:?}"
    );
    assert_eq!(joined["summary"], single["summary"]);
    assert_eq!(judged(&joined), judged(&single));
    assert!(joined.get("shard").is_none());

    // Key reuse was judged across shards: the pair fails, naming each other.
    let reuse = |results: &serde_json::Value, name: &str| -> Vec<String> {
        common::criterion(common::device(results, name), "S1.1-11")["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["check"] == "crypto.key_reuse")
            .map(|f| f["summary"].as_str().unwrap_or("").to_string())
            .collect()
    };
    for name in ["key-unit-a", "key-unit-b"] {
        let found = reuse(&joined, name);
        assert_eq!(found.len(), 1, "{name}: {found:?}");
        assert!(
            found[0].contains("shared by 2 devices: key-unit-a, key-unit-b"),
            "{found:?}"
        );
    }
    assert!(reuse(&joined, "key-unit-c").is_empty());

    // The merged document follows the schema.
    let schema: serde_json::Value =
        serde_json::from_str(jcstar_report::RESULTS_SCHEMA).expect("schema is JSON");
    let validator = jsonschema::draft202012::new(&schema).expect("valid schema");
    let errors: Vec<String> = validator
        .iter_errors(&joined)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    let shard_doc = results(std::path::Path::new(&shard_dirs[0]));
    assert!(validator.iter_errors(&shard_doc).next().is_none());

    // Merging a shard twice, or leaving one out, is refused in one line.
    let again = dir.path().join("again");
    let twice = jcstar(&[
        "merge",
        again.to_str().expect("utf-8"),
        &shard_dirs[0],
        &shard_dirs[0],
    ]);
    assert_eq!(twice.status.code(), Some(2), "{}", transcript(&twice));
    let largest = (0..4).max_by_key(|&i| sizes[i]).unwrap_or(0);
    let mut args = vec!["merge".to_string(), again.display().to_string()];
    args.extend(
        (0..4)
            .filter(|&i| i != largest)
            .map(|i| shard_dirs[i].clone()),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let missing = jcstar(&args);
    assert_eq!(missing.status.code(), Some(2), "{}", transcript(&missing));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("missing"), "{stderr}");

    // A device in two inputs, a whole run among shards and another profile: one line each,
    // naming the file.
    let whole_text = whole.display().to_string();
    let mut other = results(&whole);
    other["profile"]["name"] = "another-profile".into();
    let other_path = dir.path().join("other-results.json");
    std::fs::write(&other_path, other.to_string()).expect("write");
    let other_text = other_path.display().to_string();
    for (inputs, expected) in [
        (vec![whole_text.clone(), whole_text.clone()], "is also in"),
        (vec![shard_dirs[0].clone(), whole_text.clone()], "whole run"),
        (vec![other_text.clone()], "another-profile"),
    ] {
        let mut args = vec!["merge".to_string(), again.display().to_string()];
        args.extend(inputs);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = jcstar(&args);
        assert_eq!(output.status.code(), Some(2), "{}", transcript(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
        assert!(stderr.contains("results.json"), "names the file: {stderr}");
    }
}
