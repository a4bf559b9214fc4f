//! UDP IoT service discovery, one module per protocol: SNMP, SSDP/UPnP, CoAP, mDNS and
//! WS-Discovery. Every probe sends a protocol-specific request to one port of one device
//! (unicast, never multicast), waits a bounded time for an answer of that protocol, and retries
//! a bounded number of times because UDP loses datagrams. A port is open only when it answered.

pub mod coap;
pub mod mdns;
pub mod natpmp;
pub mod snmp;
pub mod ssdp;
pub mod upnp;
pub mod wsd;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use crate::probes::udp::{
    connected_socket, exchange, exchange_any_port, exchange_on, random_u32, Answer, UdpBounds,
};
use jcstar_model::observed::{Sighting, UdpPort, UdpState};
pub use jcstar_model::profile::udp::UdpSettings;
use jcstar_model::Evidence;

/// The bounds of one HTTP exchange of the UDP probes (UPnP description fetch, SOAP query).
pub fn http_bounds(settings: &UdpSettings) -> crate::probes::io::Bounds {
    crate::probes::io::Bounds {
        connect: Duration::from_millis(settings.http_timeout_ms),
        read: Duration::from_millis(settings.http_timeout_ms),
        max_bytes: settings.max_http_bytes,
    }
}

/// Everything one UDP probe observed on one port.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// The port and its state (with a bounded, escaped detail when it answered).
    pub port: UdpPort,
    /// The request and the answer, for evidence (bounded, escaped).
    pub exchange: Option<Evidence>,
    /// Model and software sightings (judged by the identity check).
    pub sightings: Vec<Sighting>,
    /// Information the service disclosed without authentication (serial numbers, system
    /// descriptions), for S1.1-13 evidence.
    pub disclosures: Vec<Evidence>,
    /// Control interfaces found answering without authentication (S1.1-01 fail).
    pub unauthenticated: Vec<Exposed>,
    /// Control interfaces that refused a request without authentication (S1.1-01 pass).
    pub protected: Vec<Evidence>,
    /// What the probe could not do or chose not to do (e.g. a LOCATION on another host).
    pub notes: Vec<String>,
    /// Why the probe could not run at all (no socket, no route): the state is then no
    /// observation, only the absence of one.
    pub failed: Option<String>,
}

/// A control interface that answered without authentication.
#[derive(Debug, Clone)]
pub struct Exposed {
    /// What answered, e.g. `UPnP IGD urn:…:WANIPConnection:1 at http://…/ctl`.
    pub what: String,
    /// What it returned, bounded and escaped.
    pub returned: String,
    /// The exchange that proves it.
    pub evidence: Evidence,
}

impl Discovered {
    /// A probe result with the port state only.
    pub fn state(port: u16, service: &str, answer: &Answer) -> Self {
        let failed = match answer {
            Answer::Failed(reason) => Some(jcstar_model::bounded(reason)),
            _ => None,
        };
        Discovered {
            port: UdpPort {
                port,
                service: service.to_string(),
                state: answer.state(),
                detail: String::new(),
            },
            exchange: None,
            sightings: Vec::new(),
            disclosures: Vec::new(),
            unauthenticated: Vec::new(),
            protected: Vec::new(),
            notes: Vec::new(),
            failed,
        }
    }

    /// Sets the detail shown for the port (bounded and with control characters replaced).
    pub fn with_detail(mut self, detail: &str) -> Self {
        self.port.detail = jcstar_model::bounded(detail);
        self
    }
}

/// Runs every probe the settings list against `ip`, at most `settings.concurrency` at once.
///
/// Hosts rate-limit ICMP port unreachable (Linux: a burst of 6, then one a second per
/// destination), so probing several closed ports at once can leave some of them silent. When
/// the host did send ICMP for one port and others stayed silent, those are asked again one at
/// a time after the bucket has refilled: a closed port then shows as closed, and only a
/// service that ignores the request (or a filter) stays `no_answer`.
pub async fn discover(ip: IpAddr, settings: &UdpSettings) -> Vec<Discovered> {
    let probes: Vec<(&'static str, u16)> = settings
        .probes()
        .flat_map(|(service, ports)| ports.iter().map(move |&port| (service, port)))
        .collect();
    let mut found = probe_all(ip, settings, &probes).await;
    let silent = |d: &Discovered| d.port.state == UdpState::NoAnswer && d.failed.is_none();
    let host_sends_icmp = found.iter().any(|d| d.port.state == UdpState::Closed);
    if host_sends_icmp && found.iter().any(silent) {
        tokio::time::sleep(ICMP_REFILL).await;
        // One datagram is enough to draw the ICMP now that the bucket has refilled.
        let once = UdpSettings {
            attempts: 1,
            ..settings.clone()
        };
        for (index, &(service, port)) in probes.iter().enumerate() {
            if found.get(index).is_some_and(silent) {
                found[index] = probe_one(service, SocketAddr::new(ip, port), &once).await;
            }
        }
    }
    found
}

/// How long a host's ICMP rate limit takes to allow another port unreachable.
const ICMP_REFILL: Duration = Duration::from_millis(1100);

/// Runs the probe named `service` against `address`; an unknown name is a failed probe.
async fn probe_one(service: &str, address: SocketAddr, settings: &UdpSettings) -> Discovered {
    match service {
        snmp::SERVICE => snmp::probe(address, settings).await,
        ssdp::SERVICE => ssdp::probe(address, settings).await,
        coap::SERVICE => coap::probe(address, settings).await,
        mdns::SERVICE => mdns::probe(address, settings).await,
        wsd::SERVICE => wsd::probe(address, settings).await,
        natpmp::SERVICE => natpmp::probe(address, settings).await,
        _ => Discovered::state(
            address.port(),
            service,
            &Answer::Failed("unknown UDP probe".into()),
        ),
    }
}

/// Runs `probes` (service, port) against `ip`, at most `settings.concurrency` at once; results in
/// the order of `probes`.
async fn probe_all(
    ip: IpAddr,
    settings: &UdpSettings,
    probes: &[(&'static str, u16)],
) -> Vec<Discovered> {
    use std::sync::Arc;
    let settings = Arc::new(settings.clone());
    let limit = Arc::new(tokio::sync::Semaphore::new(settings.concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, &(service, port)) in probes.iter().enumerate() {
        let settings = settings.clone();
        let limit = limit.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.ok();
            let found = probe_one(service, SocketAddr::new(ip, port), &settings).await;
            (index, found)
        });
    }
    let mut found: Vec<Option<Discovered>> = vec![None; probes.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, result)) => found[index] = Some(result),
            Err(e) => tracing::error!(error = %e, "a UDP probe task failed"),
        }
    }
    found
        .into_iter()
        .zip(probes)
        .map(|(result, &(service, port))| {
            result.unwrap_or_else(|| {
                Discovered::state(
                    port,
                    service,
                    &Answer::Failed("the probe task failed".into()),
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_probe_name_is_a_failed_probe() {
        let address: SocketAddr = "127.0.0.1:9".parse().expect("addr");
        let found = probe_one("gopher", address, &UdpSettings::default()).await;
        assert_eq!(found.failed.as_deref(), Some("unknown UDP probe"));
        assert_eq!(found.port.state, UdpState::NoAnswer);
        assert_eq!(found.port.service, "gopher");
    }
}
