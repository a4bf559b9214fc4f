//! Every login-surface probe against the access-control personas (hosts 7–14): the exact pair
//! each weak variant accepts, what is open without authentication, and no false positive on
//! the strong variants. Each test has its own lab subnet.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::access::surface::{guess, Guessed, Surface};
use jcstar_lab::testing::start_lab;
use jcstar_model::profile::access::{pairs, AccessSettings};
use jcstar_probe::probes::io::Bounds;
use jcstar_probe::probes::{ftp, http, mqtt, rtsp, snmp, ssh, telnet, vnc, Exposure, LoginOutcome};

fn bounds() -> Bounds {
    Bounds {
        connect: Duration::from_secs(3),
        read: Duration::from_secs(3),
        max_bytes: 64 * 1024,
    }
}

fn at(subnet: u8, host: u8, port: u16) -> SocketAddr {
    SocketAddr::from(([127, 77, subnet, host], port))
}

/// Runs the profile's default list for `surface` the way the access check does.
async fn guess_defaults(surface: Surface) -> Guessed {
    let settings = AccessSettings::default();
    let list = pairs(surface.lists(&settings.lists));
    guess(Arc::new(surface), Arc::new(list), 4, bounds()).await
}

/// Every accepted (user, password); panics on lockouts or undecided attempts.
fn found(guessed: &Guessed) -> Vec<(String, String)> {
    assert!(guessed.locked.is_none(), "{guessed:?}");
    assert!(guessed.unsupported.is_none(), "{guessed:?}");
    assert!(guessed.failed.is_empty(), "{guessed:?}");
    guessed
        .accepted
        .iter()
        .map(|(_, u, p, _)| (u.clone(), p.clone()))
        .collect()
}

fn pair(user: &str, password: &str) -> Vec<(String, String)> {
    vec![(user.to_owned(), password.to_owned())]
}

const NONE: Vec<(String, String)> = Vec::new();

#[tokio::test]
async fn ftp_weak_takes_anonymous_and_admin_strong_takes_neither() {
    let _lab = start_lab(122).await;
    let b = bounds();
    let weak = at(122, 7, 2121);
    for user in ftp::ANONYMOUS_USERS {
        let login = ftp::login(weak, user, ftp::ANONYMOUS_PASSWORD, &b).await;
        assert!(
            matches!(login, LoginOutcome::Accepted(_)),
            "{user}: {login:?}"
        );
    }
    assert!(matches!(
        ftp::login(weak, "admin", "nope", &b).await,
        LoginOutcome::Rejected
    ));
    assert_eq!(
        found(&guess_defaults(Surface::Ftp(weak)).await),
        pair("admin", "admin")
    );

    let strong = at(122, 8, 2121);
    for user in ftp::ANONYMOUS_USERS {
        let login = ftp::login(strong, user, ftp::ANONYMOUS_PASSWORD, &b).await;
        assert!(matches!(login, LoginOutcome::Rejected), "{user}: {login:?}");
    }
    let guessed = guess_defaults(Surface::Ftp(strong)).await;
    assert_eq!(found(&guessed), NONE);
    assert!(guessed.tried > 20, "{guessed:?}");
    assert!(matches!(
        ftp::login(strong, "admin", "Kv9-unit-27754", &b).await,
        LoginOutcome::Accepted(_)
    ));
}

#[tokio::test]
async fn mqtt_weak_is_open_to_anonymous_subscribers_strong_needs_its_account() {
    let _lab = start_lab(123).await;
    let b = bounds();
    let weak = at(123, 9, 1883);
    match mqtt::exposure(weak, false, &b).await {
        Exposure::Open { what, .. } => {
            assert!(what.contains("SUBSCRIBE # granted"), "{what}");
            assert!(what.contains("home/door/state"), "{what}");
        }
        other => panic!("{other:?}"),
    }

    // MQTT 5 only: the probe falls back from 3.1.1 and still sees the refusal.
    let strong = at(123, 10, 1883);
    match mqtt::exposure(strong, false, &b).await {
        Exposure::Protected { what } => assert!(what.contains("0x87"), "{what}"),
        other => panic!("{other:?}"),
    }
    let guessed = guess_defaults(Surface::Mqtt(strong, false)).await;
    assert_eq!(found(&guessed), NONE);
    assert!(guessed.tried > 20, "{guessed:?}");
    assert!(matches!(
        mqtt::login(strong, false, "gw-27754", "Kv9-unit-27754", &b).await,
        LoginOutcome::Accepted(_)
    ));
}

