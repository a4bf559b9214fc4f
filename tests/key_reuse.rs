//! S1.1-11 across units: devices presenting the same TLS key all fail, with the shared
//! fingerprint; a device with its own key does not. Real rustls servers on loopback.

mod common;

use common::{criterion, device, jcstar_beside_lab, results, transcript};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

/// Serves TLS handshakes on `address` until the test ends; returns the port.
async fn serve(address: &str, acceptor: TlsAcceptor) -> u16 {
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

#[tokio::test(flavor = "multi_thread")]
async fn units_sharing_a_tls_key_fail_s1_1_11_and_a_unique_key_does_not() {
    let shared = common::tls_acceptor();
    let ports = [
        serve("127.0.0.4", shared.clone()).await,
        serve("127.0.0.5", shared).await,
        serve("127.0.0.6", common::tls_acceptor()).await,
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let inventory = dir.path().join("inv.toml");
    let mut text = String::new();
    for (name, host) in [("unit-a", 4), ("unit-b", 5), ("unit-c", 6)] {
        text.push_str(&format!(
            "[[device]]\nname = \"{name}\"\naddress = \"127.0.0.{host}\"\nmodel = \"JCS-KEY-1\"\n\n"
        ));
    }
    std::fs::write(&inventory, text).expect("write inventory");
    let out = dir.path().join("out");
    let port_list = ports.map(|p| p.to_string()).join(",");
    let args = [
        "scan".to_string(),
        "--targets".into(),
        inventory.display().to_string(),
        "-p".into(),
        port_list,
        "--no-intrusive".into(),
        "--quiet".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    let output = jcstar_beside_lab(args.into()).await;
    let report = results(&out);
    let reuse_summary = |name: &str| -> Option<String> {
        let s11 = criterion(device(&report, name), "S1.1-11");
        s11["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["check"] == "crypto.key_reuse")
            .map(|f| f["summary"].as_str().unwrap_or("").to_string())
    };
    let a = reuse_summary("unit-a").unwrap_or_else(|| panic!("unit-a: {}", transcript(&output)));
    let b = reuse_summary("unit-b").expect("unit-b fails too");
    assert_eq!(a, b, "both name the same fingerprint");
    assert!(a.contains("shared by 2 devices: unit-a, unit-b"), "{a}");
    for name in ["unit-a", "unit-b"] {
        assert_eq!(
            criterion(device(&report, name), "S1.1-11")["verdict"],
            "fail"
        );
    }
    assert_eq!(reuse_summary("unit-c"), None, "a unique key is not reuse");
    assert_ne!(
        criterion(device(&report, "unit-c"), "S1.1-11")["verdict"],
        "fail"
    );
}
