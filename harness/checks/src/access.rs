//! S1.1-01 (access needs authentication) and S1.1-02 (no universal default password): every
//! identified login surface of a device is asked for access without credentials, then
//! (intrusive) offered the profile's default credentials.

#[cfg(test)]
mod lab_tests;
mod report;
use jcstar_model::profile::access as settings;
pub mod surface;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;

use super::{ActiveContext, ActiveTarget};
use jcstar_model::{Evidence, Finding, Verdict};
use jcstar_probe::probes::io::Bounds;
use jcstar_probe::probes::{ftp, http, mqtt, rtsp, snmp, ssh, telnet, vnc, Exposure, LoginOutcome};
use jcstar_probe::scan::{PortState, ServiceKind};
use surface::{guess, Guessed, Surface};

/// Check name of the S1.1-01 findings.
pub const UNAUTHENTICATED: &str = "access.unauthenticated";
/// Check name of the S1.1-02 findings.
pub const DEFAULT_CREDENTIALS: &str = "access.default_credentials";
/// Evidence label of every accepted default credential; its value is
/// `<surface> username="<u>" password="<p>"`.
pub const ACCEPTED_LABEL: &str = "accepted credential";
/// Evidence label of what guessing on a surface cost; its value is
/// `<surface>: <n> pairs tried over <m> connections` (SNMP: exchanges).
pub const COST_LABEL: &str = "guessing cost";

/// The probe bounds the profile sets.
pub fn bounds(settings: &settings::AccessSettings) -> Bounds {
    Bounds {
        connect: Duration::from_millis(settings.connect_timeout_ms),
        read: Duration::from_millis(settings.read_timeout_ms),
        max_bytes: settings.max_response_bytes,
    }
}

/// What discovery found on one port: exposures and login surfaces.
#[derive(Default)]
struct Discovered {
    /// (service label, exposure).
    exposures: Vec<(String, Exposure)>,
    surfaces: Vec<Surface>,
    /// Accepted logins found while looking for exposure (anonymous FTP).
    accepted: Vec<(Surface, String, String, Evidence)>,
}

