//! A device under test: its address, what the vendor declares about it, and operator-supplied
//! credentials (never written to a report).

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Transport protocol of a declared service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// A service the vendor declares the device exposes, e.g. `443/tcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeclaredService {
    /// Port number.
    pub port: u16,
    /// Transport.
    pub transport: Transport,
}

impl fmt::Display for DeclaredService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let proto = match self.transport {
            Transport::Tcp => "tcp",
            Transport::Udp => "udp",
        };
        write!(f, "{}/{}", self.port, proto)
    }
}

impl Serialize for DeclaredService {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// Reads back the `443/tcp` form it is serialised as (the run journal keeps the devices).
impl<'de> Deserialize<'de> for DeclaredService {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let invalid = || serde::de::Error::custom(format!("not a service like 443/tcp: {text:?}"));
        let (port, transport) = text.split_once('/').ok_or_else(invalid)?;
        let transport = match transport {
            "tcp" => Transport::Tcp,
            "udp" => Transport::Udp,
            _ => return Err(invalid()),
        };
        let port = port.parse().map_err(|_| invalid())?;
        Ok(DeclaredService { port, transport })
    }
}

/// A secret the operator supplied; its `Debug` and serialised forms are redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret itself, for use on the wire only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("<redacted>")
    }
}

/// A credential the operator supplies for authenticated checks on one service.
#[derive(Debug, Clone, Serialize)]
pub struct Credential {
    /// The service it is for (`telnet`, `ssh`, `http`, … or `port/tcp`).
    pub service: String,
    /// User name (not secret).
    pub username: String,
    /// Password (redacted in every report).
    pub password: Secret,
    /// Whether this is the unit's initial (factory) password, for the multi-unit rule.
    pub initial: bool,
    /// The lockout window the vendor declares for this login, in seconds: how long the
    /// brute-force check waits for a locked account to recover (capped by the profile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lockout_window_s: Option<u64>,
}

/// A declared evidence value: text, or a list of texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EvidenceValue {
    /// A single text value (URL, date, description).
    Text(String),
    /// A list of values (e.g. software components).
    List(Vec<String>),
}

/// Values that stand in for evidence not yet written: they never count as declared evidence.
/// The last ones are the placeholder texts of `targets/example.toml`.
const PLACEHOLDERS: &[&str] = &[
    "",
    "-",
    "--",
    "?",
    "x",
    "xx",
    "xxx",
    "...",
    "…",
    "todo",
    "tbd",
    "tba",
    "n/a",
    "na",
    "none",
    "null",
    "nil",
    "dummy",
    "placeholder",
    "fixme",
    "replace-me",
    "未定",
    "未記入",
    "なし",
    "not yet confirmed",
    "see vendor security whitepaper section 4",
];

impl EvidenceValue {
    /// Whether the value says nothing: empty, or a placeholder such as `TODO`, `n/a`, `x`.
    pub fn is_placeholder(&self) -> bool {
        let placeholder = |text: &str| {
            let text = text.trim().trim_end_matches('.').to_lowercase();
            PLACEHOLDERS.contains(&text.as_str())
        };
        match self {
            EvidenceValue::Text(text) => placeholder(text),
            EvidenceValue::List(items) => items.iter().all(|item| placeholder(item)),
        }
    }
}

impl fmt::Display for EvidenceValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvidenceValue::Text(text) => f.write_str(text),
            EvidenceValue::List(items) => f.write_str(&items.join(", ")),
        }
    }
}

/// A device to test, after its address is resolved. It reads back from its serialised form
/// without credentials, which are never written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Device {
    /// Name (from the inventory, else the address).
    pub name: String,
    /// Address probed.
    pub address: IpAddr,
    /// Hostname the user gave, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Declared model, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Declared services; `None` when the vendor declared none.
    pub declared_services: Option<Vec<DeclaredService>>,
    /// Operator-supplied credentials: never serialised, empty when read back.
    #[serde(skip)]
    pub credentials: Vec<Credential>,
    /// Declared vendor evidence by field name.
    pub evidence: BTreeMap<String, EvidenceValue>,
}

impl Device {
    /// A device given only by address on the command line: nothing declared.
    pub fn bare(address: IpAddr, hostname: Option<String>) -> Self {
        Device {
            name: hostname.clone().unwrap_or_else(|| address.to_string()),
            address,
            hostname,
            model: None,
            declared_services: None,
            credentials: Vec::new(),
            evidence: BTreeMap::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_not_evidence() {
        for text in [
            "",
            " TODO ",
            "n/a",
            "x",
            "TBD.",
            "not yet confirmed",
            "なし",
        ] {
            assert!(
                EvidenceValue::Text(text.into()).is_placeholder(),
                "{text:?}"
            );
        }
        assert!(EvidenceValue::List(vec!["todo".into(), String::new()]).is_placeholder());
        assert!(EvidenceValue::List(Vec::new()).is_placeholder());
        for text in [
            "https://vendor.example/vdp",
            "x509 certificates",
            "2031-03-31",
        ] {
            assert!(
                !EvidenceValue::Text(text.into()).is_placeholder(),
                "{text:?}"
            );
        }
        assert!(!EvidenceValue::List(vec!["todo".into(), "busybox 1.36".into()]).is_placeholder());
    }

    #[test]
    fn secrets_never_appear_in_debug_or_json() {
        let credential = Credential {
            service: "telnet".into(),
            username: "root".into(),
            password: Secret::new("hunter2".into()),
            initial: false,
            lockout_window_s: None,
        };
        assert!(!format!("{credential:?}").contains("hunter2"));
        let json = serde_json::to_string(&credential).expect("serialise");
        assert!(!json.contains("hunter2"));
        assert!(json.contains("<redacted>"));
    }

    #[test]
    fn a_device_reads_back_without_its_credentials() {
        let mut device = Device::bare([127, 0, 0, 9].into(), None);
        device.model = Some("カメラ".into());
        device.declared_services = Some(vec![
            DeclaredService {
                port: 443,
                transport: Transport::Tcp,
            },
            DeclaredService {
                port: 161,
                transport: Transport::Udp,
            },
        ]);
        device
            .evidence
            .insert("sbom".into(), EvidenceValue::List(vec!["a".into()]));
        device
            .evidence
            .insert("vdp".into(), EvidenceValue::Text("x".into()));
        device.credentials.push(Credential {
            service: "telnet".into(),
            username: "root".into(),
            password: Secret::new("hunter2".into()),
            initial: true,
            lockout_window_s: None,
        });
        let json = serde_json::to_string(&device).expect("serialise");
        assert!(
            !json.contains("hunter2") && !json.contains("root"),
            "{json}"
        );
        let back: Device = serde_json::from_str(&json).expect("read back");
        assert_eq!(serde_json::to_string(&back).expect("again"), json);
        assert!(back.credentials.is_empty());
        let bad = json.replace("161/udp", "161/sctp");
        assert!(serde_json::from_str::<Device>(&bad).is_err());
    }
}
