//! Lab-wide tests: addresses, parallel labs, inventory, robustness.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::testing::{exchange, read_until, start_lab};
use super::*;

#[tokio::test]
async fn devices_describe_the_personas() {
    let lab = start_lab(111).await;
    let devices = lab.devices();
    assert!(devices.len() >= 6, "{} devices", devices.len());
    let listening: Vec<_> = devices[2..5]
        .iter()
        .map(|d| (d.name.as_str(), d.listening.clone()))
        .collect();
    assert_eq!(
        listening,
        [
            ("legacy-nvr", vec![(8443, "tls")]),
            ("modern-gateway", vec![(8443, "tls")]),
            ("old-router", vec![(8888, "ssh")]),
        ]
    );
    assert!(lab.tls_certificate("modern-gateway").is_some());
    assert_eq!(devices[5].name, "strong-camera");
    assert_eq!(devices[5].listening, [(2323, "telnet"), (8080, "http")]);

    let camera = &devices[0];
    assert_eq!(camera.name, "weak-camera");
    assert_eq!(camera.address, "127.77.111.1".parse::<IpAddr>().unwrap());
    assert_eq!(camera.model, "JCS-CAM-100");
    assert_eq!(
        camera.listening,
        [
            (2323, "telnet"),
            (8080, "http"),
            (8554, "rtsp"),
            (9527, "unknown")
        ]
    );
    assert_eq!(camera.declared, [2323, 8080, 8554]);

    let hub = &devices[1];
    assert_eq!(hub.name, "hardened-device");
    assert_eq!(hub.address, "127.77.111.2".parse::<IpAddr>().unwrap());
    assert_eq!(hub.listening, [(8443, "tls")]);
    assert_eq!(hub.declared, [8443]);
    assert!(lab.tls_certificate("hardened-device").is_some());
    assert!(lab.tls_certificate("weak-camera").is_none());
}

#[tokio::test]
async fn labs_on_different_subnets_coexist_and_a_subnet_cannot_be_reused() {
    let first = start_lab(112).await;
    let second = start_lab(113).await;
    for address in ["127.77.112.1:8080", "127.77.113.1:8080"] {
        let page = exchange(address, b"GET / HTTP/1.0\r\n\r\n").await;
        assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    }

    let Err(error) = DemoLab::start(LabOptions { subnet: 112 }).await else {
        panic!("a second lab on subnet 112 must not start");
    };
    let message = error.to_string();
    assert!(message.contains("127.77.112.1:2323"), "{message}");
    assert!(matches!(
        error,
        LabError::Bind { ref source, .. } if source.kind() == io::ErrorKind::AddrInUse
    ));

    // The failed start must not have disturbed the running lab.
    let page = exchange("127.77.112.1:8080", b"GET / HTTP/1.0\r\n\r\n").await;
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    first.shutdown().await;
    drop(second);
}

