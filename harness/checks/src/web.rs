//! Web information on every HTTP(S) port of a device: the start page's title and software headers
//! (identity sightings for S1.1-10 and S1.1-06), `/.well-known/security.txt` (RFC 9116, S1.1-05)
//! and firmware-update pages reachable without authentication (S1.1-07 and S1.1-01).
//!
//! S1.1-05 while this check is enabled: a valid security.txt → `pass` with its fields as evidence,
//! noting whether it names the declared `vdp_url`; an expired, undated or contact-less one →
//! `warn`; none served → the declared-evidence verdict (`declared` with the VDP URL, or
//! `inconclusive` naming `vdp_url`), with a note that no security.txt was found. A device that
//! serves none is not penalised: the criterion is document-evaluated and the VDP may live on the
//! vendor's site. The declared-evidence check leaves S1.1-05 to this check so a network pass is
//! not buried under a missing-field `inconclusive`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use super::{ActiveContext, ActiveTarget};
use jcstar_model::device::Device;
use jcstar_model::observed::Sighting;
use jcstar_model::profile::web::WebSettings;
use jcstar_model::{bounded, Evidence, Finding, Verdict};
use jcstar_probe::probes::http::{self, Response};
use jcstar_probe::probes::io::Bounds;
use jcstar_probe::scan::{PortState, ServiceKind};

/// Check name of the S1.1-05 findings.
pub const SECURITY_TXT: &str = "web.security_txt";
/// Check name of the firmware-update page findings (S1.1-07, S1.1-01).
pub const UPDATE_PAGE: &str = "web.update_page";
/// The criterion security.txt supports (beside the declared VDP URL, which decides it).
pub const OWNED_CRITERION: &str = "S1.1-05";

/// The bounds of one web exchange under the profile's `[web]` section.
fn bounds(settings: &WebSettings) -> Bounds {
    Bounds {
        connect: Duration::from_millis(settings.connect_timeout_ms),
        read: Duration::from_millis(settings.read_timeout_ms),
        max_bytes: settings.max_response_bytes,
    }
}

/// The fields of a security.txt file (RFC 9116 section 2.5).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityTxt {
    /// `Contact` values (URIs), in order.
    pub contact: Vec<String>,
    /// The first `Expires` value, as written.
    pub expires: Option<String>,
    /// `Policy` values.
    pub policy: Vec<String>,
    /// `Encryption`, `Acknowledgments`, `Preferred-Languages`, `Canonical`, `Hiring` and
    /// `CSAF` values as (field, value).
    pub other: Vec<(String, String)>,
    /// Whether the file is an OpenPGP cleartext-signed message.
    pub signed: bool,
}

/// Most lines of a security.txt looked at, and most values kept per field.
const MAX_LINES: usize = 1000;
const MAX_VALUES: usize = 20;

/// Parses a security.txt body; `None` when it holds no RFC 9116 field at all (an HTML page, an
/// error text, binary garbage).
pub fn parse_security_txt(body: &[u8]) -> Option<SecurityTxt> {
    let text = String::from_utf8_lossy(body);
    let mut parsed = SecurityTxt::default();
    let mut any = false;
    let mut in_signature = false;
    for line in text.lines().take(MAX_LINES) {
        let line = line.trim();
        if line.starts_with("-----BEGIN PGP SIGNED MESSAGE-----") {
            parsed.signed = true;
            continue;
        }
        if line.starts_with("-----BEGIN PGP SIGNATURE-----") {
            in_signature = true;
        }
        if line.starts_with("-----END PGP SIGNATURE-----") {
            in_signature = false;
            continue;
        }
        if in_signature || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), bounded(value.trim()));
        if value.is_empty() {
            continue;
        }
        let field = match name.as_str() {
            "contact" => &mut parsed.contact,
            "policy" => &mut parsed.policy,
            "expires" => {
                any = true;
                parsed.expires.get_or_insert(value);
                continue;
            }
            "encryption"
            | "acknowledgments"
            | "preferred-languages"
            | "canonical"
            | "hiring"
            | "csaf" => {
                any = true;
                if parsed.other.len() < MAX_VALUES {
                    parsed.other.push((name, value));
                }
                continue;
            }
            _ => continue,
        };
        any = true;
        if field.len() < MAX_VALUES {
            field.push(value);
        }
    }
    any.then_some(parsed)
}