/// Probes one identified port without credentials.
async fn discover(
    address: SocketAddr,
    kind: ServiceKind,
    settings: Arc<settings::AccessSettings>,
    bounds: Bounds,
) -> Discovered {
    let mut found = Discovered::default();
    let port = address.port();
    match kind {
        ServiceKind::Telnet => {
            let exposure = telnet::exposure(address, &bounds).await;
            let protected = matches!(exposure, Exposure::Protected { .. });
            found
                .exposures
                .push((format!("telnet {port}/tcp"), exposure));
            if protected {
                found.surfaces.push(Surface::Telnet(address));
            }
        }
        ServiceKind::Ssh => {
            found.exposures.push((
                format!("ssh {port}/tcp"),
                ssh::exposure(address, &bounds).await,
            ));
            found.surfaces.push(Surface::Ssh(address));
        }
        ServiceKind::Http | ServiceKind::Tls => {
            let tls = kind == ServiceKind::Tls;
            let scheme = if tls { "https" } else { "http" };
            let survey = http::survey(address, tls, &settings.http_paths, &bounds).await;
            let spoke_http = !survey.open.is_empty()
                || !survey.protected.is_empty()
                || survey.undecided.iter().any(|u| u.spoke_http)
                || survey.other.iter().any(|o| o.contains("HTTP/"));
            if tls && !spoke_http {
                // Not HTTPS: MQTT over TLS is the other common TLS service on devices.
                let exposure = mqtt::exposure(address, true, &bounds).await;
                if !matches!(exposure, Exposure::Unknown(_)) {
                    if matches!(exposure, Exposure::Protected { .. }) {
                        found.surfaces.push(Surface::Mqtt(address, true));
                    }
                    found
                        .exposures
                        .push((format!("mqtts {port}/tcp"), exposure));
                }
                return found;
            }
            let label = format!("{scheme} {port}/tcp");
            for open in survey.open {
                found.exposures.push((label.clone(), open));
            }
            if !survey.undecided.is_empty() {
                // A path refused for now (or unanswered) may be open: never a pass over it.
                let why: Vec<&str> = survey.undecided.iter().map(|u| u.why.as_str()).collect();
                found.exposures.push((
                    label.clone(),
                    Exposure::Unknown(format!("no decisive answer: {}", why.join("; "))),
                ));
            }
            if let Some(first) = survey.protected.first() {
                let paths: Vec<&str> = survey.protected.iter().map(|p| p.path.as_str()).collect();
                found.exposures.push((
                    label,
                    Exposure::Protected {
                        what: format!("{} demand authentication", paths.join(", ")),
                    },
                ));
                found
                    .surfaces
                    .push(Surface::Http(address, tls, first.clone()));
            }
        }
        ServiceKind::Rtsp => {
            let (exposure, protected) = rtsp::survey(address, &settings.rtsp_paths, &bounds).await;
            found.exposures.push((format!("rtsp {port}/tcp"), exposure));
            if let Some(stream) = protected {
                found.surfaces.push(Surface::Rtsp(address, stream));
            }
        }
        ServiceKind::Ftp => {
            let mut anonymous = Vec::new();
            for user in ftp::ANONYMOUS_USERS {
                if let LoginOutcome::Accepted(evidence) =
                    ftp::login(address, user, ftp::ANONYMOUS_PASSWORD, &bounds).await
                {
                    anonymous.push((user.to_string(), evidence));
                }
            }
            let surface = Surface::Ftp(address);
            if anonymous.is_empty() {
                found.exposures.push((
                    format!("ftp {port}/tcp"),
                    Exposure::Protected {
                        what: "anonymous FTP refused".into(),
                    },
                ));
            } else {
                let users: Vec<&str> = anonymous.iter().map(|(u, _)| u.as_str()).collect();
                found.exposures.push((
                    format!("ftp {port}/tcp"),
                    Exposure::Open {
                        what: format!("anonymous FTP login as {}", users.join(" and ")),
                        evidence: anonymous[0].1.clone(),
                    },
                ));
                // Anonymous accounts take any password: reported with an empty one.
                for (user, evidence) in anonymous {
                    found
                        .accepted
                        .push((surface.clone(), user, String::new(), evidence));
                }
            }
            found.surfaces.push(surface);
        }
        ServiceKind::Mqtt => {
            let exposure = mqtt::exposure(address, false, &bounds).await;
            if matches!(exposure, Exposure::Protected { .. }) {
                found.surfaces.push(Surface::Mqtt(address, false));
            }
            found.exposures.push((format!("mqtt {port}/tcp"), exposure));
        }
        ServiceKind::Vnc => {
            let exposure = vnc::exposure(address, &bounds).await;
            if matches!(exposure, Exposure::Protected { .. }) {
                found.surfaces.push(Surface::Vnc(address));
            }
            found.exposures.push((format!("vnc {port}/tcp"), exposure));
        }
        ServiceKind::Unknown => {}
    }
    found
}

/// Asks every identified open port of the device for access without credentials, all ports
/// at once.
async fn discover_all(
    target: &ActiveTarget,
    settings: Arc<settings::AccessSettings>,
    bounds: Bounds,
) -> Vec<Discovered> {
    let mut tasks = JoinSet::new();
    for port in &target.scan.ports {
        if port.state != PortState::Open {
            continue;
        }
        let Some(service) = &port.service else {
            continue;
        };
        tasks.spawn(discover(
            SocketAddr::new(target.device.address, port.port),
            service.kind,
            settings.clone(),
            bounds,
        ));
    }
    let mut found = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(discovered) = joined {
            found.push(discovered);
        }
    }
    found
}

/// The TCP login surfaces of a device (every identified port that takes a login), found the
/// same way the access check finds them, in port order; `bounds` for every probe.
pub async fn login_surfaces(
    target: &ActiveTarget,
    settings: &settings::AccessSettings,
    bounds: Bounds,
) -> Vec<Surface> {
    let mut surfaces: Vec<Surface> = discover_all(target, Arc::new(settings.clone()), bounds)
        .await
        .into_iter()
        .flat_map(|found| found.surfaces)
        .collect();
    surfaces.sort_by_key(|s| (s.address().port(), s.protocol()));
    surfaces
}

