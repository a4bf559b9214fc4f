//! Plaintext channels that carry credentials: telnet and FTP (from the scan), HTTP logins on
//! plain HTTP without a redirect to HTTPS, MQTT taking a username/password, RTSP with Basic
//! authentication, SNMP v1/v2c. Small bounded probes of its own; no login is guessed. SNMP is
//! asked with the well-known community strings (`public`, `private` and the profile's SNMP
//! list, all in one burst), since a v1/v2c agent stays silent to a community it does not know.

use std::net::SocketAddr;
use std::time::Duration;

use jcstar_model::profile::{Rating, TlsPolicy};
use jcstar_model::{Evidence, Finding};
use jcstar_probe::probes::digest::Challenge;
use jcstar_probe::probes::io::Bounds;
use jcstar_probe::probes::{http, mqtt, rtsp, udp};
use jcstar_probe::scan::{HostScan, PortState, ServiceKind};
use jcstar_wire::snmp;

use super::policy::{verdict, S1_1_12};

/// Bounds of every plaintext probe.
const BOUNDS: Bounds = Bounds {
    connect: Duration::from_secs(3),
    read: Duration::from_secs(3),
    max_bytes: 16 * 1024,
};
/// HTTP paths where a login usually sits.
const HTTP_PATHS: &[&str] = &["/", "/admin", "/admin/", "/login", "/login.html"];
/// RTSP paths cameras commonly serve.
const RTSP_PATHS: &[&str] = &["/", "/live", "/stream1", "/h264"];

/// An HTTP login on plain HTTP: the path and what gave it away. `None` when `/` redirects to
/// HTTPS, or no path shows a login.
async fn http_login(addr: SocketAddr) -> Option<(String, String)> {
    for path in HTTP_PATHS {
        let Ok(response) = http::get(addr, false, path, None, &BOUNDS).await else {
            continue;
        };
        let to_https = (300..400).contains(&response.status)
            && response
                .header_values("Location")
                .iter()
                .any(|l| l.trim().to_ascii_lowercase().starts_with("https://"));
        if to_https {
            if *path == "/" {
                return None;
            }
            continue;
        }
        if response.status == 401 {
            if let Some(challenge) = response.header_values("WWW-Authenticate").first() {
                return Some((
                    path.to_string(),
                    format!("401 challenge: {}", jcstar_model::bounded(challenge)),
                ));
            }
        }
        if response.status == 200 && http::is_login_form(&response.body) {
            return Some((path.to_string(), "a form with a password field".to_string()));
        }
    }
    None
}

/// An RTSP Basic challenge: the path and the challenge.
async fn rtsp_basic(addr: SocketAddr) -> Option<(String, String)> {
    for path in RTSP_PATHS {
        let response = rtsp::describe(addr, &rtsp::url(addr, path), None, &BOUNDS)
            .await
            .ok()?;
        let basic = response
            .challenges()
            .iter()
            .any(|c| matches!(c, Challenge::Basic { .. }));
        if response.status == 401 && basic {
            return Some((path.to_string(), "401 with a Basic challenge".to_string()));
        }
    }
    None
}

/// The CONNACK code when the broker on `addr` takes a user name and password on this port
/// (codes 1 and 2 refuse the CONNECT itself, not its credentials).
async fn mqtt_credentials(addr: SocketAddr) -> Option<u8> {
    match mqtt::connack_to_credentials(addr, false, &BOUNDS).await {
        Ok(code) if code != 1 && code != 2 => Some(code),
        _ => None,
    }
}

/// Most community strings sent to one agent.
pub const SNMP_MAX_COMMUNITIES: usize = 16;

