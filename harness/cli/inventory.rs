//! The TOML inventory: devices with their declared services, operator credentials and vendor
//! evidence. Addresses are resolved later (see [`crate::targets`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use jcstar_model::device::{Credential, DeclaredService, EvidenceValue, Secret, Transport};
use jcstar_model::error::{line_of_offset, InputError, Origin};
use jcstar_model::profile::{toml_error, Profile};

/// A device entry as written in the inventory, before its address is resolved.
#[derive(Debug, Clone)]
pub struct InventoryEntry {
    /// Device name (unique in the file).
    pub name: String,
    /// Address or hostname as written.
    pub address: String,
    /// Where the entry's address stands.
    pub origin: Origin,
    /// Declared model.
    pub model: Option<String>,
    /// Declared services; `None` when the `services` key is absent.
    pub services: Option<Vec<DeclaredService>>,
    /// Operator-supplied credentials.
    pub credentials: Vec<Credential>,
    /// Declared evidence.
    pub evidence: BTreeMap<String, EvidenceValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    #[serde(default)]
    device: Vec<RawDevice>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    name: Spanned<String>,
    address: Spanned<String>,
    model: Option<String>,
    services: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    credential: Vec<RawCredential>,
    #[serde(default)]
    evidence: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCredential {
    service: String,
    username: String,
    password: String,
    #[serde(default)]
    initial: bool,
    lockout_window_s: Option<Spanned<i64>>,
}

/// Longest lockout window an inventory may declare (one day).
pub const MAX_LOCKOUT_WINDOW_S: i64 = 86_400;

/// Largest inventory file read (4 MiB: thousands of devices).
pub const MAX_INVENTORY_BYTES: u64 = 4 << 20;

/// Reads and validates an inventory file against the profile's evidence fields.
pub fn load(path: &Path, profile: &Profile) -> Result<Vec<InventoryEntry>, InputError> {
    let text = jcstar_model::error::read_capped(path, MAX_INVENTORY_BYTES).map_err(|e| {
        InputError::arg(format!(
            "cannot read inventory {}: {e}; check the --targets path",
            path.display()
        ))
    })?;
    parse(&text, path, profile)
}

/// Parses inventory text read from `path`.
pub fn parse(
    text: &str,
    path: &Path,
    profile: &Profile,
) -> Result<Vec<InventoryEntry>, InputError> {
    let raw: RawInventory = toml::from_str(text).map_err(|e| toml_error(text, path, &e))?;
    let at = |offset: usize| Origin::file_line(path, line_of_offset(text, offset));
    if raw.device.is_empty() {
        return Err(InputError::new(
            Origin::file(path),
            "the inventory lists no devices; add a [[device]] table with name and address",
        ));
    }
    let known_fields = profile.evidence_fields();
    let mut names = BTreeSet::new();
    let mut entries = Vec::with_capacity(raw.device.len());
    for device in raw.device {
        let name = device.name.get_ref().trim().to_string();
        if name.is_empty() || !names.insert(name.clone()) {
            return Err(InputError::new(
                at(device.name.span().start),
                format!(
                    "device name {name:?} is empty or used twice; give each device its own name"
                ),
            ));
        }
        let services = match device.services {
            None => None,
            Some(list) => Some(
                list.iter()
                    .map(|s| parse_service(s.get_ref(), at(s.span().start)))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        let mut evidence = BTreeMap::new();
        for (key, value) in device.evidence {
            let origin = at(key.span().start);
            let field = key.into_inner();
            if !known_fields.contains(field.as_str()) {
                return Err(InputError::new(
                    origin,
                    format!(
                        "unknown evidence field {field:?} in device {name:?}; known fields: {}",
                        known_fields.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            let value = evidence_value(&field, value.get_ref(), at(value.span().start))?;
            evidence.insert(field, value);
        }
        let mut credentials = Vec::with_capacity(device.credential.len());
        for c in device.credential {
            let lockout_window_s = match c.lockout_window_s {
                None => None,
                Some(w) => match u64::try_from(*w.get_ref()) {
                    Ok(seconds) if (1..=MAX_LOCKOUT_WINDOW_S).contains(w.get_ref()) => {
                        Some(seconds)
                    }
                    _ => {
                        return Err(InputError::new(
                            at(w.span().start),
                            format!(
                                "lockout_window_s = {} for the {:?} credential of device {name:?}: write the declared lockout in seconds, 1 to {MAX_LOCKOUT_WINDOW_S}",
                                w.get_ref(),
                                c.service
                            ),
                        ))
                    }
                },
            };
            credentials.push(Credential {
                service: c.service,
                username: c.username,
                password: Secret::new(c.password),
                initial: c.initial,
                lockout_window_s,
            });
        }
        entries.push(InventoryEntry {
            name,
            address: device.address.get_ref().trim().to_string(),
            origin: at(device.address.span().start),
            model: device.model,
            services,
            credentials,
            evidence,
        });
    }
    Ok(entries)
}

/// Parses a declared service such as `443/tcp`, `161/udp` or `80` (TCP).
fn parse_service(text: &str, origin: Origin) -> Result<DeclaredService, InputError> {
    let (port, proto) = text.split_once('/').unwrap_or((text, "tcp"));
    let transport = match proto.trim().to_ascii_lowercase().as_str() {
        "tcp" => Transport::Tcp,
        "udp" => Transport::Udp,
        other => {
            return Err(InputError::new(
                origin,
                format!("service {text:?}: unknown protocol {other:?}; write PORT/tcp or PORT/udp"),
            ))
        }
    };
    match port.trim().parse::<u16>() {
        Ok(port) if port > 0 => Ok(DeclaredService { port, transport }),
        _ => Err(InputError::new(
            origin,
            format!("service {text:?}: port must be 1-65535; write PORT/tcp or PORT/udp"),
        )),
    }
}

/// Converts a TOML value into evidence, checking formats the checks rely on.
fn evidence_value(
    field: &str,
    value: &toml::Value,
    origin: Origin,
) -> Result<EvidenceValue, InputError> {
    let converted = match value {
        toml::Value::String(s) => EvidenceValue::Text(s.trim().to_string()),
        toml::Value::Datetime(d) => EvidenceValue::Text(d.to_string()),
        toml::Value::Array(items) => EvidenceValue::List(
            items
                .iter()
                .map(|item| match item {
                    toml::Value::String(s) => Ok(s.clone()),
                    _ => Err(InputError::new(
                        origin.clone(),
                        format!("evidence {field:?}: list items must be strings"),
                    )),
                })
                .collect::<Result<_, _>>()?,
        ),
        _ => {
            return Err(InputError::new(
                origin,
                format!("evidence {field:?} must be a string or a list of strings"),
            ))
        }
    };
    if field == "support_end_date" {
        let text = converted.to_string();
        if chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d").is_err() {
            return Err(InputError::new(
                origin,
                format!("support_end_date {text:?} is not a date; write YYYY-MM-DD"),
            ));
        }
    }
    Ok(converted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Vec<InventoryEntry>, InputError> {
        parse(text, Path::new("inv.toml"), &Profile::builtin())
    }

    /// Every example inventory in `targets/` loads (the lab's own test keeps `demo.toml` in step
    /// with the simulated devices).
    #[test]
    fn example_inventories_load() {
        for name in ["demo.toml", "example.toml", "lab.toml"] {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("targets")
                .join(name);
            let text = std::fs::read_to_string(&path).expect("inventory file");
            let entries =
                parse(&text, &path, &Profile::builtin()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(!entries.is_empty(), "{name}");
        }
    }

    #[test]
    fn full_device_parses() {
        let entries = parse_text(
            r#"
[[device]]
name = "cam"
address = "192.0.2.10"
model = "CAM-1"
services = ["443/tcp", "161/udp", "80"]
[[device.credential]]
service = "http"
username = "admin"
password = "s3cret"
[device.evidence]
vdp_url = "https://vendor.example/vdp"
support_end_date = 2030-12-31
software_components = ["busybox 1.36", "openssl 3.0"]
"#,
        )
        .expect("valid");
        let cam = &entries[0];
        assert_eq!(cam.address, "192.0.2.10");
        assert_eq!(cam.origin.line, Some(4));
        let services: Vec<String> = cam
            .services
            .as_ref()
            .expect("declared")
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(services, ["443/tcp", "161/udp", "80/tcp"]);
        assert_eq!(cam.credentials[0].password.expose(), "s3cret");
        assert_eq!(
            cam.evidence["support_end_date"],
            EvidenceValue::Text("2030-12-31".into())
        );
    }

    #[test]
    fn unknown_device_key_names_the_line() {
        let err = parse_text("[[device]]\nname = \"a\"\naddress = \"::1\"\nadress = \"x\"\n")
            .expect_err("unknown key");
        assert_eq!(err.origin.line, Some(4), "{err}");
        assert!(err.message.contains("adress"), "{err}");
    }

    #[test]
    fn unknown_evidence_field_is_refused() {
        let err = parse_text(
            "[[device]]\nname = \"a\"\naddress = \"::1\"\n[device.evidence]\nvdp = \"x\"\n",
        )
        .expect_err("unknown evidence");
        assert_eq!(err.origin.line, Some(5), "{err}");
        assert!(err.message.contains("vdp_url"), "lists known fields: {err}");
    }

    #[test]
    fn bad_service_and_bad_date_name_their_lines() {
        let err =
            parse_text("[[device]]\nname = \"a\"\naddress = \"::1\"\nservices = [\"80/sctp\"]\n")
                .expect_err("bad proto");
        assert_eq!(err.origin.line, Some(4));
        assert!(err.message.contains("sctp"));
        let err = parse_text(
            "[[device]]\nname = \"a\"\naddress = \"::1\"\n[device.evidence]\nsupport_end_date = \"soon\"\n",
        )
        .expect_err("bad date");
        assert_eq!(err.origin.line, Some(5));
        assert!(err.message.contains("YYYY-MM-DD"));
    }

    #[test]
    fn declared_lockout_windows_are_read_and_checked() {
        let device = |window: &str| {
            format!(
                "[[device]]\nname = \"a\"\naddress = \"::1\"\n[[device.credential]]\nservice = \"ssh\"\nusername = \"op\"\npassword = \"x\"\nlockout_window_s = {window}\n"
            )
        };
        let entries = parse_text(&device("300")).expect("valid");
        assert_eq!(entries[0].credentials[0].lockout_window_s, Some(300));
        for bad in ["0", "-5", "86401"] {
            let err = parse_text(&device(bad)).expect_err(bad);
            assert_eq!(err.origin.line, Some(8), "{err}");
            assert!(err.message.contains("lockout_window_s"), "{err}");
            assert!(err.message.contains("1 to 86400"), "{err}");
        }
        let err = parse_text(&device("\"5 min\"")).expect_err("a string");
        assert_eq!(err.origin.line, Some(8), "{err}");
    }

    #[test]
    fn duplicate_names_and_empty_inventories_are_refused() {
        let err = parse_text(
            "[[device]]\nname = \"a\"\naddress = \"::1\"\n[[device]]\nname = \"a\"\naddress = \"127.0.0.1\"\n",
        )
        .expect_err("duplicate");
        assert_eq!(err.origin.line, Some(5));
        let err = parse_text("# nothing\n").expect_err("empty");
        assert!(err.message.contains("no devices"));
    }
}
