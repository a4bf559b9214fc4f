//! The brute-force check against the demo lab's guarded personas (real servers on loopback,
//! lockout window shortened), subnets 180-190, one per test.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::attempt::Kind;
use super::*;
use jcstar_lab::{DemoLab, LabOptions, Limits};
use jcstar_model::device::Secret;
use jcstar_model::profile::brute_force::BruteForceSettings;
use jcstar_probe::probes::{http, rtsp};

fn settings() -> BruteForceSettings {
    BruteForceSettings {
        attempts: 8,
        from_attempt: 5,
        max_lockout_wait_s: 20,
        recovery_poll_ms: 500,
        ..BruteForceSettings::default()
    }
}

fn operator() -> Credential {
    Credential {
        service: "http".into(),
        username: "admin".into(),
        password: Secret::new("Op-7731-demo".into()),
        initial: false,
        lockout_window_s: None,
    }
}

/// Starts a lab with a 2 s lockout window and measures the persona on `host`.
async fn run(subnet: u8, host: u8, settings: &BruteForceSettings) -> (Measured, Finding) {
    run_with(subnet, host, settings, Duration::from_secs(2), operator()).await
}

/// Starts a lab with lockout window `window` and measures the persona on `host` with `valid`.
async fn run_with(
    subnet: u8,
    host: u8,
    settings: &BruteForceSettings,
    window: Duration,
    valid: Credential,
) -> (Measured, Finding) {
    let limits = Limits {
        lockout_window: window,
        ..Limits::default()
    };
    let lab = DemoLab::start_with_limits(LabOptions { subnet }, limits)
        .await
        .expect("lab starts");
    let address = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 77, subnet, host)), 8080);
    let bounds = bounds(settings);
    let survey = http::survey(address, false, &["/admin".to_string()], &bounds).await;
    let protected = survey
        .protected
        .first()
        .expect("/admin demands a login")
        .clone();
    let surface = Surface::Http(address, false, protected);
    let measured = tokio::time::timeout(
        Duration::from_secs(120),
        measure(&surface, Some(&valid), settings, &bounds),
    )
    .await
    .expect("the measurement is bounded");
    let finding = judge(&surface, true, &measured, settings);
    lab.shutdown().await;
    (measured, finding)
}

fn letters(series: &[Attempt]) -> String {
    series_text(series)
        .split(' ')
        .filter_map(|code| code.chars().last())
        .collect()
}

#[tokio::test]
async fn no_defence_fails_with_a_guess_rate() {
    let (m, f) = run(180, 16, &settings()).await;
    assert_eq!(f.verdict, Verdict::Fail, "{}", f.summary);
    assert!(
        f.summary.contains("no slowdown or refusal"),
        "{}",
        f.summary
    );
    assert!(f.summary.contains("guesses/s"), "{}", f.summary);
    assert!(f.summary.contains("10000-word list"), "{}", f.summary);
    assert_eq!(letters(&m.series), "rrrrrrrr");
    assert!(matches!(m.baseline.map(|b| b.kind), Some(Kind::Accepted)));
    assert!(m.confirm.is_none() && m.recovery.is_none());
}