/// Runs S1.1-01 and S1.1-02 against one device.
pub async fn check(target: &ActiveTarget, context: &ActiveContext) -> Vec<Finding> {
    let settings = Arc::new(context.profile.access.clone());
    let bounds = bounds(&settings);
    let ip = target.device.address;
    let mut exposures = Vec::new();
    let mut surfaces = Vec::new();
    let mut anonymous = Vec::new();
    for found in discover_all(target, settings.clone(), bounds).await {
        exposures.extend(found.exposures);
        surfaces.extend(found.surfaces);
        anonymous.extend(found.accepted);
    }
    let snmp = Surface::Snmp(SocketAddr::new(ip, settings.snmp_port));
    surfaces.push(snmp);
    surfaces.sort_by_key(|s| (s.address().port(), s.protocol()));
    exposures.sort_by(|a, b| a.0.cmp(&b.0));

    let mut findings = Vec::new();
    let mut results = Vec::new();
    if context.may_send_credentials() {
        results = guess_all(target, &surfaces, &settings, bounds).await;
    }
    // SNMP answers a default community: anyone can read the device's management data.
    for (surface, outcome) in &results {
        if let (Surface::Snmp(_), Outcome::Guessed(g)) = (surface, outcome) {
            for (_, _, community, evidence) in &g.accepted {
                exposures.push((
                    surface.label(),
                    Exposure::Open {
                        what: format!("management data readable with community {community:?}"),
                        evidence: evidence.clone(),
                    },
                ));
            }
        }
        if let Outcome::AcceptsAnything(evidence) = outcome {
            exposures.push((
                surface.label(),
                Exposure::Open {
                    what: "any user name and password are accepted".into(),
                    evidence: evidence.clone(),
                },
            ));
        }
    }
    if context.may_send_credentials() {
        findings.extend(cross_unit(target, context, &surfaces, bounds).await);
    }
    findings.extend(unauthenticated_findings(&exposures));
    findings.extend(report::credential_findings(
        target, context, &surfaces, &results, &anonymous,
    ));
    findings
}

/// What happened on one surface when guessing.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The list was tried.
    Guessed(Guessed),
    /// A random credential was accepted: the service does not authenticate.
    AcceptsAnything(Evidence),
    /// Not guessed, and why.
    Skipped(String),
}

async fn guess_all(
    target: &ActiveTarget,
    surfaces: &[Surface],
    settings: &Arc<settings::AccessSettings>,
    bounds: Bounds,
) -> Vec<(Surface, Outcome)> {
    let mut tasks = JoinSet::new();
    for (index, surface) in surfaces.iter().enumerate() {
        let operator = target
            .device
            .credentials
            .iter()
            .any(|c| surface.matches_service(&c.service));
        if operator && !settings.guess_where_operator_credential {
            let why = "the inventory supplies an operator credential for it, so jcstar does not guess there (access.guess_where_operator_credential)".to_string();
            tasks.spawn(async move { (index, Outcome::Skipped(why)) });
            continue;
        }
        let mut pairs = settings::pairs(surface.lists(&settings.lists));
        pairs.truncate(settings.max_attempts);
        let surface = Arc::new(surface.clone());
        let concurrency = settings.concurrency;
        if matches!(*surface, Surface::Snmp(_)) {
            tasks.spawn(async move {
                let outcome = guess_snmp(surface, pairs, concurrency, bounds).await;
                (index, outcome)
            });
            continue;
        }
        tasks.spawn(async move {
            // A control attempt with random values: a service that accepts it checks nothing.
            // It runs alongside the list so its refusal delay does not add to the total; if it
            // shows the surface takes no password (or any), the list is abandoned at once.
            let (user, password) = (
                format!("jcs{}", jcstar_probe::probes::io::nonce(4)),
                jcstar_probe::probes::io::nonce(6),
            );
            let control = surface.login(&user, &password, &bounds);
            let guessing = guess(surface.clone(), Arc::new(pairs), concurrency, bounds);
            tokio::pin!(control, guessing);
            let mut guessed: Option<Guessed> = None;
            let mut controlled = false;
            loop {
                tokio::select! {
                    outcome = &mut control, if !controlled => match outcome {
                        LoginOutcome::Accepted(evidence) => {
                            return (index, Outcome::AcceptsAnything(evidence))
                        }
                        LoginOutcome::Unsupported(why) => {
                            return (
                                index,
                                Outcome::Guessed(Guessed {
                                    unsupported: Some(why),
                                    ..Guessed::default()
                                }),
                            )
                        }
                        _ => controlled = true,
                    },
                    result = &mut guessing, if guessed.is_none() => guessed = Some(result),
                }
                if controlled {
                    if let Some(result) = guessed.take() {
                        return (index, Outcome::Guessed(result));
                    }
                }
            }
        });
    }
    let mut out: Vec<(usize, Outcome)> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(result) = joined {
            out.push(result);
        }
    }
    out.sort_by_key(|(i, _)| *i);
    out.into_iter()
        .map(|(i, outcome)| (surfaces[i].clone(), outcome))
        .collect()
}

