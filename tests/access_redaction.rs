//! Operator-supplied passwords never reach a report: a run with inventory credentials (two
//! units of one model declaring the same initial password) against the simulated strong
//! camera, then a search of every output for the password.

mod common;

use common::{criterion, device, jcstar_beside_lab, results, transcript};
use jcstar_lab::{DemoLab, LabOptions};

const PASSWORD: &str = "Qm7-unit-48213";

#[tokio::test(flavor = "multi_thread")]
async fn inventory_passwords_never_appear_in_reports() {
    let lab = DemoLab::start(LabOptions { subnet: 121 })
        .await
        .expect("lab starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let inventory = dir.path().join("inventory.toml");
    let unit = |name: &str, host: u8| {
        format!(
            "[[device]]\nname = \"{name}\"\naddress = \"127.77.121.{host}\"\nmodel = \"JCS-CAM-300\"\n\
             [[device.credential]]\nservice = \"telnet\"\nusername = \"root\"\npassword = \"{PASSWORD}\"\ninitial = true\n\n"
        )
    };
    std::fs::write(&inventory, unit("unit-a", 6) + &unit("unit-b", 1)).expect("write inventory");
    let out = dir.path().join("out");
    let args = [
        "scan".to_string(),
        "--targets".into(),
        inventory.display().to_string(),
        "-p".into(),
        "2323,8080".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    let output = jcstar_beside_lab(args.into()).await;
    lab.shutdown().await;

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
        "{}",
        transcript(&output)
    );
    for file in ["results.json", "junit.xml"] {
        let text = std::fs::read_to_string(out.join(file)).expect("report written");
        assert!(
            !text.contains(PASSWORD),
            "{file} holds the operator password"
        );
    }
    // The multi-unit rule fired, without the password.
    let results = results(&out);
    let a = criterion(device(&results, "unit-a"), "S1.1-02");
    assert_eq!(a["verdict"], "fail", "{a}");
    assert!(
        a.to_string()
            .contains("declare the same initial telnet password"),
        "{a}"
    );
    assert!(
        a.to_string().contains("unit \\\"unit-b\\\" declares for user \\\"root\\\" (not shown) logs in to this unit too"),
        "{a}"
    );
    let b = criterion(device(&results, "unit-b"), "S1.1-02");
    assert!(!b.to_string().contains("logs in to this unit"), "{b}");
    // The operator credential's service is not guessed on.
    assert!(a.to_string().contains("telnet 2323/tcp: not tried"), "{a}");
}