/// The first of `communities` an SNMP v1/v2c agent at `agent` answers: one v2c GetRequest for
/// sysDescr.0 per community, all sent at once, each with its own request id; the first
/// GetResponse that matches an id names the community. Agents ignore wrong communities.
async fn snmp_community(agent: SocketAddr, communities: &[String]) -> Option<String> {
    let communities: Vec<&String> = communities.iter().take(SNMP_MAX_COMMUNITIES).collect();
    if communities.is_empty() {
        // Nothing may be sent (intrusive checks off): nothing to wait for either.
        return None;
    }
    let base = udp::random_u32() & 0x3fff_ff00;
    let id = |i: usize| base + i as u32;
    let requests: Vec<Vec<u8>> = communities
        .iter()
        .enumerate()
        .map(|(i, community)| snmp::get_request(1, community, id(i)))
        .collect();
    let answered =
        |data: &[u8]| (0..communities.len()).find(|&i| snmp::parse_response(data, id(i)).is_some());
    let bounds = udp::UdpBounds {
        attempt: BOUNDS.read,
        attempts: 1,
        max_bytes: 1500,
    };
    match udp::exchange(agent, &requests, &bounds, |d| answered(d).is_some()).await {
        udp::Answer::Reply(data) => answered(&data).map(|i| communities[i].to_string()),
        _ => None,
    }
}

/// SNMP settings for the plaintext check: where the agent listens and which community strings
/// to try (`public` and `private` always included).
#[derive(Debug, Clone)]
pub struct SnmpProbe {
    /// UDP port of the agent.
    pub port: u16,
    /// Community strings, tried at once, at most [`SNMP_MAX_COMMUNITIES`].
    pub communities: Vec<String>,
}

impl SnmpProbe {
    /// `public`, `private`, then the profile's SNMP community lists (`[access.lists] snmp`).
    pub fn from_profile(profile: &jcstar_model::profile::Profile) -> SnmpProbe {
        let mut communities: Vec<String> = vec!["public".into(), "private".into()];
        for name in &profile.access.lists.snmp {
            for (_, community) in jcstar_model::profile::access::list(name).unwrap_or_default() {
                if !community.is_empty() && !communities.contains(&community) {
                    communities.push(community);
                }
            }
        }
        communities.truncate(SNMP_MAX_COMMUNITIES);
        SnmpProbe {
            port: profile.access.snmp_port,
            communities,
        }
    }
}

fn finding(
    policy: &TlsPolicy,
    channel: &str,
    summary: String,
    evidence: Evidence,
) -> Option<Finding> {
    let rating = policy.plaintext_channels.get(channel).copied()?;
    (rating > Rating::Pass).then(|| {
        Finding::new("crypto.plaintext", S1_1_12, verdict(rating), summary).with_evidence(evidence)
    })
}