/// SNMP refuses a wrong community with silence, so a control attempt run alongside the list
/// would cost the full silence wait. It runs afterwards instead, and only when a community was
/// accepted (an agent that checks nothing would have accepted the list's first entry), waiting
/// a multiple of the answer time just measured with the accepted community.
async fn guess_snmp(
    surface: Arc<Surface>,
    pairs: Vec<(String, String)>,
    concurrency: usize,
    bounds: Bounds,
) -> Outcome {
    let guessed = guess(surface.clone(), Arc::new(pairs), concurrency, bounds).await;
    let Some((_, user, community, _)) = guessed.accepted.first().cloned() else {
        return Outcome::Guessed(guessed);
    };
    let started = tokio::time::Instant::now();
    let answer_time = match surface.login(&user, &community, &bounds).await {
        LoginOutcome::Accepted(_) => started.elapsed(),
        _ => bounds.read,
    };
    let silence = answer_time
        .saturating_mul(20)
        .max(Duration::from_millis(300))
        .min(bounds.read);
    let control = Bounds {
        read: silence,
        ..bounds
    };
    let random = format!("jcs{}", jcstar_probe::probes::io::nonce(6));
    if let LoginOutcome::Accepted(evidence) = surface.login("", &random, &control).await {
        return Outcome::AcceptsAnything(evidence);
    }
    // Every community found: may it write? Tested by writing back the value already there.
    let mut guessed = guessed;
    if let Surface::Snmp(address) = *surface {
        let communities: Vec<String> = guessed.accepted.iter().map(|a| a.2.clone()).collect();
        for community in communities {
            let (access, evidence) = snmp::write_access(address, &community, &bounds).await;
            guessed.write_access.push((community, access, evidence));
        }
    }
    Outcome::Guessed(guessed)
}

/// Tries the initial passwords other units of the same model declare on this unit's matching
/// surfaces: a password that opens two units is not unique per unit. Passwords stay unnamed.
async fn cross_unit(
    target: &ActiveTarget,
    context: &ActiveContext,
    surfaces: &[Surface],
    bounds: Bounds,
) -> Vec<Finding> {
    let me = &target.device;
    let Some(model) = &me.model else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    let peers = context
        .peers
        .iter()
        .filter(|p| p.name != me.name && p.model.as_ref() == Some(model));
    for peer in peers {
        for credential in peer.credentials.iter().filter(|c| c.initial) {
            for surface in surfaces
                .iter()
                .filter(|s| s.matches_service(&credential.service))
            {
                let outcome = surface
                    .login(&credential.username, credential.password.expose(), &bounds)
                    .await;
                if let LoginOutcome::Accepted(_) = outcome {
                    findings.push(Finding::new(
                        DEFAULT_CREDENTIALS,
                        "S1.1-02",
                        Verdict::Fail,
                        format!(
                            "{}: the initial password unit {:?} declares for user {:?} (not shown) logs in to this unit too: it is not unique per unit",
                            surface.label(),
                            peer.name,
                            credential.username
                        ),
                    ));
                }
            }
        }
    }
    findings
}

