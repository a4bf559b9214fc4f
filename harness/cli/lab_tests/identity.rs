//! The web-information and identity checks against the demo personas: security.txt (valid,
//! expired, absent), firmware-update pages (open, behind authentication), the model on the web
//! page versus the declared one (match, mismatch, not shown) and components versus the declared
//! list. Each test has its own lab subnet (80–99).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use indicatif::ProgressBar;

use jcstar_checks::{declared, identity, web, ActiveContext, ActiveTarget};
use jcstar_lab::testing::start_lab;
use jcstar_lab::DemoLab;
use jcstar_model::device::Device;
use jcstar_model::profile::Profile;
use jcstar_model::{aggregate, CriterionResult, Finding, Verdict};
use jcstar_probe::scan::{prepare_limits, scan_hosts};

/// The profile with only the checks under test: declared evidence, web information, identity.
fn profile() -> Profile {
    let mut profile = Profile::builtin();
    profile.checks.enabled = ["declared_evidence", "web_information", "identity"]
        .map(String::from)
        .to_vec();
    profile
}

/// The lab's generated inventory, parsed the way `jcstar demo` parses it.
fn devices(lab: &DemoLab, profile: &Profile) -> Vec<Device> {
    let entries = crate::inventory::parse(&lab.inventory_toml(), Path::new("demo.toml"), profile)
        .expect("the demo inventory parses");
    entries
        .into_iter()
        .map(|entry| Device {
            name: entry.name,
            address: entry.address.parse::<IpAddr>().expect("an address"),
            hostname: None,
            model: entry.model,
            declared_services: entry.services,
            credentials: entry.credentials,
            evidence: entry.evidence,
        })
        .collect()
}

/// Every criterion's result for the named device, after a real scan of its listeners.
async fn judge(lab: &DemoLab, name: &str) -> Vec<CriterionResult> {
    let profile = profile();
    let all = devices(lab, &profile);
    let device = all
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("{name} in the inventory"))
        .clone();
    let ports: Vec<u16> = lab
        .devices()
        .iter()
        .find(|d| d.name == name)
        .expect("lab device")
        .listening
        .iter()
        .filter(|(_, kind)| *kind != "snmp")
        .map(|(port, _)| *port)
        .collect();
    let config = crate::run::scan_config(&profile, &ports);
    let limits = prepare_limits(&config);
    let scan = scan_hosts(&[device.address], &config, &limits, &ProgressBar::hidden())
        .await
        .remove(0);
    let today = chrono::Local::now().date_naive();
    let mut findings = declared::check(&device, &profile, today);
    let context = ActiveContext {
        profile: Arc::new(profile.clone()),
        intrusive: false,
        peers: Arc::new(all),
    };
    let outcome = jcstar_checks::run_active(ActiveTarget { device, scan }, context).await;
    findings.extend(outcome.findings);
    profile
        .criteria
        .iter()
        .map(|c| {
            let own: Vec<Finding> = findings
                .iter()
                .filter(|f| f.criteria.contains(&c.id))
                .cloned()
                .collect();
            aggregate(&c.id, &c.title, own)
        })
        .collect()
}

fn criterion<'a>(results: &'a [CriterionResult], id: &str) -> &'a CriterionResult {
    results.iter().find(|r| r.id == id).expect("criterion")
}

/// The findings of one check for one criterion.
fn by_check<'a>(result: &'a CriterionResult, check: &str) -> Vec<&'a Finding> {
    result
        .findings
        .iter()
        .filter(|f| f.check == check)
        .collect()
}

/// The one finding of `check` on a criterion.
fn finding<'a>(result: &'a CriterionResult, check: &str) -> &'a Finding {
    let found = by_check(result, check);
    assert_eq!(found.len(), 1, "{check}: {result:?}");
    found[0]
}