/// Findings for every plaintext channel carrying credentials on the scanned device.
pub async fn check(scan: &HostScan, policy: &TlsPolicy, snmp: &SnmpProbe) -> Vec<Finding> {
    let mut findings = Vec::new();
    for port in scan.ports.iter().filter(|p| p.state == PortState::Open) {
        let Some(service) = &port.service else {
            continue;
        };
        let addr = SocketAddr::new(scan.address, port.port);
        let p = format!("{}/tcp", port.port);
        let found = match service.kind {
            ServiceKind::Telnet => finding(
                policy,
                "telnet",
                format!("telnet on {p} carries logins in plaintext"),
                Evidence::observed(format!("banner {p}"), &service.banner),
            ),
            ServiceKind::Ftp => finding(
                policy,
                "ftp",
                format!("FTP on {p} carries logins in plaintext"),
                Evidence::observed(format!("banner {p}"), &service.banner),
            ),
            ServiceKind::Http => match http_login(addr).await {
                Some((path, why)) => finding(
                    policy,
                    "http_login",
                    format!("HTTP login on plain HTTP at {p} {path} (no redirect to HTTPS)"),
                    Evidence::observed(format!("http {p} {path}"), why),
                ),
                None => None,
            },
            ServiceKind::Rtsp => match rtsp_basic(addr).await {
                Some((path, why)) => finding(
                    policy,
                    "rtsp_basic",
                    format!("RTSP Basic authentication in plaintext on {p} {path}"),
                    Evidence::observed(format!("rtsp {p} {path}"), why),
                ),
                None => None,
            },
            ServiceKind::Mqtt => match mqtt_credentials(addr).await {
                Some(code) => finding(
                    policy,
                    "mqtt",
                    format!("MQTT on {p} takes username/password in plaintext"),
                    Evidence::observed(
                        format!("mqtt {p} CONNACK"),
                        format!("return code {code} to a CONNECT with username and password"),
                    ),
                ),
                None => None,
            },
            _ => None,
        };
        findings.extend(found);
    }
    if policy.plaintext_channels.contains_key("snmp") {
        let agent = SocketAddr::new(scan.address, snmp.port);
        if let Some(community) = snmp_community(agent, &snmp.communities).await {
            findings.extend(finding(
                policy,
                "snmp",
                format!(
                    "SNMP v1/v2c on {}/udp: community strings travel in plaintext",
                    snmp.port
                ),
                Evidence::observed(
                    format!("snmp {}/udp", snmp.port),
                    format!(
                        "answered a v2c GetRequest for sysDescr.0 with community {:?}",
                        jcstar_model::bounded(&community)
                    ),
                ),
            ));
        }
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn agent_for(community: &'static str) -> SocketAddr {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let agent = Box::leak(Box::new(jcstar_lab::snmp::Agent {
            community,
            descr: "JCS-TEST agent",
            sys_name: "jcs-test",
            writable: false,
        }));
        tokio::spawn(jcstar_lab::snmp::serve(std::sync::Arc::new(socket), agent));
        addr
    }

    #[tokio::test]
    async fn finds_the_community_the_agent_answers() {
        let agent = agent_for("private").await;
        let communities = vec!["public".to_string(), "private".to_string()];
        assert_eq!(
            snmp_community(agent, &communities).await.as_deref(),
            Some("private")
        );
        let only_public = vec!["public".to_string()];
        assert_eq!(snmp_community(agent, &only_public).await, None);
    }

    /// With intrusive checks off the list is empty: nothing is sent, so nothing is awaited
    /// (it used to wait out the whole read deadline for an answer to nothing).
    #[tokio::test]
    async fn no_community_to_send_means_no_wait() {
        let agent = agent_for("public").await;
        let quick = tokio::time::timeout(BOUNDS.read / 2, snmp_community(agent, &[])).await;
        assert_eq!(quick, Ok(None));
    }

    /// Against the simulated lab: the weak NVR's RTSP Basic challenge, the strong NVR's Digest
    /// one (not Basic), brokers that take credentials (3.1.1 and MQTT-5-only), and HTTP logins
    /// on plain HTTP (a 401 challenge, a form), while a closed port gives nothing.
    #[tokio::test]
    async fn lab_plaintext_logins_are_found_where_they_are() {
        let _lab = jcstar_lab::testing::start_lab(141).await;
        let at = |host: u8, port: u16| SocketAddr::from(([127, 77, 141, host], port));
        let basic = rtsp_basic(at(13, 8554))
            .await
            .expect("weak NVR: RTSP Basic");
        assert_eq!(basic.1, "401 with a Basic challenge");
        assert_eq!(rtsp_basic(at(13, 8555)).await, None, "Digest is not Basic");
        assert_eq!(mqtt_credentials(at(9, 1883)).await, Some(4));
        assert!(
            mqtt_credentials(at(10, 1883)).await.is_some(),
            "MQTT 5 only"
        );
        let (_, why) = http_login(at(13, 8080)).await.expect("401 on plain HTTP");
        assert!(why.starts_with("401 challenge: Digest"), "{why}");
        let (path, why) = http_login(at(29, 8080)).await.expect("form login");
        assert_eq!(why, "a form with a password field", "{path}");
        assert_eq!(http_login(at(13, 9)).await, None);
        assert_eq!(mqtt_credentials(at(13, 9)).await, None);
    }

    #[test]
    fn the_builtin_profile_tries_public_private_and_its_list() {
        let probe = SnmpProbe::from_profile(&jcstar_model::profile::Profile::builtin());
        assert_eq!(probe.port, 161);
        assert_eq!(&probe.communities[..2], ["public", "private"]);
        assert!(probe.communities.len() > 2);
        assert!(probe.communities.len() <= SNMP_MAX_COMMUNITIES);
    }
}