#[tokio::test]
async fn vnc_none_is_open_the_list_password_is_found_the_strong_one_is_not() {
    let _lab = start_lab(124).await;
    let b = bounds();
    let open = at(124, 11, 5900);
    assert!(matches!(
        vnc::exposure(open, &b).await,
        Exposure::Open { .. }
    ));
    assert!(matches!(
        vnc::login(open, "123456", &b).await,
        LoginOutcome::Unsupported(_)
    ));

    let weak = at(124, 11, 5901);
    assert!(matches!(
        vnc::exposure(weak, &b).await,
        Exposure::Protected { .. }
    ));
    assert_eq!(
        found(&guess_defaults(Surface::Vnc(weak)).await),
        pair("", "123456")
    );

    let strong = at(124, 12, 5900);
    assert!(matches!(
        vnc::exposure(strong, &b).await,
        Exposure::Protected { .. }
    ));
    let guessed = guess_defaults(Surface::Vnc(strong)).await;
    assert_eq!(found(&guessed), NONE);
    assert_eq!(guessed.tried, 6, "{guessed:?}");
    assert!(matches!(
        vnc::login(strong, "q7Vx-27754", &b).await,
        LoginOutcome::Accepted(_)
    ));
}

#[tokio::test]
async fn http_digest_md5_and_sha256_weak_admin_admin_strong_nothing() {
    let _lab = start_lab(126).await;
    let b = bounds();
    let paths = AccessSettings::default().http_paths;
    for (host, expected) in [(13u8, pair("admin", "admin")), (14, NONE)] {
        for (port, algorithm) in [(8080u16, "MD5"), (8081, "SHA-256")] {
            let address = at(126, host, port);
            let survey = http::survey(address, false, &paths, &b).await;
            assert!(survey.open.is_empty(), "{host}:{port} {:?}", survey.open);
            let protected: Vec<&str> = survey.protected.iter().map(|p| p.path.as_str()).collect();
            assert_eq!(protected, ["/admin", "/cgi-bin/config"], "{host}:{port}");
            let first = survey.protected[0].clone();
            assert!(
                matches!(&first.challenges[0],
                    jcstar_wire::digest::Challenge::Digest { algorithm: a, qop_auth: true, .. } if a == algorithm),
                "{host}:{port} {:?}",
                first.challenges
            );
            let guessed = guess_defaults(Surface::Http(address, false, first)).await;
            assert_eq!(found(&guessed), expected, "{host}:{port} {algorithm}");
        }
    }
}

#[tokio::test]
async fn rtsp_basic_and_digest_weak_admin_admin_strong_nothing() {
    let _lab = start_lab(128).await;
    let b = bounds();
    let paths = AccessSettings::default().rtsp_paths;
    for (host, expected) in [(13u8, pair("admin", "admin")), (14, NONE)] {
        for (port, scheme) in [(8554u16, "Basic"), (8555, "Digest")] {
            let address = at(128, host, port);
            let (exposure, stream) = rtsp::survey(address, &paths, &b).await;
            assert!(
                matches!(exposure, Exposure::Protected { .. }),
                "{host}:{port} {exposure:?}"
            );
            let stream = stream.expect("a protected stream");
            assert!(stream.url.ends_with("/live"), "{}", stream.url);
            assert_eq!(stream.challenges[0].scheme(), scheme);
            let (relay, opened) = counting_relay(address).await;
            let guessed = guess_defaults(Surface::Rtsp(relay, stream)).await;
            assert_eq!(found(&guessed), expected, "{host}:{port} {scheme}");
            // RTSP connections persist: each user's passwords go over one connection.
            let opened = opened.load(std::sync::atomic::Ordering::SeqCst);
            assert_eq!(guessed.connections, opened, "{host}:{port} {guessed:?}");
            assert!(opened < guessed.pairs, "{host}:{port} {guessed:?}");
        }
    }
}