/// S1.1-01 findings from what answered without credentials.
fn unauthenticated_findings(exposures: &[(String, Exposure)]) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut protected = Vec::new();
    let mut undecided = Vec::new();
    for (label, exposure) in exposures {
        match exposure {
            Exposure::Open { what, evidence } => findings.push(
                Finding::new(
                    UNAUTHENTICATED,
                    "S1.1-01",
                    Verdict::Fail,
                    format!("{label} needs no authentication: {what}"),
                )
                .with_evidence(evidence.clone()),
            ),
            Exposure::Protected { what } => protected.push(format!("{label}: {what}")),
            Exposure::Unknown(why) => undecided.push((label, why)),
        }
    }
    if findings.is_empty() {
        findings.push(if protected.is_empty() {
            Finding::new(
                UNAUTHENTICATED,
                "S1.1-01",
                Verdict::NotApplicable,
                "no service that takes a login was identified",
            )
        } else {
            Finding::new(
                UNAUTHENTICATED,
                "S1.1-01",
                Verdict::Pass,
                format!("authentication demanded by: {}", protected.join("; ")),
            )
        });
    }
    // A service whose answer without credentials is unknown may be open: no pass (and no
    // "nothing to test") stands beside it.
    for (label, why) in undecided {
        findings.push(Finding::new(
            UNAUTHENTICATED,
            "S1.1-01",
            Verdict::Inconclusive,
            format!("{label}: could not tell whether it needs authentication ({why})"),
        ));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use jcstar_lab::snmp::{serve, Agent, ANY_COMMUNITY};
    use tokio::net::UdpSocket;

    /// SSH demanding a password beside an HTTP service whose admin paths were only refused
    /// for now: S1.1-01 is inconclusive, not a pass on SSH alone.
    #[test]
    fn an_undecided_service_keeps_s1_1_01_from_passing() {
        let exposures = vec![
            (
                "ssh 22/tcp".to_string(),
                Exposure::Protected {
                    what: "SSH demands authentication (password)".into(),
                },
            ),
            (
                "http 8080/tcp".to_string(),
                Exposure::Unknown("no decisive answer: /admin: 429 twice".into()),
            ),
        ];
        let findings = unauthenticated_findings(&exposures);
        let result = jcstar_model::aggregate("S1.1-01", "t", findings);
        assert_eq!(result.verdict, Verdict::Inconclusive, "{result:?}");
        assert!(result.reason.contains("http 8080/tcp"), "{}", result.reason);
    }

    async fn agent(community: &'static str) -> Surface {
        agent_writing(community, false).await
    }

    async fn agent_writing(community: &'static str, writable: bool) -> Surface {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let address = socket.local_addr().expect("address");
        let agent = Box::leak(Box::new(Agent {
            community,
            descr: "JCS-TEST agent",
            sys_name: "jcs-test",
            writable,
        }));
        tokio::spawn(serve(Arc::new(socket), agent));
        Surface::Snmp(address)
    }

    fn list() -> Vec<(String, String)> {
        ["public", "private", "admin"]
            .iter()
            .map(|c| (String::new(), c.to_string()))
            .collect()
    }

    fn bounds() -> Bounds {
        Bounds {
            connect: Duration::from_secs(1),
            read: Duration::from_secs(2),
            max_bytes: 4096,
        }
    }

    #[tokio::test]
    async fn snmp_agent_reading_with_any_community_is_caught_by_the_control() {
        let surface = Arc::new(agent(ANY_COMMUNITY).await);
        let outcome = guess_snmp(surface, list(), 2, bounds()).await;
        assert!(
            matches!(outcome, Outcome::AcceptsAnything(_)),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn snmp_community_accepted_and_random_one_refused_quickly() {
        let surface = Arc::new(agent("private").await);
        let started = std::time::Instant::now();
        let outcome = guess_snmp(surface, list(), 1, bounds()).await;
        let Outcome::Guessed(guessed) = outcome else {
            panic!("expected the list result, got {outcome:?}");
        };
        let accepted: Vec<String> = guessed
            .accepted
            .into_iter()
            .map(|(_, _, community, _)| community)
            .collect();
        assert_eq!(accepted, ["private"]);
        // public and admin were refused (2 s of silence each: every pair is tried, to find
        // every default), then the control waited far less than another 2 s.
        assert!(
            started.elapsed() < Duration::from_millis(5500),
            "{:?}",
            started.elapsed()
        );
    }

    /// A found community is tested for write access by setting sysLocation.0 to the value it
    /// holds: a read-write community says so, a read-only one is refused (noAccess).
    #[tokio::test]
    async fn snmp_write_access_is_tested_without_changing_anything() {
        for (writable, expected) in [
            (true, WriteAccessKind::Writable),
            (false, WriteAccessKind::Refused),
        ] {
            let surface = Arc::new(agent_writing("public", writable).await);
            let Outcome::Guessed(guessed) = guess_snmp(surface, list(), 3, bounds()).await else {
                panic!("a list result");
            };
            let [(community, access, evidence)] = guessed.write_access.as_slice() else {
                panic!("one write test: {:?}", guessed.write_access);
            };
            assert_eq!(community, "public");
            let kind = match access {
                snmp::WriteAccess::Writable => WriteAccessKind::Writable,
                snmp::WriteAccess::Refused(6) => WriteAccessKind::Refused,
                other => panic!("{other:?}"),
            };
            assert_eq!(kind, expected);
            let said = evidence.received.as_deref().unwrap_or_default();
            assert!(
                said.contains("\"lab rack 1\"") && said.contains("nothing changed"),
                "{said}"
            );
        }
    }

    #[derive(Debug, PartialEq)]
    enum WriteAccessKind {
        Writable,
        Refused,
    }
}