#[tokio::test]
async fn growing_delay_passes_and_the_series_grows() {
    let (m, f) = run(181, 17, &settings()).await;
    assert_eq!(f.verdict, Verdict::Pass, "{}", f.summary);
    assert!(f.summary.contains("slowed down"), "{}", f.summary);
    // The server sleeps 250 ms x failures since the last correct login: a lower bound,
    // whatever the load. The valid login sent when the defence set in (after failure 6, the
    // first past the threshold over 1 s) resets that count, so the series goes on until the
    // delay is past the threshold again; the fast ones in between are not held against it.
    let engaged = m
        .engaged
        .as_ref()
        .expect("valid login when the defence set in");
    assert_eq!((engaged.after, &engaged.attempt.kind), (6, &Kind::Accepted));
    assert_eq!(letters(&m.series), "rrrrrrrrrrr");
    for (i, a) in m.series.iter().enumerate() {
        let failures = if i < 6 { i + 1 } else { i - 5 };
        assert!(
            a.elapsed >= Duration::from_millis(250 * failures as u64),
            "{i}: {a:?}"
        );
    }
    assert!(
        m.series[6].elapsed < Duration::from_millis(1000),
        "{}",
        series_text(&m.series)
    );
    // Neither another user name nor parallel connections escape the device-wide counter.
    assert!(m
        .other_user
        .iter()
        .all(|a| a.elapsed >= Duration::from_secs(1)));
    assert!(m
        .parallel
        .iter()
        .all(|a| a.elapsed >= Duration::from_secs(1)));
    // On one kept-alive connection the delay holds too: the session stops at the first slow
    // answer after the connect.
    assert_eq!(letters(&m.same_connection), "rr");
    assert!(m.same_connection[1].elapsed >= Duration::from_secs(1));
    assert!(matches!(m.confirm.map(|c| c.kind), Some(Kind::Accepted)));
}

#[tokio::test]
async fn lockout_passes_refuses_the_valid_password_and_recovers() {
    let (m, f) = run(182, 18, &settings()).await;
    assert_eq!(f.verdict, Verdict::Pass, "{}", f.summary);
    assert!(f.summary.contains("lockout confirmed"), "{}", f.summary);
    assert!(f.summary.contains("recovered"), "{}", f.summary);
    assert_eq!(letters(&m.series), "rrrrrxxx");
    assert!(matches!(m.confirm.map(|c| c.kind), Some(Kind::Refused(_))));
    assert!(m
        .other_user
        .iter()
        .all(|a| matches!(a.kind, Kind::Refused(_))));
    // The lock holds on a kept-alive connection as well.
    assert_eq!(letters(&m.same_connection), "x");
    let (polls, recovered) = m.recovery.expect("recovery was checked");
    assert!(recovered.is_some(), "{}", series_text(&polls));
    assert!(matches!(
        polls.last().map(|a| &a.kind),
        Some(Kind::Accepted)
    ));
}

#[tokio::test]
async fn per_user_lockout_is_bypassed_with_another_name() {
    let (m, f) = run(183, 19, &settings()).await;
    assert_eq!(f.verdict, Verdict::Fail, "{}", f.summary);
    assert!(f.summary.contains("bypassed"), "{}", f.summary);
    assert!(f.summary.contains("second user name"), "{}", f.summary);
    assert_eq!(letters(&m.series), "rrrrrxxx");
    assert_eq!(letters(&m.other_user), "rrr");
    // Without the bypass test the same device passes.
    let quiet = BruteForceSettings {
        bypass_other_user: false,
        ..settings()
    };
    let (_, f) = run(184, 19, &quiet).await;
    assert_eq!(f.verdict, Verdict::Pass, "{}", f.summary);
}

#[tokio::test]
async fn a_delay_per_new_connection_is_bypassed_on_one_connection() {
    let (m, f) = run(185, 20, &settings()).await;
    assert_eq!(f.verdict, Verdict::Fail, "{}", f.summary);
    assert!(f.summary.contains("bypassed"), "{}", f.summary);
    assert!(f.summary.contains("on one connection"), "{}", f.summary);
    // Fresh connections: 250 ms more per failure since the last correct login (the one sent
    // when the defence set in, after failure 6, resets it), so the series alone passes.
    assert_eq!(letters(&m.series), "rrrrrrrrrrrr");
    for (i, a) in m.series.iter().enumerate() {
        let failures = if i < 6 { i } else { i - 6 };
        assert!(
            a.elapsed >= Duration::from_millis(250 * failures as u64),
            "{i}: {a:?}"
        );
    }
    // One connection: the first login pays the delay, the next ones are answered at once.
    assert_eq!(letters(&m.same_connection), "rrrr");
    assert!(m.same_connection[0].elapsed >= Duration::from_secs(1));
    assert!(m.same_connection[1..]
        .iter()
        .all(|a| a.elapsed < Duration::from_millis(500)));
    let evidence = f
        .evidence
        .iter()
        .find(|e| e.label == "bypass: attempts on one connection")
        .expect("same-connection evidence");
    assert!(
        evidence
            .received
            .as_deref()
            .is_some_and(|r| r.contains("the first includes the connect")),
        "{evidence:?}"
    );
    // Without the same-connection test the device looks defended.
    let quiet = BruteForceSettings {
        same_connection_attempts: 0,
        parallel: 0,
        ..settings()
    };
    let (m, f) = run(186, 20, &quiet).await;
    assert_eq!(f.verdict, Verdict::Pass, "{}", f.summary);
    assert!(m.same_connection.is_empty());
}