#[tokio::test]
async fn shutdown_and_drop_release_every_port() {
    let lab = start_lab(114).await;
    lab.shutdown().await;
    assert!(TcpStream::connect("127.77.114.1:2323").await.is_err());
    let lab = start_lab(114).await;
    drop(lab);
    // Dropping aborts the tasks; the sockets close as soon as the runtime drops them.
    let mut restarted = None;
    for _ in 0..50 {
        if let Ok(lab) = DemoLab::start(LabOptions { subnet: 114 }).await {
            restarted = Some(lab);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(restarted.is_some(), "ports were not released after drop");
}

#[tokio::test]
async fn inventory_is_valid_toml_with_the_expected_fields() {
    let lab = start_lab(115).await;
    let text = lab.inventory_toml();
    assert!(text.starts_with("# jcstar demo lab inventory (generated)\n"));
    let inventory: toml::Table = text.parse().expect("valid TOML");
    let devices = inventory["device"].as_array().expect("device array");
    assert!(devices.len() >= 6, "{} devices", devices.len());

    let camera = devices[0].as_table().unwrap();
    assert_eq!(camera["name"].as_str(), Some("weak-camera"));
    assert_eq!(camera["address"].as_str(), Some("127.77.115.1"));
    assert_eq!(camera["model"].as_str(), Some("JCS-CAM-100"));
    let services: Vec<_> = camera["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(services, ["2323/tcp", "8080/tcp", "8554/tcp"]);
    assert!(!camera.contains_key("evidence"));

    let hub = devices[1].as_table().unwrap();
    assert_eq!(hub["name"].as_str(), Some("hardened-device"));
    assert_eq!(hub["address"].as_str(), Some("127.77.115.2"));
    assert_eq!(hub["services"].as_array().unwrap().len(), 1);
    let evidence = hub["evidence"].as_table().unwrap();
    assert_eq!(evidence.len(), 7);
    assert_eq!(
        evidence["vdp_url"].as_str(),
        Some("https://vendor.example/security/vdp")
    );
    assert_eq!(evidence["support_end_date"].as_str(), Some("2031-03-31"));
    assert_eq!(evidence["update_mode"].as_str(), Some("automatic"));
}

#[test]
fn toml_strings_are_escaped() {
    let tricky = "a \"quoted\" \\ path\nwith\ttabs and \u{1} bell";
    let text = format!("value = {}\n", toml_string(tricky));
    let parsed: toml::Table = text.parse().unwrap();
    assert_eq!(parsed["value"].as_str(), Some(tricky));
}

#[tokio::test]
async fn servers_shrug_off_scanner_style_abuse() {
    let _lab = start_lab(116).await;
    let ports = [2323, 8080, 8554, 9527];
    for round in 0..30 {
        for port in ports {
            let conn = TcpStream::connect(("127.77.116.1", port)).await.unwrap();
            if round % 2 == 0 {
                conn.set_zero_linger().unwrap();
            }
            drop(conn);
        }
        let tls = TcpStream::connect("127.77.116.2:8443").await.unwrap();
        tls.set_zero_linger().unwrap();
        drop(tls);
    }
    // Closed ports on a lab address are refused, not hung.
    assert!(TcpStream::connect("127.77.116.1:2324").await.is_err());

    let page = exchange("127.77.116.1:8080", b"GET / HTTP/1.0\r\n\r\n").await;
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{page}");
    let mut telnet = TcpStream::connect("127.77.116.1:2323").await.unwrap();
    read_until(&mut telnet, b"login: ").await;
}

#[tokio::test]
async fn connections_beyond_the_cap_are_closed_at_once() {
    let limits = Limits {
        max_connections: 2,
        ..Limits::default()
    };
    let _lab = DemoLab::start_with_limits(LabOptions { subnet: 117 }, limits)
        .await
        .unwrap();
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut conn = TcpStream::connect("127.77.117.1:9527").await.unwrap();
        read_until(&mut conn, b"debug> ").await;
        held.push(conn);
    }
    let mut extra = TcpStream::connect("127.77.117.1:9527").await.unwrap();
    let mut seen = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), extra.read_to_end(&mut seen)).await;
    assert!(read.is_ok(), "connection over the cap was not closed");
    assert!(seen.is_empty());

    drop(held);
    // Once the held sessions end, the listener serves again.
    let mut served = false;
    for _ in 0..50 {
        let mut conn = TcpStream::connect("127.77.117.1:9527").await.unwrap();
        let mut first = [0u8; 7];
        let got =
            tokio::time::timeout(Duration::from_millis(200), conn.read_exact(&mut first)).await;
        if matches!(got, Ok(Ok(_))) {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served);
}

#[test]
fn demo_udp_servers_ignore_garbage() {
    use super::personas::{all, Protocol};
    let local: std::net::SocketAddr = "127.77.64.21:1900".parse().expect("addr");
    let garbage: [&[u8]; 6] = [
        b"",
        b"\xff\xff\xff\xff",
        b"M-SEARCH * HTTP/1.1\r\n\r\n",
        b"<s:Envelope><s:Body><d:Probe/></s:Body></s:Envelope>",
        &[0u8; 12],
        &[0x40; 1500],
    ];
    for persona in all() {
        for service in persona.services {
            for data in garbage {
                let reply = match &service.protocol {
                    Protocol::Ssdp(upnp) => super::ssdp::answer(data, local, upnp),
                    Protocol::Coap(links) => super::coap::answer(data, links),
                    Protocol::Mdns(services) => super::mdns::answer(data, services, "x.local"),
                    Protocol::WsDiscovery(onvif) => super::wsd::answer(data, local, onvif),
                    _ => None,
                };
                assert_eq!(reply, None, "{}: {data:?}", persona.name);
            }
        }
    }
}

/// `targets/demo.toml` names every device as a demo persona with the same address, model,
/// declared services and evidence, so the file cannot drift from the lab. (That jcstar loads
/// the file is tested beside the inventory parser.)
#[test]
fn demo_inventory_matches_the_demo_lab() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../targets/demo.toml");
    let text = std::fs::read_to_string(&path).expect("targets/demo.toml");
    let inventory: toml::Table = text.parse().expect("demo.toml is TOML");
    let entries = inventory["device"].as_array().expect("[[device]] entries");
    assert!(entries.len() >= 6, "{} devices", entries.len());
    let text_of = |value: &toml::Value| value.as_str().expect("a string").to_string();
    let mut with_evidence = 0;
    for entry in entries {
        let name = text_of(&entry["name"]);
        let persona = personas::all()
            .find(|p| p.name == name)
            .unwrap_or_else(|| panic!("{name} is not a demo persona"));
        assert_eq!(
            text_of(&entry["address"]),
            format!("127.77.0.{}", persona.host),
            "{name}"
        );
        assert_eq!(text_of(&entry["model"]), persona.model, "{name}");
        let services: Vec<String> = entry
            .get("services")
            .and_then(toml::Value::as_array)
            .map(|list| list.iter().map(text_of).collect())
            .unwrap_or_default();
        let declared: Vec<String> = persona
            .services
            .iter()
            .filter(|s| s.declared)
            .map(|s| {
                let udp = s.protocol.is_udp();
                format!("{}/{}", s.port, if udp { "udp" } else { "tcp" })
            })
            .collect();
        assert_eq!(services, declared, "{name}");
        let mut expected: Vec<(String, String)> = persona
            .evidence
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        expected.sort();
        let found: Vec<(String, String)> = entry
            .get("evidence")
            .and_then(toml::Value::as_table)
            .map(|table| table.iter().map(|(k, v)| (k.clone(), text_of(v))).collect())
            .unwrap_or_default();
        assert_eq!(found, expected, "{name}");
        with_evidence += usize::from(!expected.is_empty());
    }
    assert!(with_evidence >= 2 && with_evidence < entries.len());
}