#[tokio::test]
async fn snmp_public_reads_on_weak_only() {
    let _lab = start_lab(129).await;
    let b = Bounds {
        read: Duration::from_secs(1),
        ..bounds()
    };
    let weak = at(129, 13, 1161);
    match snmp::login(weak, "public", &b).await {
        LoginOutcome::Accepted(evidence) => {
            let text = format!("{evidence:?}");
            assert!(text.contains("JCS-NVR-1300 firmware 1.0"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        found(&guess_defaults(Surface::Snmp(weak)).await),
        pair("", "public")
    );

    let strong = at(129, 14, 1161);
    assert!(matches!(
        snmp::login(strong, "public", &b).await,
        LoginOutcome::Rejected
    ));
    assert!(matches!(
        snmp::login(strong, "nvr-27754-ro", &b).await,
        LoginOutcome::Accepted(_)
    ));
}

#[tokio::test]
async fn telnet_without_login_is_an_open_shell_confirmed_by_echo() {
    let _lab = start_lab(131).await;
    let b = bounds();
    match telnet::exposure(at(131, 13, 2323), &b).await {
        Exposure::Open { what, evidence } => {
            assert_eq!(what, "a shell without any login");
            assert!(!format!("{evidence:?}").is_empty());
        }
        other => panic!("{other:?}"),
    }
    // The strong camera (host 6) prints '#' and '$' before its login prompt: not a shell.
    assert!(matches!(
        telnet::exposure(at(131, 6, 2323), &b).await,
        Exposure::Protected { .. }
    ));
}

#[tokio::test]
async fn ssh_password_default_is_found_key_only_offers_no_password_login() {
    let _lab = start_lab(136).await;
    let b = bounds();
    let weak = at(136, 15, 2222);
    match ssh::exposure(weak, &b).await {
        Exposure::Protected { what } => assert!(what.contains("password"), "{what}"),
        other => panic!("{other:?}"),
    }
    let wrong = ssh::login(weak, "admin", "nope", &b).await;
    assert!(matches!(wrong, LoginOutcome::Rejected), "{wrong:?}");
    let right = ssh::login(weak, "admin", "admin", &b).await;
    assert!(matches!(right, LoginOutcome::Accepted(_)), "{right:?}");
    let guessed = guess_defaults(Surface::Ssh(weak)).await;
    assert_eq!(found(&guessed), pair("admin", "admin"));
    // Every pair answered, at most five per connection (the persona closes at the sixth).
    assert_eq!(guessed.tried, guessed.pairs, "{guessed:?}");
    assert!(
        guessed.connections < guessed.pairs
            && guessed.connections * (jcstar_lab::SSH_MAX_AUTH_TRIES - 1) >= guessed.tried,
        "{guessed:?}"
    );

    let strong = at(136, 15, 2223);
    match ssh::exposure(strong, &b).await {
        Exposure::Protected { what } => assert!(what.contains("publickey"), "{what}"),
        other => panic!("{other:?}"),
    }
    let guessed = guess_defaults(Surface::Ssh(strong)).await;
    assert!(guessed.accepted.is_empty(), "{guessed:?}");
    assert!(
        guessed
            .unsupported
            .as_deref()
            .is_some_and(|why| why.contains("publickey")),
        "{guessed:?}"
    );
}

/// A TCP relay on loopback in front of `target` that counts the connections it carries: a
/// count of jcstar's connections that does not come from jcstar. Each connection is bounded by
/// the lab's own idle timeout; the relay ends with the test's runtime.
async fn counting_relay(target: SocketAddr) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("relay binds");
    let address = listener.local_addr().expect("relay address");
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    (address, count)
}

/// SSH guessing sends one user's passwords over one connection while the server keeps it
/// open, grouped by user whatever the list order. The lab persona closes each connection at
/// its sixth password request without answering it ([`jcstar_lab::SSH_MAX_AUTH_TRIES`]); the
/// right password sits exactly there, so a guesser that took the unanswered request for a
/// refusal would miss it. With one connection at a time the connections are exact: admin's
/// first five wrong passwords and the unanswered sixth, the sixth again (accepted: the session
/// is authenticated), admin's last three, then root's three.
#[tokio::test]
async fn ssh_guessing_reuses_connections_and_retries_the_unanswered_password() {
    let _lab = start_lab(142).await;
    assert_eq!(jcstar_lab::SSH_MAX_AUTH_TRIES, 6);
    let (relay, opened) = counting_relay(at(142, 15, 2222)).await;
    let mut list = Vec::new();
    for n in 1..=9 {
        let password = if n == 6 {
            "admin".to_string()
        } else {
            format!("wrong-{n}")
        };
        list.push(("admin".to_string(), password));
        if n <= 3 {
            list.push(("root".to_string(), format!("root-{n}")));
        }
    }
    let guessed = guess(
        Arc::new(Surface::Ssh(relay)),
        Arc::new(list.clone()),
        1,
        bounds(),
    )
    .await;
    assert_eq!(found(&guessed), pair("admin", "admin"));
    assert_eq!((guessed.pairs, guessed.tried), (12, 12), "{guessed:?}");
    assert_eq!(guessed.connections, 4, "{guessed:?}");
    assert_eq!(opened.load(std::sync::atomic::Ordering::SeqCst), 4);
    assert_eq!(guessed.cost(), "12 pairs tried over 4 connections");

    // Four connections at once: the same verdicts, still far fewer connections than pairs.
    opened.store(0, std::sync::atomic::Ordering::SeqCst);
    let guessed = guess(Arc::new(Surface::Ssh(relay)), Arc::new(list), 4, bounds()).await;
    assert_eq!(found(&guessed), pair("admin", "admin"));
    assert_eq!(guessed.tried, 12, "{guessed:?}");
    let relayed = opened.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(guessed.connections, relayed, "{guessed:?}");
    assert!(relayed < 12, "{relayed} connections for 12 pairs");
}

/// FTP guessing sends one user's passwords as USER/PASS again on one control connection: the
/// persona serves 32 commands a connection (16 pairs), so admin's 20 passwords take two
/// connections, the second ended by the accepted one, and root's three a third. A relay
/// counts the connections the persona saw.
#[tokio::test]
async fn ftp_guessing_reuses_the_control_connection() {
    let _lab = start_lab(143).await;
    let (relay, opened) = counting_relay(at(143, 7, 2121)).await;
    let mut list: Vec<(String, String)> = (1..=19)
        .map(|n| ("admin".to_string(), format!("wrong-{n}")))
        .collect();
    list.push(("admin".to_string(), "admin".to_string()));
    list.extend((1..=3).map(|n| ("root".to_string(), format!("root-{n}"))));
    let guessed = guess(Arc::new(Surface::Ftp(relay)), Arc::new(list), 1, bounds()).await;
    assert_eq!(found(&guessed), pair("admin", "admin"));
    assert_eq!((guessed.pairs, guessed.tried), (23, 23), "{guessed:?}");
    assert_eq!(guessed.connections, 3, "{guessed:?}");
    assert_eq!(opened.load(std::sync::atomic::Ordering::SeqCst), 3);
}

/// HTTP guessing sends one user's passwords on one keep-alive connection, each Digest attempt
/// fetching its fresh challenge there first. The persona answers eight requests a connection
/// (four attempts), the eighth with `Connection: close`: admin's ten passwords take three
/// connections, root's three a fourth. On the SHA-256 port, which closes after every
/// response, guessing falls back to one attempt per connection: after the connection that
/// found it closing, two per attempt (the fresh challenge, then the credential).
#[tokio::test]
async fn http_guessing_keeps_the_connection_alive() {
    let _lab = start_lab(144).await;
    let b = bounds();
    let address = at(144, 13, 8080);
    let survey = http::survey(address, false, &AccessSettings::default().http_paths, &b).await;
    let protected = survey.protected.first().expect("a protected path").clone();
    let (relay, opened) = counting_relay(address).await;
    let mut list: Vec<(String, String)> = (1..=9)
        .map(|n| ("admin".to_string(), format!("wrong-{n}")))
        .collect();
    list.push(("admin".to_string(), "admin".to_string()));
    list.extend((1..=3).map(|n| ("root".to_string(), format!("root-{n}"))));
    let surface = Surface::Http(relay, false, protected);
    let guessed = guess(Arc::new(surface), Arc::new(list), 1, bounds()).await;
    assert_eq!(found(&guessed), pair("admin", "admin"));
    assert_eq!((guessed.pairs, guessed.tried), (13, 13), "{guessed:?}");
    assert_eq!(guessed.connections, 4, "{guessed:?}");
    assert_eq!(opened.load(std::sync::atomic::Ordering::SeqCst), 4);

    let closing = at(144, 13, 8081);
    let survey = http::survey(closing, false, &AccessSettings::default().http_paths, &b).await;
    let protected = survey.protected.first().expect("a protected path").clone();
    let (closing, opened) = counting_relay(closing).await;
    let list = vec![
        ("admin".to_string(), "wrong".to_string()),
        ("admin".to_string(), "admin".to_string()),
    ];
    let surface = Surface::Http(closing, false, protected);
    let guessed = guess(Arc::new(surface), Arc::new(list), 1, bounds()).await;
    assert_eq!(found(&guessed), pair("admin", "admin"));
    assert_eq!(guessed.tried, 2, "{guessed:?}");
    assert_eq!(guessed.connections, 5, "{guessed:?}");
    assert_eq!(opened.load(std::sync::atomic::Ordering::SeqCst), 5);
}

/// Open ports and service kinds of a lab device.
type Listening = &'static [(u16, &'static str)];