#[tokio::test]
async fn a_declared_lockout_window_bounds_the_recovery_wait() {
    // The device locks for 8 s but the inventory declares 1 s: jcstar waits 1 s plus its
    // 5 s margin, not the profile's 20 s, and says the declaration does not hold.
    let valid = Credential {
        lockout_window_s: Some(1),
        ..operator()
    };
    let s = BruteForceSettings {
        parallel: 0,
        same_connection_attempts: 0,
        bypass_other_user: false,
        ..settings()
    };
    let (m, f) = run_with(188, 18, &s, Duration::from_secs(8), valid).await;
    assert_eq!(f.verdict, Verdict::Pass, "{}", f.summary);
    assert!(f.summary.contains("lockout_window_s = 1"), "{}", f.summary);
    let (polls, recovered) = m.recovery.expect("recovery was checked");
    assert!(recovered.is_none(), "{}", series_text(&polls));
    let polled: Duration = polls.iter().map(|a| a.elapsed).sum::<Duration>()
        + Duration::from_millis(s.recovery_poll_ms) * polls.len() as u32;
    assert!(polled < Duration::from_secs(8), "{}", series_text(&polls));
}

#[tokio::test]
async fn a_lock_shorter_than_the_test_is_confirmed_while_it_holds() {
    // short-lock-cam answers every failure with a plain 401 after 1.1 s and locks the user
    // for 4 s from the 5th failure (t = 4.4 s), not extended by failures during it. The valid
    // login after failure 6 (t = 6.6 s) meets the lock; it lapses during the last wrong
    // passwords or the bypass tests, which add at most 4 failures (2 in the series, 2 in
    // parallel), too few to lock it again, so the confirmation after them gets in. Confirmed
    // only then, the slow parallel 401s would read as a delay escaped in parallel (a wrong
    // fail). The margins are whole attempts (1.1 s), not scheduling luck.
    let s = BruteForceSettings {
        parallel: 2,
        same_connection_attempts: 0,
        ..settings()
    };
    let (m, f) = run_with(190, 30, &s, Duration::from_secs(4), operator()).await;
    assert_eq!(f.verdict, Verdict::Pass, "{}", f.summary);
    let engaged = m
        .engaged
        .as_ref()
        .expect("valid login when the defence set in");
    assert_eq!(engaged.after, s.from_attempt + 1);
    assert_eq!(engaged.attempt.kind, Kind::Rejected, "{engaged:?}");
    assert!(
        f.summary
            .contains("lockout confirmed: the valid credential was rejected when the defence set in (after failure 6)"),
        "{}",
        f.summary
    );
    assert!(f.summary.contains("the account recovered"), "{}", f.summary);
    // Every wrong password and parallel attempt was a slow plain rejection.
    assert_eq!(letters(&m.series), "rrrrrrrr");
    assert!(m
        .parallel
        .iter()
        .all(|a| a.kind == Kind::Rejected && a.elapsed >= Duration::from_millis(1100)));
    assert!(matches!(
        m.confirm.as_ref().map(|c| &c.kind),
        Some(Kind::Accepted)
    ));
    assert!(m.lifted_within.is_some() && m.recovery.is_none(), "{m:?}");
    // The same measurement judged without the early login: the old, wrong fail.
    let late = Measured {
        engaged: None,
        lifted_within: None,
        ..m
    };
    let surface = Surface::Http(
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8080),
        false,
        http::ProtectedPath {
            path: "/admin".into(),
            challenges: Vec::new(),
        },
    );
    let f = judge(&surface, true, &late, &s);
    assert_eq!(f.verdict, Verdict::Fail, "{}", f.summary);
    assert!(
        f.summary.contains("parallel connections together"),
        "{}",
        f.summary
    );
}