/// Comparable form of a URL: trimmed, lower case, no trailing `/`.
fn comparable(url: &str) -> String {
    url.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// The S1.1-05 verdict for a security.txt found at `url`.
pub fn judge_security_txt(
    parsed: &SecurityTxt,
    url: &str,
    declared_vdp: Option<&str>,
    now: DateTime<Utc>,
) -> Finding {
    let mut problems = Vec::new();
    if parsed.contact.is_empty() {
        problems.push("it has no Contact field (RFC 9116 requires one)".to_string());
    }
    match &parsed.expires {
        None => problems.push("it has no Expires field (RFC 9116 requires one)".to_string()),
        Some(expires) => match DateTime::parse_from_rfc3339(expires) {
            Ok(when) if when < now => problems.push(format!("it expired on {expires}")),
            Ok(_) => {}
            Err(_) => problems.push(format!("its Expires {expires:?} is not an RFC 3339 date")),
        },
    }
    let vdp_note = match declared_vdp {
        None => "no VDP URL is declared (vdp_url) to compare with".to_string(),
        Some(vdp) => {
            let named = parsed
                .policy
                .iter()
                .chain(&parsed.contact)
                .any(|u| comparable(u) == comparable(vdp));
            if named {
                format!("it names the declared VDP URL {vdp}")
            } else {
                format!("it does not name the declared VDP URL {vdp}")
            }
        }
    };
    let mut finding = if problems.is_empty() {
        Finding::new(
            SECURITY_TXT,
            "S1.1-05",
            Verdict::Pass,
            format!(
                "{url} publishes a vulnerability contact ({}); {vdp_note}",
                parsed.contact.join(", ")
            ),
        )
    } else {
        Finding::new(
            SECURITY_TXT,
            "S1.1-05",
            Verdict::Warn,
            format!("{url} is served but {}; {vdp_note}", problems.join(", ")),
        )
    };
    for contact in &parsed.contact {
        finding = finding.with_evidence(Evidence::observed("Contact", contact));
    }
    if let Some(expires) = &parsed.expires {
        finding = finding.with_evidence(Evidence::observed("Expires", expires));
    }
    for policy in &parsed.policy {
        finding = finding.with_evidence(Evidence::observed("Policy", policy));
    }
    for (name, value) in &parsed.other {
        finding = finding.with_evidence(Evidence::observed(name.clone(), value));
    }
    if let Some(vdp) = declared_vdp {
        finding = finding.with_evidence(Evidence::observed("vdp_url", vdp));
    }
    finding
}

/// Whether a page body looks like a firmware-update form: a file input to upload the image,
/// one of the marker words, and no password field (a login page that mentions updates is a
/// login page).
pub fn looks_like_update_form(body: &[u8], markers: &[String]) -> bool {
    let lower = String::from_utf8_lossy(body).to_ascii_lowercase();
    http::has_input(body, "file")
        && !http::is_login_form(body)
        && markers
            .iter()
            .any(|m| !m.is_empty() && lower.contains(&m.to_ascii_lowercase()))
}

/// What one HTTP(S) port showed.
#[derive(Default)]
struct PortInfo {
    port: u16,
    sightings: Vec<Sighting>,
    security_txt: Option<(String, SecurityTxt)>,
    open_update: Vec<Finding>,
}

async fn survey_port(address: SocketAddr, tls: bool, settings: Arc<WebSettings>) -> PortInfo {
    let bounds = bounds(&settings);
    let scheme = if tls { "https" } else { "http" };
    let port = address.port();
    let mut info = PortInfo {
        port,
        ..PortInfo::default()
    };
    let Ok(index) = http::get(address, tls, "/", None, &bounds).await else {
        return info;
    };
    if let Some(title) = http::page_title(&index.body) {
        info.sightings.push(Sighting::Model {
            source: format!("{port}/tcp {scheme} page title"),
            text: title,
        });
    }
    info.sightings
        .extend(header_components(&index, port, &settings));
    for path in &settings.security_txt_paths {
        if let Ok(r) = http::get(address, tls, path, None, &bounds).await {
            if (200..300).contains(&r.status) {
                if let Some(parsed) = parse_security_txt(&r.body) {
                    info.security_txt = Some((format!("{scheme}://{address}{path}"), parsed));
                    break;
                }
            }
        }
    }
    // A server that answers every path alike says nothing about its update pages.
    let catch_all = http::catch_all(address, tls, &bounds).await;
    for path in &settings.update_paths {
        let Ok(r) = http::get(address, tls, path, None, &bounds).await else {
            continue;
        };
        // An update page behind authentication (401/403) is what S1.1-07 expects; it is not
        // reported as a pass, since a server that protects every path answers so for pages it
        // does not have. An open one is an S1.1-01 failure: S1.1-07 itself is judged on the
        // stated update procedure.
        if (200..300).contains(&r.status)
            && !http::same_page(catch_all.as_ref(), &r)
            && looks_like_update_form(&r.body, &settings.update_markers)
        {
            let title = http::page_title(&r.body).unwrap_or_else(|| "untitled page".into());
            info.open_update.push(
                    Finding {
                        check: UPDATE_PAGE.to_string(),
                        criteria: vec!["S1.1-01".into()],
                        verdict: Verdict::Fail,
                        summary: format!(
                            "the firmware update page {scheme}://{address}{path} ({title}) answers without authentication"
                        ),
                        evidence: Vec::new(),
                    }
                    .with_evidence(Evidence::exchange(
                        format!("GET {path} without credentials"),
                        format!("GET {path} HTTP/1.1").as_bytes(),
                        &r.raw[..r.raw.len().min(400)],
                    )),
                );
        }
    }
    info
}

/// Component sightings from the profile's software headers (`Server`, `X-Powered-By`).
fn header_components(response: &Response, port: u16, settings: &WebSettings) -> Vec<Sighting> {
    let mut out = Vec::new();
    for header in &settings.component_headers {
        for value in response.header_values(header) {
            for (name, version) in jcstar_wire::product::product_tokens(&value) {
                out.push(Sighting::Component {
                    source: format!("{port}/tcp HTTP {header} header"),
                    name,
                    version,
                });
            }
        }
    }
    out
}

/// Runs the web-information check on every HTTP(S) port of one device. Returns the findings and
/// the sightings for the identity check.
pub async fn check(
    target: &ActiveTarget,
    context: &ActiveContext,
) -> (Vec<Finding>, Vec<Sighting>) {
    let settings = Arc::new(context.profile.web.clone());
    let mut tasks = JoinSet::new();
    for port in &target.scan.ports {
        let Some(service) = &port.service else {
            continue;
        };
        if port.state != PortState::Open
            || !matches!(service.kind, ServiceKind::Http | ServiceKind::Tls)
        {
            continue;
        }
        let address = SocketAddr::new(target.device.address, port.port);
        tasks.spawn(survey_port(
            address,
            service.kind == ServiceKind::Tls,
            settings.clone(),
        ));
    }
    let mut infos = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        if let Ok(info) = joined {
            infos.push(info);
        }
    }
    judge(&target.device, infos, Utc::now())
}