#[tokio::test]
async fn access_personas_are_listed_by_name_with_their_ports() {
    let lab = start_lab(133).await;
    let by_name = |name: &str| {
        lab.devices()
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
            .clone()
    };
    let expected: [(&str, u8, Listening); 9] = [
        ("weak-nas", 7, &[(2121, "ftp")]),
        ("strong-nas", 8, &[(2121, "ftp")]),
        ("weak-broker", 9, &[(1883, "mqtt")]),
        ("strong-broker", 10, &[(1883, "mqtt")]),
        ("weak-kvm", 11, &[(5900, "vnc"), (5901, "vnc")]),
        ("strong-kvm", 12, &[(5900, "vnc")]),
        (
            "weak-nvr",
            13,
            &[
                (2323, "telnet"),
                (8080, "http"),
                (8081, "http"),
                (8554, "rtsp"),
                (8555, "rtsp"),
                (1161, "snmp"),
            ],
        ),
        (
            "strong-nvr",
            14,
            &[
                (8080, "http"),
                (8081, "http"),
                (8554, "rtsp"),
                (8555, "rtsp"),
                (1161, "snmp"),
            ],
        ),
        ("ssh-gateway", 15, &[(2222, "ssh"), (2223, "ssh")]),
    ];
    for (name, host, listening) in expected {
        let device = by_name(name);
        assert_eq!(
            device.address,
            std::net::IpAddr::from([127, 77, 133, host]),
            "{name}"
        );
        assert_eq!(device.listening, listening, "{name}");
    }
    // The SNMP agent is declared as a UDP service in the generated inventory.
    let inventory: toml::Table = lab.inventory_toml().parse().expect("valid TOML");
    let nvr = inventory["device"]
        .as_array()
        .expect("devices")
        .iter()
        .find(|d| d["name"].as_str() == Some("weak-nvr"))
        .expect("weak-nvr in the inventory");
    let services: Vec<&str> = nvr["services"]
        .as_array()
        .expect("services")
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert_eq!(
        services,
        ["2323/tcp", "8080/tcp", "8081/tcp", "8554/tcp", "8555/tcp", "1161/udp"]
    );
}

/// A camera with two default accounts on telnet (root/xc3511 and admin/admin, both on the
/// Mirai list) shows both: guessing does not stop at the first, nor after an acceptance ends a
/// connection's series.
#[tokio::test]
async fn every_default_credential_is_found_not_only_the_first() {
    let _lab = start_lab(138).await;
    let (relay, opened) = counting_relay(at(138, 1, 2323)).await;
    let guessed = guess_defaults(Surface::Telnet(relay)).await;
    let mut accepted = found(&guessed);
    accepted.sort();
    assert_eq!(
        accepted,
        [
            ("admin".to_string(), "admin".to_string()),
            ("root".to_string(), "xc3511".to_string())
        ]
    );
    assert_eq!(guessed.tried, guessed.pairs, "every pair answered");
    // The persona's login prompts again after a failure, three attempts per connection like
    // BusyBox login: each user's passwords go in series, a closed session's next one on a new
    // connection.
    assert!(
        guessed.connections < guessed.pairs && guessed.connections * 3 >= guessed.tried,
        "{guessed:?}"
    );
    assert_eq!(
        opened.load(std::sync::atomic::Ordering::SeqCst),
        guessed.connections,
        "the persona's count"
    );
}
