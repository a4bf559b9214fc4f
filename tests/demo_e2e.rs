//! `jcstar demo` end to end: the reports say what the simulated lab really is.

mod common;

use common::{criterion, device, finding_text, jcstar, results, transcript};

#[test]
fn demo_reports_match_the_simulated_lab() {
    let out = tempfile::tempdir().expect("tempdir");
    let out_dir = out.path().join("run");
    let output = jcstar(&[
        "demo",
        "--subnet",
        "201",
        "--quiet",
        "--out",
        out_dir.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", transcript(&output));
    let results = results(&out_dir);
    assert_eq!(results["schema"], "jcstar.results");
    assert_eq!(results["schema_version"], 2);
    assert_eq!(results["interrupted"], false);
    for (name, readiness) in [
        ("weak-camera", "not_ready"),
        // Every tested criterion passes (its admin login locks after 5 failures, S1.1-04);
        // vendor evidence is still missing.
        ("hardened-device", "needs_evidence"),
    ] {
        assert_eq!(
            device(&results, name)["readiness"]["verdict"],
            readiness,
            "{name}"
        );
    }
    let camera_counts = &device(&results, "weak-camera")["readiness"];
    assert_eq!(camera_counts["document"]["declared"], 0);
    assert!(camera_counts["network_tested"]["fail"].as_u64() >= Some(1));

    let camera = device(&results, "weak-camera");
    assert_eq!(camera["device"]["address"], "127.77.201.1");
    let open: Vec<u64> = camera["ports"]["open"]
        .as_array()
        .expect("open ports")
        .iter()
        .map(|p| p["port"].as_u64().expect("port"))
        .collect();
    assert_eq!(
        open,
        [2323, 8080, 8554, 9527],
        "exactly the camera's listeners"
    );
    let services: Vec<&str> = camera["ports"]["open"]
        .as_array()
        .expect("open ports")
        .iter()
        .map(|p| p["service"]["kind"].as_str().unwrap_or("none"))
        .collect();
    assert_eq!(services, ["telnet", "http", "rtsp", "unknown"]);
    let interfaces = criterion(camera, "S1.1-13");
    assert_eq!(interfaces["verdict"], "fail");
    let text = finding_text(interfaces);
    assert!(text.contains("undeclared open port 9527/tcp"), "{text}");
    assert!(text.contains("debug/backdoor port 2323/tcp"), "{text}");
    assert_eq!(criterion(camera, "S1.1-05")["verdict"], "inconclusive");
    // S1.1-04: the telnet login answers wrong passwords at full speed.
    assert_eq!(criterion(camera, "S1.1-04")["verdict"], "fail");
    // S1.1-01: the RTSP stream answers DESCRIBE without credentials.
    let access = criterion(camera, "S1.1-01");
    assert_eq!(access["verdict"], "fail", "{access}");
    let text = finding_text(access);
    assert!(
        text.contains("rtsp 8554/tcp needs no authentication"),
        "{text}"
    );
    assert!(!text.contains("telnet 2323/tcp needs"), "{text}");
    // S1.1-02: exactly the three defaults the camera ships with, on their services (two on
    // telnet: every default is reported, not the first).
    let defaults = criterion(camera, "S1.1-02");
    assert_eq!(defaults["verdict"], "fail", "{defaults}");
    assert_eq!(
        accepted(defaults),
        [
            "http 8080/tcp /admin username=\"admin\" password=\"admin\"",
            "telnet 2323/tcp username=\"admin\" password=\"admin\"",
            "telnet 2323/tcp username=\"root\" password=\"xc3511\"",
        ]
    );

    // The strong camera: unique passwords, prompt characters in its telnet banner, every
    // admin path protected. No false positive, and a pass naming what was tried.
    let strong = device(&results, "strong-camera");
    assert_eq!(accepted(criterion(strong, "S1.1-02")), Vec::<String>::new());
    // Without a declared password scheme the criterion stays inconclusive; the probe passes.
    assert_eq!(
        access_verdicts(criterion(strong, "S1.1-02")),
        ["pass"],
        "{}",
        criterion(strong, "S1.1-02")
    );
    let tried = finding_text(criterion(strong, "S1.1-02"));
    assert!(
        tried.contains("telnet 2323/tcp (") && tried.contains("http 8080/tcp /admin ("),
        "{tried}"
    );
    assert_eq!(access_verdicts(criterion(strong, "S1.1-01")), ["pass"]);
    let demanded = finding_text(criterion(strong, "S1.1-01"));
    assert!(
        demanded.contains("telnet 2323/tcp: telnet asks for a login"),
        "{demanded}"
    );

    let hardened = device(&results, "hardened-device");
    let open: Vec<u64> = hardened["ports"]["open"]
        .as_array()
        .expect("open ports")
        .iter()
        .map(|p| p["port"].as_u64().expect("port"))
        .collect();
    assert_eq!(open, [8443]);
    assert_eq!(hardened["ports"]["open"][0]["service"]["kind"], "tls");
    let interfaces = criterion(hardened, "S1.1-13");
    assert_eq!(interfaces["verdict"], "pass", "{interfaces}");
    // Its security.txt is valid and names the declared VDP URL: a finding that supports the
    // declaration, which decides the document-evaluated S1.1-05.
    let vdp = criterion(hardened, "S1.1-05");
    assert_eq!(vdp["verdict"], "declared", "{vdp}");
    assert!(
        finding_text(vdp).contains("names the declared VDP URL"),
        "{vdp}"
    );
    assert_eq!(criterion(hardened, "S1.1-16")["verdict"], "declared");

    let tls = criterion(hardened, "S1.1-12");
    assert_eq!(tls["verdict"], "warn", "self-signed only: {tls}");
    let text = finding_text(tls);
    assert!(
        text.contains("port 8443/tcp: TLS TLSv1.3 with 3 suites"),
        "{text}"
    );
    assert!(
        text.contains("certificate ECDSA P-256, ecdsa-with-SHA256, self-signed"),
        "{text}"
    );
    assert!(!text.contains("TLSv1.2"), "{text}");

    let camera_crypto = finding_text(criterion(camera, "S1.1-12"));
    assert!(
        camera_crypto.contains("telnet on 2323/tcp carries logins in plaintext"),
        "{camera_crypto}"
    );
    assert!(
        camera_crypto.contains("HTTP login on plain HTTP at 8080/tcp /admin"),
        "{camera_crypto}"
    );

    let legacy = device(&results, "legacy-nvr");
    let tls = criterion(legacy, "S1.1-12");
    assert_eq!(tls["verdict"], "fail");
    assert_eq!(
        evidence(tls, "tls 8443/tcp TLSv1 suites").as_deref(),
        Some("0x000a,0x002f,0x0035")
    );
    assert_eq!(
        evidence(tls, "tls 8443/tcp TLSv1.1 suites").as_deref(),
        Some("0x000a,0x002f,0x0035")
    );
    assert_eq!(evidence(tls, "tls 8443/tcp TLSv1.2 suites"), None);
    assert_eq!(evidence(tls, "tls 8443/tcp SSLv3 suites"), None);
    let text = finding_text(tls);
    assert!(
        text.contains(
            "accepts TLSv1, TLSv1.1 with TLS_RSA_WITH_3DES_EDE_CBC_SHA (cipher 3des: fail"
        ),
        "{text}"
    );
    assert!(text.contains("certificate RSA-1024 below 2048 bits, sha1WithRSAEncryption, expired 2021-03-01, self-signed"), "{text}");

    let gateway = device(&results, "modern-gateway");
    let tls = criterion(gateway, "S1.1-12");
    assert_eq!(tls["verdict"], "warn", "{tls}");
    let mut tls13: Vec<String> = evidence(tls, "tls 8443/tcp TLSv1.3 suites")
        .expect("TLS 1.3 suites")
        .split(',')
        .map(str::to_string)
        .collect();
    tls13.sort();
    assert_eq!(tls13, ["0x1301", "0x1302", "0x1303"]);
    let mut tls12: Vec<String> = evidence(tls, "tls 8443/tcp TLSv1.2 suites")
        .expect("TLS 1.2 suites")
        .split(',')
        .map(str::to_string)
        .collect();
    tls12.sort();
    assert_eq!(
        tls12,
        ["0xc02b", "0xc02c", "0xcca9"],
        "rustls ECDSA AEAD suites"
    );
    assert!(
        !finding_text(tls).contains("accepts"),
        "no weak version or suite"
    );

    let router = device(&results, "old-router");
    let ssh = criterion(router, "S1.1-12");
    assert_eq!(ssh["verdict"], "fail");
    assert_eq!(
        evidence(ssh, "ssh 8888/tcp weak").as_deref(),
        Some("kex:diffie-hellman-group1-sha1,kex:diffie-hellman-group14-sha1,host key:ssh-rsa,host key:ssh-dss,cipher:aes128-cbc,cipher:3des-cbc,mac:hmac-md5,mac:hmac-sha1-96,mac:hmac-sha1")
    );

    access_personas_match_their_services(&results);
    brute_force_personas_match_their_defences(&results);

    // Every device answers all 16 criteria, and no criterion passes without a network finding
    // that passed and says what it saw; declared evidence never passes anything.
    let all: Vec<String> = (1..=16).map(|n| format!("S1.1-{n:02}")).collect();
    for dev in results["devices"].as_array().expect("devices") {
        let ids: Vec<&str> = dev["criteria"]
            .as_array()
            .expect("criteria")
            .iter()
            .filter_map(|c| c["id"].as_str())
            .collect();
        assert_eq!(ids, all, "{}", dev["device"]["name"]);
        for c in dev["criteria"].as_array().expect("criteria") {
            let verdict = c["verdict"].as_str().expect("verdict");
            let findings = c["findings"].as_array().expect("findings");
            assert!(
                findings
                    .iter()
                    .all(|f| f["check"] != "evidence.declared" || f["verdict"] != "pass"),
                "declared evidence passed a criterion: {c}"
            );
            if verdict == "pass" {
                assert!(
                    findings.iter().any(|f| f["verdict"] == "pass"
                        && f["check"] != "evidence.declared"
                        && !f["summary"].as_str().unwrap_or("").is_empty()),
                    "pass without a network finding behind it: {c}"
                );
                // Document-evaluated criteria (S1.1-05 and -10 included) never pass from a
                // network sighting alone.
                assert!(
                    ["S1.1-04", "S1.1-13"].contains(&c["id"].as_str().unwrap_or("")),
                    "only S1.1-04 and -13 can pass: {c}"
                );
            }
        }
    }
    form_login_ui_is_no_false_fail(&results);
    junit_matches_json(&out_dir, &results);
}

/// The access-control personas (hosts 7–14) on the profile's default ports: exactly which
/// pair worked on which service, which services were open without authentication, and no
/// false positive on the strong variants. (FTP on 2121 and SNMP on 1161/udp are not among the
/// profile's ports; the library tests in `harness/demo/access_tests.rs` cover them.)
fn access_personas_match_their_services(results: &serde_json::Value) {
    let unauthenticated = |name: &str| -> (String, String) {
        let c = criterion(device(results, name), "S1.1-01");
        let verdicts = access_verdicts(c);
        (verdicts.join(","), finding_text(c))
    };

    let (verdict, text) = unauthenticated("weak-broker");
    assert_eq!(verdict, "fail", "{text}");
    assert!(
        text.contains("mqtt 1883/tcp needs no authentication: anonymous CONNECT accepted and SUBSCRIBE # granted (topics: home/door/state)"),
        "{text}"
    );
    let (verdict, text) = unauthenticated("weak-kvm");
    assert_eq!(verdict, "fail", "{text}");
    assert!(
        text.contains("vnc 5900/tcp needs no authentication: VNC desktop with security type None"),
        "{text}"
    );
    let (verdict, text) = unauthenticated("weak-nvr");
    assert_eq!(verdict, "fail", "{text}");
    assert!(
        text.contains("telnet 2323/tcp needs no authentication: a shell without any login"),
        "{text}"
    );
    assert!(!text.contains("http 8080/tcp needs"), "{text}");
    assert!(!text.contains("rtsp 8554/tcp needs"), "{text}");
    assert_eq!(
        accepted(criterion(device(results, "weak-nvr"), "S1.1-02")),
        [
            "http 8080/tcp /admin username=\"admin\" password=\"admin\"",
            "http 8081/tcp /admin username=\"admin\" password=\"admin\"",
            "rtsp 8554/tcp username=\"admin\" password=\"admin\"",
            // Outside the profile's ports, scanned because the inventory declares it.
            "rtsp 8555/tcp username=\"admin\" password=\"admin\"",
        ]
    );

    for strong in ["strong-broker", "strong-kvm", "strong-nvr"] {
        let (verdict, text) = unauthenticated(strong);
        assert_eq!(verdict, "pass", "{strong}: {text}");
        let defaults = criterion(device(results, strong), "S1.1-02");
        assert_eq!(accepted(defaults), Vec::<String>::new(), "{strong}");
        assert_eq!(access_verdicts(defaults), ["pass"], "{strong}: {defaults}");
    }
    let text = finding_text(criterion(device(results, "strong-nvr"), "S1.1-02"));
    for surface in [
        "http 8080/tcp /admin",
        "http 8081/tcp /admin",
        "rtsp 8554/tcp",
        "rtsp 8555/tcp",
    ] {
        assert!(text.contains(surface), "{surface}: {text}");
    }
}

/// The value of the first evidence piece labelled `label` in a criterion's findings.
fn evidence(criterion: &serde_json::Value, label: &str) -> Option<String> {
    criterion["findings"]
        .as_array()?
        .iter()
        .flat_map(|f| f["evidence"].as_array().into_iter().flatten())
        .find(|e| e["label"] == label)
        .and_then(|e| e["received"].as_str().map(str::to_string))
}

/// The accepted-credential evidence values of a criterion's findings, sorted.
fn accepted(criterion: &serde_json::Value) -> Vec<String> {
    let mut out: Vec<String> = criterion["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .flat_map(|f| f["evidence"].as_array().cloned().unwrap_or_default())
        .filter(|e| e["label"] == "accepted credential")
        .map(|e| e["received"].as_str().unwrap_or("").to_string())
        .collect();
    out.sort();
    out
}

/// The verdicts of the access checks' findings of a criterion.
fn access_verdicts(criterion: &serde_json::Value) -> Vec<String> {
    criterion["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["check"].as_str().unwrap_or("").starts_with("access."))
        .map(|f| f["verdict"].as_str().unwrap_or("").to_string())
        .collect()
}

/// The JUnit file is well-formed XML and its counts agree with the JSON verdicts.
fn junit_matches_json(out_dir: &std::path::Path, results: &serde_json::Value) {
    let xml = std::fs::read_to_string(out_dir.join("junit.xml")).expect("junit.xml written");
    let doc = roxmltree::Document::parse(&xml).expect("junit.xml is well-formed XML");
    let suites: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    let devices = results["devices"].as_array().expect("devices");
    assert_eq!(suites.len(), devices.len());
    for (suite, dev) in suites.iter().zip(devices) {
        let count = |verdicts: &[&str]| {
            dev["criteria"]
                .as_array()
                .expect("criteria")
                .iter()
                .filter(|c| verdicts.contains(&c["verdict"].as_str().unwrap_or("")))
                .count()
                .to_string()
        };
        let cases: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), 16);
        assert_eq!(suite.attribute("tests"), Some("16"));
        let with_child = |tag: &str| {
            cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name(tag)))
                .count()
                .to_string()
        };
        assert_eq!(with_child("failure"), count(&["fail"]));
        assert_eq!(suite.attribute("failures"), Some(count(&["fail"]).as_str()));
        assert_eq!(with_child("error"), count(&["error"]));
        assert_eq!(
            with_child("skipped"),
            count(&["inconclusive", "declared", "not_applicable"])
        );
        let address = dev["device"]["address"].as_str().expect("address");
        assert!(
            suite.descendants().any(|n| n.has_tag_name("property")
                && n.attribute("name") == Some("address")
                && n.attribute("value") == Some(address)),
            "address property"
        );
    }
}