/// Every evidence value of a criterion's findings, joined.
fn evidence(result: &CriterionResult) -> String {
    result
        .findings
        .iter()
        .flat_map(|f| &f.evidence)
        .map(|e| format!("{}={}", e.label, e.received.as_deref().unwrap_or("")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// No criterion passes without a passing finding, and the document criteria S1.1-05, -06,
/// -07, -08 and -10 never pass from the network alone.
fn no_false_pass(results: &[CriterionResult]) {
    for r in results {
        if r.verdict == Verdict::Pass {
            assert!(
                r.findings.iter().any(|f| f.verdict == Verdict::Pass),
                "{r:?}"
            );
            assert!(
                !["S1.1-05", "S1.1-06", "S1.1-07", "S1.1-08", "S1.1-10"].contains(&r.id.as_str()),
                "{r:?}"
            );
        }
    }
}

#[tokio::test]
async fn weak_camera_open_update_page_fails_and_its_model_passes() {
    let lab = start_lab(80).await;
    let results = judge(&lab, "weak-camera").await;
    no_false_pass(&results);
    // An update page open to anyone fails S1.1-01; S1.1-07 is judged on the stated procedure.
    let access = criterion(&results, "S1.1-01");
    let open = by_check(access, web::UPDATE_PAGE);
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(by_check(criterion(&results, "S1.1-07"), web::UPDATE_PAGE).is_empty());
    assert!(
        open[0].summary.contains(
            "http://127.77.80.1:8080/upgrade (Firmware Upgrade) answers without authentication"
        ),
        "{}",
        open[0].summary
    );
    assert_eq!(open[0].criteria, ["S1.1-01"]);
    assert_eq!(criterion(&results, "S1.1-01").verdict, Verdict::Fail);

    // The model is seen, but S1.1-10 is judged on documents: without the label photo it
    // stays inconclusive, the sighting a passing finding beside it.
    let model = criterion(&results, "S1.1-10");
    assert_eq!(model.verdict, Verdict::Inconclusive, "{model:?}");
    assert!(model.reason.contains("label_photo"), "{}", model.reason);
    let seen = finding(model, identity::MODEL);
    assert_eq!(seen.verdict, Verdict::Pass);
    assert!(
        seen.summary
            .contains("JCS-CAM-100 is shown by 8080/tcp http page title"),
        "{}",
        seen.summary
    );
    // Nothing declared, no security.txt: S1.1-05 names the missing field and what was looked for.
    let vdp = criterion(&results, "S1.1-05");
    assert_eq!(vdp.verdict, Verdict::Inconclusive, "{vdp:?}");
    assert!(vdp.reason.contains("vdp_url"), "{}", vdp.reason);
    let looked = finding(vdp, web::SECURITY_TXT);
    assert!(
        looked.summary.contains("no security.txt"),
        "{}",
        looked.summary
    );
    let components = criterion(&results, "S1.1-06");
    assert_eq!(components.verdict, Verdict::Inconclusive);
    assert!(
        evidence(components).contains("8080/tcp HTTP Server header=jcs-httpd 1.0"),
        "{}",
        evidence(components)
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn valid_security_txt_passes_and_a_protected_update_page_is_no_finding() {
    let lab = start_lab(81).await;
    let results = judge(&lab, "hardened-device").await;
    no_false_pass(&results);
    // A valid security.txt supports the declared VDP URL, which decides S1.1-05.
    let vdp = criterion(&results, "S1.1-05");
    assert_eq!(vdp.verdict, Verdict::Declared, "{vdp:?}");
    let txt = finding(vdp, web::SECURITY_TXT);
    assert_eq!(txt.verdict, Verdict::Pass);
    assert!(txt.summary.contains("https://127.77.81.2:8443/.well-known/security.txt publishes a vulnerability contact (mailto:psirt@vendor.example)"), "{}", txt.summary);
    assert!(
        txt.summary
            .contains("names the declared VDP URL https://vendor.example/security/vdp"),
        "{}",
        txt.summary
    );
    assert!(evidence(vdp).contains("Expires=2099-12-31T23:59:59Z"));
    // /system/upgrade answers 401: not an open update page; S1.1-07 stays with the declaration.
    let update = criterion(&results, "S1.1-07");
    assert!(by_check(update, web::UPDATE_PAGE).is_empty(), "{update:?}");
    assert_eq!(update.verdict, Verdict::Declared);
    let model = criterion(&results, "S1.1-10");
    assert_eq!(finding(model, identity::MODEL).verdict, Verdict::Pass);
    assert_ne!(model.verdict, Verdict::Pass, "{model:?}");
    let s108 = criterion(&results, "S1.1-08");
    assert_eq!(
        s108.verdict,
        Verdict::Declared,
        "https update URL: {s108:?}"
    );
    assert!(by_check(s108, declared::UPDATE_TRANSPORT).is_empty());
    lab.shutdown().await;
}

#[tokio::test]
async fn expired_security_txt_warns() {
    let lab = start_lab(82).await;
    let results = judge(&lab, "strong-camera").await;
    no_false_pass(&results);
    let vdp = criterion(&results, "S1.1-05");
    assert_eq!(vdp.verdict, Verdict::Warn, "{vdp:?}");
    assert!(
        vdp.reason.contains("expired on 2024-03-31T00:00:00Z"),
        "{}",
        vdp.reason
    );
    assert!(
        vdp.reason.contains("no VDP URL is declared"),
        "{}",
        vdp.reason
    );
    assert!(by_check(criterion(&results, "S1.1-07"), web::UPDATE_PAGE).is_empty());
    let model = criterion(&results, "S1.1-10");
    assert_eq!(finding(model, identity::MODEL).verdict, Verdict::Pass);
    lab.shutdown().await;
}

#[tokio::test]
async fn another_model_on_the_page_fails_and_undeclared_components_warn() {
    let lab = start_lab(83).await;
    let results = judge(&lab, "rebadged-cam").await;
    no_false_pass(&results);
    let model = criterion(&results, "S1.1-10");
    assert_eq!(model.verdict, Verdict::Fail, "{model:?}");
    assert!(
        model
            .reason
            .contains("another model than the declared JCS-CAM-260"),
        "{}",
        model.reason
    );
    assert!(
        model.reason.contains("\"JCS-CAM-250 Web Admin\""),
        "{}",
        model.reason
    );
    let components = criterion(&results, "S1.1-06");
    assert_eq!(components.verdict, Verdict::Warn, "{components:?}");
    assert!(
        components.reason.contains(
            "PHP 5.6.40 (8080/tcp HTTP X-Powered-By header) is not in the declared component list"
        ),
        "{}",
        components.reason
    );
    assert!(
        !components.reason.contains("GoAhead"),
        "declared: {}",
        components.reason
    );
    let s108 = criterion(&results, "S1.1-08");
    assert_eq!(s108.verdict, Verdict::Warn, "{s108:?}");
    assert!(
        s108.reason
            .contains("update_download_url http://dl.vendor.example/cam260/fw.bin is plain HTTP"),
        "{}",
        s108.reason
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn unseen_model_rests_on_the_label_photo_or_asks_for_it() {
    let lab = start_lab(84).await;
    let sensor = judge(&lab, "plain-sensor").await;
    no_false_pass(&sensor);
    let model = criterion(&sensor, "S1.1-10");
    assert_eq!(model.verdict, Verdict::Declared, "{model:?}");
    let unseen = finding(model, identity::MODEL);
    assert!(
        unseen
            .summary
            .contains("JCS-SNS-270 is not visible on the network"),
        "{}",
        unseen.summary
    );
    assert!(unseen.summary.contains("evidence/jcs-sns-270-label.jpg"));
    assert!(evidence(model).contains("8080/tcp http page title=Sensor status"));
    let vdp = criterion(&sensor, "S1.1-05");
    assert_eq!(vdp.verdict, Verdict::Declared, "{vdp:?}");
    let looked = finding(vdp, web::SECURITY_TXT);
    assert!(
        looked.summary.contains("no security.txt"),
        "{}",
        looked.summary
    );
    let s108 = criterion(&sensor, "S1.1-08");
    assert_eq!(s108.verdict, Verdict::Fail, "{s108:?}");
    assert!(
        s108.reason
            .contains("update_check_url http://update.vendor.example/sns270/check"),
        "{}",
        s108.reason
    );
    let components = criterion(&sensor, "S1.1-06");
    assert_eq!(components.verdict, Verdict::Declared, "{components:?}");
    assert!(evidence(components).contains("lighttpd 1.4.69"));

    // No web page, no photo: inconclusive, asking for the photo; the SSH banner is a component.
    let router = judge(&lab, "old-router").await;
    no_false_pass(&router);
    let model = criterion(&router, "S1.1-10");
    assert_eq!(model.verdict, Verdict::Inconclusive, "{model:?}");
    assert!(model.reason.contains("label_photo"), "{}", model.reason);
    let components = criterion(&router, "S1.1-06");
    assert!(
        evidence(components).contains("8888/tcp ssh banner=dropbear 2012.55"),
        "{}",
        evidence(components)
    );
    lab.shutdown().await;
}

#[tokio::test]
async fn identity_check_sees_the_scan_banners() {
    let lab = start_lab(85).await;
    let results = judge(&lab, "ssh-gateway").await;
    let components = criterion(&results, "S1.1-06");
    assert!(
        by_check(components, identity::COMPONENTS)
            .iter()
            .any(|f| f.evidence.iter().any(|e| e.label == "2222/tcp ssh banner")),
        "{components:?}"
    );
    lab.shutdown().await;
}
