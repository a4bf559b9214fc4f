//! What the active checks observe besides findings: UDP port states, and sightings of the
//! device's identity and software that several checks gather and one check judges together
//! (S1.1-10 model designation, S1.1-06 software components).

use serde::{Deserialize, Serialize};

/// The state of one probed UDP port. A UDP port counts as open only when it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UdpState {
    /// The service answered the probe.
    Open,
    /// The host said the port is closed (ICMP port unreachable).
    Closed,
    /// Nothing came back before the deadline: closed, filtered, or a service that ignores the
    /// probe. Never counted as open.
    NoAnswer,
}

/// One UDP port probed with a protocol-specific request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UdpPort {
    /// Port number.
    pub port: u16,
    /// The protocol asked (`snmp`, `ssdp`, `coap`, `mdns`, `ws-discovery`).
    pub service: String,
    /// What came back.
    pub state: UdpState,
    /// What the answer showed, bounded and escaped (empty when nothing answered).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// What a sighting shows about the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Sighting {
    /// A model designation as the device presents it (UPnP `modelName`/`modelNumber`, an HTTP
    /// page title or header, SNMP `sysDescr`, an mDNS TXT record).
    Model {
        /// Where it was seen, e.g. `UPnP description http://…/desc.xml modelName`.
        source: String,
        /// The text as seen (bounded, escaped).
        text: String,
    },
    /// A software component, with its version when one is shown (an SSH banner's OpenSSH
    /// 9.2p1, BusyBox, an HTTP `Server` header, a UPnP firmware version).
    Component {
        /// Where it was seen, e.g. `22/tcp SSH banner`.
        source: String,
        /// Component name as shown, e.g. `OpenSSH`.
        name: String,
        /// Version as shown, if any.
        version: Option<String>,
    },
}