fn judge(
    device: &Device,
    mut infos: Vec<PortInfo>,
    now: DateTime<Utc>,
) -> (Vec<Finding>, Vec<Sighting>) {
    infos.sort_by_key(|info| info.port);
    let declared_vdp = device
        .evidence
        .get("vdp_url")
        .map(|v| v.to_string())
        .filter(|v| !v.is_empty());
    let mut findings = Vec::new();
    let mut sightings = Vec::new();
    for info in infos {
        sightings.extend(info.sightings);
        if let Some((url, parsed)) = &info.security_txt {
            findings.push(judge_security_txt(
                parsed,
                url,
                declared_vdp.as_deref(),
                now,
            ));
        }
        findings.extend(info.open_update);
    }
    if !findings.iter().any(|f| f.check == SECURITY_TXT) {
        // Noted, not held against the device: S1.1-05 rests on the declared VDP URL.
        findings.push(Finding::new(
            SECURITY_TXT,
            OWNED_CRITERION,
            Verdict::NotApplicable,
            "no security.txt served by the device's web servers; S1.1-05 rests on the declared vdp_url",
        ));
    }
    (findings, sightings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-21T00:00:00Z")
            .expect("date")
            .with_timezone(&Utc)
    }

    const VALID: &[u8] = b"# our policy\r\nContact: mailto:psirt@vendor.example\r\n\
        Contact: https://vendor.example/psirt\r\nExpires: 2027-12-31T23:59:59Z\r\n\
        Policy: https://vendor.example/security/vdp/\r\nPreferred-Languages: en, ja\r\n";

    #[test]
    fn security_txt_fields_parse_and_garbage_is_not_one() {
        let parsed = parse_security_txt(VALID).expect("parses");
        assert_eq!(parsed.contact.len(), 2);
        assert_eq!(parsed.expires.as_deref(), Some("2027-12-31T23:59:59Z"));
        assert_eq!(parsed.policy, ["https://vendor.example/security/vdp/"]);
        assert_eq!(
            parsed.other,
            [("preferred-languages".to_string(), "en, ja".to_string())]
        );
        assert!(!parsed.signed);
        assert_eq!(
            parse_security_txt(b"<html><title>Admin</title></html>"),
            None
        );
        assert_eq!(parse_security_txt(b"\xff\xfe\x00\x01:::\n"), None);
        assert_eq!(parse_security_txt(b""), None);
        let many = "Contact: mailto:a@b\n".repeat(5000);
        assert_eq!(
            parse_security_txt(many.as_bytes())
                .expect("parses")
                .contact
                .len(),
            MAX_VALUES
        );
        let signed = b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nContact: mailto:a@b\n\
            -----BEGIN PGP SIGNATURE-----\nContact: mailto:evil@x\n-----END PGP SIGNATURE-----\n";
        let parsed = parse_security_txt(signed).expect("parses");
        assert!(parsed.signed);
        assert_eq!(parsed.contact, ["mailto:a@b"]);
    }

    #[test]
    fn valid_security_txt_passes_and_says_whether_it_names_the_vdp() {
        let parsed = parse_security_txt(VALID).expect("parses");
        let url = "http://127.0.0.1:80/.well-known/security.txt";
        let f = judge_security_txt(
            &parsed,
            url,
            Some("https://vendor.example/security/vdp"),
            now(),
        );
        assert_eq!(f.verdict, Verdict::Pass);
        assert!(
            f.summary.contains("names the declared VDP URL"),
            "{}",
            f.summary
        );
        assert!(f.evidence.iter().any(|e| e.label == "Expires"));
        let f = judge_security_txt(&parsed, url, Some("https://other.example/vdp"), now());
        assert_eq!(f.verdict, Verdict::Pass);
        assert!(f.summary.contains("does not name"), "{}", f.summary);
        let f = judge_security_txt(&parsed, url, None, now());
        assert!(
            f.summary.contains("no VDP URL is declared"),
            "{}",
            f.summary
        );
    }

    #[test]
    fn expired_undated_or_contactless_security_txt_warns() {
        let expired = parse_security_txt(b"Contact: mailto:a@b\nExpires: 2025-01-01T00:00:00Z\n")
            .expect("parses");
        let f = judge_security_txt(&expired, "u", None, now());
        assert_eq!(f.verdict, Verdict::Warn);
        assert!(f.summary.contains("expired on 2025-01-01"), "{}", f.summary);
        let undated = parse_security_txt(b"Contact: mailto:a@b\n").expect("parses");
        assert_eq!(
            judge_security_txt(&undated, "u", None, now()).verdict,
            Verdict::Warn
        );
        let bad_date = parse_security_txt(b"Contact: mailto:a@b\nExpires: soon\n").expect("parses");
        let f = judge_security_txt(&bad_date, "u", None, now());
        assert_eq!(f.verdict, Verdict::Warn);
        assert!(f.summary.contains("not an RFC 3339 date"));
        let no_contact = parse_security_txt(b"Expires: 2030-01-01T00:00:00Z\n").expect("parses");
        let f = judge_security_txt(&no_contact, "u", None, now());
        assert_eq!(f.verdict, Verdict::Warn);
        assert!(f.summary.contains("no Contact"));
    }

    #[test]
    fn update_forms_need_a_form_and_a_marker() {
        let markers = WebSettings::default().update_markers;
        assert!(looks_like_update_form(
            b"<h1>Firmware</h1><form method=post><input type=\"file\" name=fw></form>",
            &markers
        ));
        assert!(!looks_like_update_form(
            b"<h1>Firmware upgrade</h1> see the manual",
            &markers
        ));
        assert!(!looks_like_update_form(
            b"<form action=/login>User</form>",
            &markers
        ));
        // A login page that mentions updates, and a form without a file input, are not.
        assert!(!looks_like_update_form(
            b"<h1>Firmware update</h1><form><input type=file><input type=password></form>",
            &markers
        ));
        assert!(!looks_like_update_form(
            b"<form method=post>Check for update <input type=submit></form>",
            &markers
        ));
        assert!(!looks_like_update_form(b"\xff\xfe", &markers));
    }
}