#[test]
fn recovery_waits_follow_the_declaration_within_the_cap() {
    let s = settings();
    assert_eq!(recovery_wait(None, &s), Duration::from_secs(20));
    assert_eq!(recovery_wait(Some(1), &s), Duration::from_secs(6));
    assert_eq!(recovery_wait(Some(10), &s), Duration::from_secs(15));
    assert_eq!(recovery_wait(Some(600), &s), Duration::from_secs(20));
}

fn at(ms: u64, kind: Kind) -> Attempt {
    Attempt {
        elapsed: Duration::from_millis(ms),
        kind,
    }
}

#[test]
fn judging_sporadic_refusals_mixed_timings_and_no_passwords() {
    let s = settings();
    let surface = Surface::Ssh(SocketAddr::from(([127, 0, 0, 1], 22)));
    let dropped = || Kind::Dropped;
    // One dropped connection among fast rejections: still a fast guess rate.
    let mut series: Vec<Attempt> = (0..8).map(|_| at(30, Kind::Rejected)).collect();
    series[6] = at(2, dropped());
    let m = Measured {
        user: "root".into(),
        series,
        ..Measured::default()
    };
    let f = judge(&surface, false, &m, &s);
    assert_eq!(f.verdict, Verdict::Fail, "{}", f.summary);
    assert!(
        f.summary.contains("answered at full speed"),
        "{}",
        f.summary
    );
    // Half slow, half fast at a modest rate: too noisy to judge.
    let series = (0..8)
        .map(|i| at(if i % 2 == 0 { 1500 } else { 600 }, Kind::Rejected))
        .collect();
    let m = Measured {
        user: "root".into(),
        series,
        ..Measured::default()
    };
    let f = judge(&surface, false, &m, &s);
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.summary);
    assert!(f.summary.contains("noisy"), "{}", f.summary);
    // A defended series, then one connection: fast plain answers after its first attempt
    // are a bypass; a slow one stops the session and is none.
    let defended: Vec<Attempt> = (0..8)
        .map(|i| at(if i < 5 { 100 } else { 1500 }, Kind::Rejected))
        .collect();
    let m = Measured {
        user: "root".into(),
        series: defended.clone(),
        same_connection: vec![
            at(1600, Kind::Rejected),
            at(4, Kind::Rejected),
            at(3, Kind::Rejected),
        ],
        ..Measured::default()
    };
    let f = judge(&surface, false, &m, &s);
    assert_eq!(f.verdict, Verdict::Fail, "{}", f.summary);
    assert!(
        f.summary.contains("on one connection 2 of the 2 attempts"),
        "{}",
        f.summary
    );
    let m = Measured {
        user: "root".into(),
        series: defended,
        same_connection: vec![at(1600, Kind::Rejected), at(1700, Kind::Rejected)],
        ..Measured::default()
    };
    let f = judge(&surface, false, &m, &s);
    assert_eq!(f.verdict, Verdict::Pass, "{}", f.summary);
    // Publickey only: nothing to guess.
    let m = Measured {
        user: "root".into(),
        series: vec![at(20, Kind::Unsupported("publickey only".into()))],
        stopped: Some("publickey only".into()),
        ..Measured::default()
    };
    let f = judge(&surface, false, &m, &s);
    assert_eq!(f.verdict, Verdict::Pass, "{}", f.summary);
    assert!(f.summary.contains("accepts no passwords"), "{}", f.summary);
}

