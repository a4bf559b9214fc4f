//! The profile's `[udp]` section: which UDP IoT services are probed on which ports, and the
//! bounds of every probe.

use serde::{Deserialize, Serialize};

/// Names of the UDP IoT services, as results and findings name them.
pub mod service {
    /// SNMP v2c/v1.
    pub const SNMP: &str = "snmp";
    /// SSDP (UPnP discovery).
    pub const SSDP: &str = "ssdp";
    /// CoAP.
    pub const COAP: &str = "coap";
    /// Multicast DNS / DNS-SD.
    pub const MDNS: &str = "mdns";
    /// WS-Discovery (ONVIF).
    pub const WS_DISCOVERY: &str = "ws-discovery";
    /// NAT-PMP / PCP (port mapping on gateways).
    pub const NAT_PMP: &str = "nat-pmp";
}

/// UDP discovery settings (S1.1-13, S1.1-10, S1.1-01); durations in milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UdpSettings {
    /// Ports asked with an SNMP v2c/v1 GET of sysDescr.0 and sysName.0.
    pub snmp_ports: Vec<u16>,
    /// Community strings tried, in order, until one answers.
    pub snmp_communities: Vec<String>,
    /// Ports asked with a unicast SSDP M-SEARCH.
    pub ssdp_ports: Vec<u16>,
    /// Ports asked with a CoAP GET of `/.well-known/core`.
    pub coap_ports: Vec<u16>,
    /// Ports asked with a unicast mDNS (DNS-SD) query.
    pub mdns_ports: Vec<u16>,
    /// Ports asked with a WS-Discovery Probe.
    pub ws_discovery_ports: Vec<u16>,
    /// Ports asked with a NAT-PMP external-address request (PCP servers answer it too).
    pub nat_pmp_ports: Vec<u16>,
    /// How long each attempt waits for an answer.
    pub attempt_timeout_ms: u64,
    /// How many times a request is sent before the port counts as not answering (UDP loss).
    pub attempts: u32,
    /// Most bytes kept from one datagram.
    pub max_datagram_bytes: usize,
    /// Deadline of each HTTP exchange (UPnP description fetch, SOAP query).
    pub http_timeout_ms: u64,
    /// Most bytes read from one HTTP response (the UPnP description).
    pub max_http_bytes: usize,
    /// Most DNS-SD service types followed per mDNS responder.
    pub mdns_max_services: usize,
    /// Probes running at once per device.
    pub concurrency: usize,
}

impl Default for UdpSettings {
    fn default() -> Self {
        UdpSettings {
            snmp_ports: vec![161],
            snmp_communities: vec!["public".to_string()],
            ssdp_ports: vec![1900],
            coap_ports: vec![5683],
            mdns_ports: vec![5353],
            ws_discovery_ports: vec![3702],
            nat_pmp_ports: vec![5351],
            attempt_timeout_ms: 1500,
            attempts: 2,
            max_datagram_bytes: 9000,
            http_timeout_ms: 3000,
            max_http_bytes: 65536,
            mdns_max_services: 8,
            concurrency: 5,
        }
    }
}

impl UdpSettings {
    /// Checks the values; the message names the offending key.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.attempt_timeout_ms == 0 || self.attempt_timeout_ms > 30_000 {
            return Err("attempt_timeout_ms must be between 1 and 30000".into());
        }
        if self.attempts == 0 || self.attempts > 5 {
            return Err("attempts must be between 1 and 5".into());
        }
        if !(512..=65_535).contains(&self.max_datagram_bytes) {
            return Err("max_datagram_bytes must be between 512 and 65535".into());
        }
        if self.http_timeout_ms == 0 || self.http_timeout_ms > 60_000 {
            return Err("http_timeout_ms must be between 1 and 60000".into());
        }
        if self.max_http_bytes < 1024 || self.max_http_bytes > 1 << 20 {
            return Err("max_http_bytes must be between 1024 and 1048576".into());
        }
        if self.mdns_max_services > 32 {
            return Err("mdns_max_services must be at most 32".into());
        }
        if self.concurrency == 0 || self.concurrency > 64 {
            return Err("concurrency must be between 1 and 64".into());
        }
        if !self.snmp_ports.is_empty() && self.snmp_communities.is_empty() {
            return Err(
                "snmp_communities must name at least one community when snmp_ports is set".into(),
            );
        }
        if self.probes().any(|(_, ports)| ports.contains(&0)) {
            return Err("port 0 is not a valid UDP port".into());
        }
        Ok(())
    }

    /// Every (service, ports) pair, in report order.
    pub fn probes(&self) -> impl Iterator<Item = (&'static str, &[u16])> {
        [
            (service::SNMP, self.snmp_ports.as_slice()),
            (service::SSDP, self.ssdp_ports.as_slice()),
            (service::COAP, self.coap_ports.as_slice()),
            (service::MDNS, self.mdns_ports.as_slice()),
            (service::WS_DISCOVERY, self.ws_discovery_ports.as_slice()),
            (service::NAT_PMP, self.nat_pmp_ports.as_slice()),
        ]
        .into_iter()
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::profile::{Profile, BUILTIN_TEXT};

    #[test]
    fn builtin_profile_probes_the_star1_udp_ports() {
        let profile = Profile::builtin();
        let probes: Vec<(&str, Vec<u16>)> = profile
            .udp
            .probes()
            .map(|(service, ports)| (service, ports.to_vec()))
            .collect();
        assert_eq!(
            probes,
            [
                ("snmp", vec![161]),
                ("ssdp", vec![1900]),
                ("coap", vec![5683]),
                ("mdns", vec![5353]),
                ("ws-discovery", vec![3702]),
                ("nat-pmp", vec![5351]),
            ]
        );
        assert!(profile.check_enabled(crate::profile::CheckId::UdpServices));
    }

    #[test]
    fn bad_udp_values_name_the_section_line() {
        for (from, to, words) in [
            ("attempts = 2 ", "attempts = 0 ", "attempts"),
            ("coap_ports = [5683]", "coap_ports = [0]", "port 0"),
            (
                "max_datagram_bytes = 9000",
                "max_datagram_bytes = 10",
                "max_datagram_bytes",
            ),
        ] {
            let text = BUILTIN_TEXT.replace(from, to);
            assert_ne!(text, BUILTIN_TEXT, "{from}");
            let err = Profile::parse(&text, Path::new("p.toml")).expect_err(to);
            let line = text
                .lines()
                .position(|l| l.starts_with("[udp]"))
                .map(|i| i + 1);
            assert_eq!(err.origin.line, line, "{err}");
            assert!(err.message.contains(words), "{err}");
        }
        let text = BUILTIN_TEXT.replace("attempts = 2 ", "atempts = 2 ");
        let err = Profile::parse(&text, Path::new("p.toml")).expect_err("unknown key");
        assert!(err.to_string().starts_with("p.toml:"), "{err}");
        assert!(err.message.contains("atempts"), "{err}");
    }
}