/// S1.1-04 on the guarded logins (hosts 2, 16-20): each defence gets the verdict it deserves,
/// and the bypassed ones say how.
/// A form-login web UI (login pages at /admin and /update, an OEM board name in the title)
/// is not content served without authentication, an open update page or another model.
fn form_login_ui_is_no_false_fail(results: &serde_json::Value) {
    let cam = device(results, "form-login-cam");
    for id in ["S1.1-01", "S1.1-07", "S1.1-10"] {
        let c = criterion(cam, id);
        assert_ne!(c["verdict"], "fail", "{id}: {c}");
    }
    let access = finding_text(criterion(cam, "S1.1-01"));
    assert!(!access.contains("needs no authentication"), "{access}");
    assert!(!access.contains("firmware update page"), "{access}");
}

fn brute_force_personas_match_their_defences(results: &serde_json::Value) {
    for (name, verdict, says) in [
        ("hardened-device", "pass", "lockout confirmed"),
        ("open-door-cam", "fail", "no slowdown or refusal"),
        ("slow-login-hub", "pass", "slowed down"),
        ("lockout-nvr", "pass", "lockout confirmed"),
        (
            "short-lock-cam",
            "pass",
            "lockout confirmed: the valid credential was rejected when the defence set in",
        ),
        ("per-user-lock-cam", "fail", "a second user name"),
        ("keepalive-gate-cam", "fail", "on one connection"),
        // Echoes the typed password: its 1.5 s refusals are measured as such (not as instant
        // ones), and its delay, charged per connection, falls to parallel connections.
        (
            "echo-telnet-cam",
            "fail",
            "slowed down after failure 5, but the defence is bypassed: 8 parallel connections",
        ),
    ] {
        let c = criterion(device(results, name), "S1.1-04");
        assert_eq!(c["verdict"], verdict, "{name}: {c}");
        let text = finding_text(c);
        assert!(text.contains(says), "{name}: {text}");
    }
    let hub = finding_text(criterion(device(results, "hardened-device"), "S1.1-04"));
    assert!(hub.contains("the account recovered"), "{hub}");
    // The demo inventory declares the lab's lockout window (10 s in the demo command).
    assert!(hub.contains("(declared lockout window 10 s)"), "{hub}");
    let gate = criterion(device(results, "keepalive-gate-cam"), "S1.1-04");
    let session = evidence(gate, "bypass: attempts on one connection").expect("session evidence");
    assert!(
        session.ends_with("the first includes the connect)"),
        "{session}"
    );
}