/// A rate limit that lets a burst through, then answers 429 to every later attempt, proves a
/// defence even though it set in after the profile's threshold attempt; the same answers
/// interleaved with fast plain rejections, or too few of them, do not.
#[test]
fn a_late_but_steady_rate_limit_passes_and_a_leaky_one_does_not() {
    let s = settings();
    let surface = Surface::Ssh(SocketAddr::from(([127, 0, 0, 1], 22)));
    let limited = || Kind::Refused("HTTP 429".into());
    let judge_series = |series: Vec<Attempt>| {
        let m = Measured {
            user: "admin".into(),
            series,
            ..Measured::default()
        };
        judge(&surface, false, &m, &s)
    };
    let mut steady: Vec<Attempt> = (0..6).map(|_| at(3, Kind::Rejected)).collect();
    steady.extend((0..4).map(|_| at(2, limited())));
    let f = judge_series(steady);
    assert_eq!(f.verdict, Verdict::Pass, "{}", f.summary);
    assert!(f.summary.contains("refused"), "{}", f.summary);

    let mut leaky: Vec<Attempt> = (0..6).map(|_| at(3, Kind::Rejected)).collect();
    leaky.extend([
        at(2, limited()),
        at(3, Kind::Rejected),
        at(2, limited()),
        at(2, limited()),
    ]);
    assert_ne!(judge_series(leaky).verdict, Verdict::Pass);

    let mut too_few: Vec<Attempt> = (0..8).map(|_| at(3, Kind::Rejected)).collect();
    too_few.extend((0..2).map(|_| at(2, limited())));
    assert_ne!(judge_series(too_few).verdict, Verdict::Pass);
}

#[tokio::test]
async fn sessions_retry_on_one_connection_per_protocol() {
    let subnet = 187;
    let lab = DemoLab::start(LabOptions { subnet })
        .await
        .expect("lab starts");
    let at = |host, port| SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 77, subnet, host)), port);
    let bounds = bounds(&settings());
    let fast = Duration::from_secs(1);
    let wrong: Vec<String> = (0..3).map(|i| format!("jcs-wrong-{i}")).collect();
    let with = |last: &str| {
        let mut all = wrong.clone();
        all.push(last.to_string());
        all
    };
    // weak-camera's telnet closes the connection after three failures.
    let telnet = Surface::Telnet(at(1, 2323));
    let s = attempt::run_session(&telnet, "root", &with("xc3511"), fast, &bounds)
        .await
        .expect("telnet retries on a connection");
    // A closed connection is recorded as such: not an explicit refusal.
    assert_eq!(letters(&s), "rrrd", "{}", series_text(&s));
    // ssh-gateway and weak-nas take USER/PASS and password requests again on the connection.
    let ssh = Surface::Ssh(at(15, 2222));
    let s = attempt::run_session(&ssh, "admin", &with("admin"), fast, &bounds)
        .await
        .expect("SSH retries in a session");
    assert_eq!(letters(&s), "rrra", "{}", series_text(&s));
    let ftp = Surface::Ftp(at(7, 2121));
    let s = attempt::run_session(&ftp, "admin", &with("admin"), fast, &bounds)
        .await
        .expect("FTP retries on a connection");
    assert_eq!(letters(&s), "rrra", "{}", series_text(&s));
    // A series stops at the first slow answer after the first: the defence holds there.
    let s = attempt::run_session(
        &ssh,
        "admin",
        &with("admin"),
        Duration::from_millis(1),
        &bounds,
    )
    .await
    .expect("SSH retries in a session");
    assert_eq!(letters(&s), "rr", "{}", series_text(&s));
    // weak-camera's (Basic) and weak-nvr's SHA-256 Digest HTTP servers close after each
    // answer: no second attempt on a connection. weak-nvr's MD5 Digest server keeps the
    // connection alive: the series goes on there, a fresh challenge before each attempt.
    for (host, port, letters_seen) in [(1, 8080, "rd"), (13, 8081, "d"), (13, 8080, "rrra")] {
        let address = at(host, port);
        let survey = http::survey(address, false, &["/admin".to_string()], &bounds).await;
        let protected = survey.protected.first().expect("/admin is protected");
        let http_surface = Surface::Http(address, false, protected.clone());
        let s = attempt::run_session(&http_surface, "admin", &with("admin"), fast, &bounds)
            .await
            .expect("HTTP tries keep-alive");
        assert_eq!(letters(&s), letters_seen, "{}", series_text(&s));
    }
    // weak-nvr's RTSP keeps the connection: DESCRIBE again, Basic and Digest alike.
    for port in [8554, 8555] {
        let address = at(13, port);
        let (_, stream) = rtsp::survey(address, &["/live".to_string()], &bounds).await;
        let stream = stream.expect("/live is protected");
        let s = attempt::run_session(
            &Surface::Rtsp(address, stream),
            "admin",
            &with("admin"),
            fast,
            &bounds,
        )
        .await
        .expect("RTSP retries on a connection");
        assert_eq!(letters(&s), "rrra", "{port}: {}", series_text(&s));
    }
    lab.shutdown().await;
}

#[test]
fn crack_times_read_as_people_say_them() {
    assert_eq!(super::duration_text(0.04), "under a second");
    assert_eq!(super::duration_text(6.2), "6 s");
    assert_eq!(super::duration_text(600.0), "10 min");
    assert_eq!(super::duration_text(9000.0), "2.5 h");
}

/// Silence, dropped connections and a refused connect are not a defence: the tail must be
/// answered (slowly, or with an explicit refusal) before S1.1-04 can pass.
#[test]
fn silence_and_dropped_connections_never_pass() {
    let s = settings();
    let surface = Surface::Ssh(SocketAddr::from(([127, 0, 0, 1], 22)));
    let series_then = |kind: Kind| -> Vec<Attempt> {
        (0..8)
            .map(|i| {
                if i < 5 {
                    at(30, Kind::Rejected)
                } else {
                    at(5000, kind.clone())
                }
            })
            .collect()
    };
    // A device that stops answering after five failures (a tarpit or a crash).
    let m = Measured {
        user: "root".into(),
        series: series_then(Kind::TimedOut { connecting: false }),
        ..Measured::default()
    };
    let f = judge(&surface, false, &m, &s);
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.summary);
    assert!(
        f.summary.contains("silence is not a defence"),
        "{}",
        f.summary
    );
    // A network throttle that drops new connections: the verdict says how many connections
    // jcstar itself had opened to the service before.
    let m = Measured {
        user: "root".into(),
        series: series_then(Kind::TimedOut { connecting: true }),
        connections_before: 37,
        ..Measured::default()
    };
    let f = judge(&surface, false, &m, &s);
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.summary);
    assert!(f.summary.contains("connection-rate limit"), "{}", f.summary);
    assert!(
        f.summary.contains("own 37 earlier connection(s)"),
        "{}",
        f.summary
    );
    // The throttle already closed before the first wrong password (jcstar's own scan and
    // identification spent it): that is no sign of a locked account. `measure` stops there.
    let first_unconnected = Measured {
        user: "root".into(),
        series: vec![at(3000, Kind::TimedOut { connecting: true })],
        stopped: Some(Kind::TimedOut { connecting: true }.describe()),
        connections_before: 3,
        ..Measured::default()
    };
    let f = judge(&surface, false, &first_unconnected, &s);
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.summary);
    assert!(f.summary.contains("connection-rate limit"), "{}", f.summary);
    assert!(!f.summary.contains("locked"), "{}", f.summary);
    let baseline_unconnected = Measured {
        baseline: Some(at(3000, Kind::TimedOut { connecting: true })),
        ..first_unconnected
    };
    let f = judge(&surface, true, &baseline_unconnected, &s);
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.summary);
    assert!(f.summary.contains("connection-rate limit"), "{}", f.summary);
    assert!(f.summary.contains("declared credential"), "{}", f.summary);
    // Connections closed at once: a crash looks the same, unless the valid credential proves
    // the lockout (refused during it, accepted after it).
    let dropped = Measured {
        user: "root".into(),
        series: series_then(Kind::Dropped),
        ..Measured::default()
    };
    let f = judge(&surface, false, &dropped, &s);
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.summary);
    assert!(
        f.summary.contains("declare an operator credential"),
        "{}",
        f.summary
    );
    let not_recovered = Measured {
        confirm: Some(at(3, Kind::Dropped)),
        recovery: Some((vec![at(3, Kind::Dropped)], None)),
        ..dropped
    };
    let f = judge(&surface, true, &not_recovered, &s);
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.summary);
    let confirmed = Measured {
        recovery: Some((
            vec![at(3, Kind::Dropped), at(40, Kind::Accepted)],
            Some(Duration::from_secs(20)),
        )),
        ..not_recovered
    };
    let f = judge(&surface, true, &confirmed, &s);
    assert_eq!(f.verdict, Verdict::Pass, "{}", f.summary);
    assert!(f.summary.contains("recovered"), "{}", f.summary);
}

/// A telnet login that echoes the typed password ("jcs-wrong-…") and answers each wrong one
/// after 1.5 s: jcstar's own input must not read as the device's refusal, so every attempt is
/// a rejection that took the device's delay, and the defence passes.
#[tokio::test]
async fn echoed_input_is_not_an_instant_refusal() {
    let subnet = 189;
    let lab = DemoLab::start(LabOptions { subnet })
        .await
        .expect("lab starts");
    let address = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 77, subnet, 28)), 2323);
    let settings = BruteForceSettings {
        attempts: 6,
        from_attempt: 3,
        parallel: 0,
        same_connection_attempts: 0,
        bypass_other_user: false,
        ..settings()
    };
    let bounds = bounds(&settings);
    let surface = Surface::Telnet(address);
    let measured = tokio::time::timeout(
        Duration::from_secs(120),
        measure(&surface, None, &settings, &bounds),
    )
    .await
    .expect("the measurement is bounded");
    lab.shutdown().await;
    assert_eq!(
        letters(&measured.series),
        "rrrrrr",
        "{}",
        series_text(&measured.series)
    );
    assert!(
        measured
            .series
            .iter()
            .all(|a| a.elapsed >= Duration::from_millis(1500)),
        "{}",
        series_text(&measured.series)
    );
    let f = judge(&surface, false, &measured, &settings);
    assert_eq!(f.verdict, Verdict::Pass, "{}", f.summary);
}

/// A delay defence whose parallel batch jcstar itself paced (`--max-rate`, `--service-rate`)
/// is inconclusive, not pass: the combined rate of the batch measured our pacing, not the
/// device. The same batch unpaced and slow passes.
#[test]
fn a_paced_parallel_batch_never_makes_a_pass() {
    let s = settings();
    let surface = Surface::Ssh(SocketAddr::from(([127, 0, 0, 1], 22)));
    let defended: Vec<Attempt> = (0..8)
        .map(|i| at(if i < 5 { 100 } else { 1500 }, Kind::Rejected))
        .collect();
    let measured = |paced| Measured {
        user: "root".into(),
        series: defended.clone(),
        parallel: (0..4).map(|_| at(1500, Kind::Rejected)).collect(),
        parallel_wall: Duration::from_secs(20),
        parallel_paced: paced,
        ..Measured::default()
    };
    let f = judge(&surface, false, &measured(false), &s);
    assert_eq!(f.verdict, Verdict::Pass, "{}", f.summary);
    let f = judge(&surface, false, &measured(true), &s);
    assert_eq!(f.verdict, Verdict::Inconclusive, "{}", f.summary);
    assert!(f.summary.contains("paced by jcstar"), "{}", f.summary);
}
