//! S1.1-10 (the model designation is recognisable) and S1.1-06 (software components): judges the
//! identity and software sightings every other check gathered, plus the TCP scan's banners.
//!
//! S1.1-10: a model sighting matching the declared `model` → `pass` naming where it was seen; model
//! designations seen but none matching → `fail`; nothing visible → `declared` when the inventory
//! has a `label_photo`, else `inconclusive` saying what to supply. This check owns S1.1-10 while it
//! is enabled (the declared-evidence check then leaves the criterion to it), so a network pass is
//! not buried under a missing-photo `inconclusive`.
//!
//! S1.1-06 is not a network-pass criterion: observed components are evidence next to the declared
//! `software_components` list. An observed component the list lacks, or shows at another version,
//! → `warn`; all declared → `declared` with the observations; no list → `inconclusive` (the
//! declared-evidence check already names the missing field).

use std::collections::BTreeSet;

use jcstar_model::device::{Device, EvidenceValue};
use jcstar_model::observed::Sighting;
use jcstar_model::{bounded, Evidence, Finding, Verdict};
use jcstar_probe::scan::{HostScan, PortState, ServiceKind};
use jcstar_wire::product::product_tokens;

/// Check name of the S1.1-10 findings.
pub const MODEL: &str = "identity.model";
/// Check name of the S1.1-06 findings.
pub const COMPONENTS: &str = "identity.components";
/// The criterion this check takes over from the declared-evidence check while enabled.
pub const OWNED_CRITERION: &str = "S1.1-10";

/// Components that show in banners and headers, as (name as reported, what to look for).
const KNOWN_COMPONENTS: &[&str] = &[
    "OpenSSH",
    "dropbear",
    "BusyBox",
    "vsFTPd",
    "ProFTPD",
    "Pure-FTPd",
    "lighttpd",
    "nginx",
    "Apache",
    "Boa",
    "GoAhead",
    "mini_httpd",
    "thttpd",
    "uhttpd",
    "mosquitto",
    "OpenSSL",
    "Linux",
];

/// Component sightings from the TCP scan's banners (SSH identification strings, telnet and FTP
/// greetings, HTTP `Server` lines).
pub fn banner_components(scan: &HostScan) -> Vec<Sighting> {
    let mut sightings = Vec::new();
    for port in &scan.ports {
        if port.state != PortState::Open {
            continue;
        }
        let Some(service) = &port.service else {
            continue;
        };
        let text = unescape_banner(&service.banner);
        let kind = format!("{:?}", service.kind).to_ascii_lowercase();
        let source = format!("{}/tcp {kind} banner", port.port);
        if service.kind == ServiceKind::Ssh {
            if let Some((name, version)) = ssh_software(&text) {
                sightings.push(Sighting::Component {
                    source: source.clone(),
                    name,
                    version,
                });
                continue;
            }
        }
        if service.kind == ServiceKind::Http {
            if let Some(server) = header_line(&text, "server") {
                for (name, version) in product_tokens(&server) {
                    sightings.push(Sighting::Component {
                        source: format!("{}/tcp HTTP Server header", port.port),
                        name,
                        version,
                    });
                }
                continue;
            }
        }
        for (name, version) in known_components(&text) {
            sightings.push(Sighting::Component {
                source: source.clone(),
                name,
                version,
            });
        }
    }
    sightings
}

/// Banners are stored escaped (`\x0d\x0a`, `\r\n`): turn the escapes into line breaks and spaces.
fn unescape_banner(banner: &str) -> String {
    let mut out = String::with_capacity(banner.len());
    let mut chars = banner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.push(if hex.eq_ignore_ascii_case("0a") {
                    '\n'
                } else {
                    ' '
                });
            }
            Some('n') => out.push('\n'),
            Some(_) | None => out.push(' '),
        }
    }
    out
}

/// The software field of an SSH identification string: `SSH-2.0-OpenSSH_9.2p1 Debian-2` →
/// (`OpenSSH`, `9.2p1`); `SSH-2.0-dropbear_2022.83` → (`dropbear`, `2022.83`).
pub fn ssh_software(banner: &str) -> Option<(String, Option<String>)> {
    let line = banner.lines().find(|l| l.starts_with("SSH-"))?;
    let software = line.splitn(3, '-').nth(2)?.split_whitespace().next()?;
    if software.is_empty() {
        return None;
    }
    let (name, version) = match software.split_once('_') {
        Some((name, version)) if !version.is_empty() => (name, Some(bounded(version))),
        _ => (software, None),
    };
    Some((bounded(name), version))
}

/// The value of a header in a response head, case-insensitive.
fn header_line(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

/// Known component names in free text, each with the version right after it (`BusyBox v1.19.4`,
/// `vsFTPd 3.0.3`, `ProFTPD 1.3.5e`).
pub fn known_components(text: &str) -> Vec<(String, Option<String>)> {
    let lower = text.to_ascii_lowercase();
    let mut out = Vec::new();
    for name in KNOWN_COMPONENTS {
        let Some(at) = find_word(&lower, &name.to_ascii_lowercase()) else {
            continue;
        };
        let rest = &text[at + name.len()..];
        let rest = rest.trim_start_matches([' ', '/', '_', '-', ':']);
        let rest = rest
            .strip_prefix(['v', 'V'])
            .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
            .unwrap_or(rest);
        let version: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '~'))
            .take(40)
            .collect();
        let version = version.trim_end_matches(['.', '-']).to_string();
        let version =
            (version.starts_with(|c: char| c.is_ascii_digit())).then_some(version.to_string());
        out.push((name.to_string(), version));
    }
    out
}

/// Byte offset of `word` in `text` where it is not part of a longer word.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = text[from..].find(word) {
        let at = from + i;
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        let boundary = |c: Option<char>| c.is_none_or(|c| !c.is_ascii_alphabetic());
        if boundary(before) && boundary(after) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

/// Alphanumeric tokens of a designation, upper-cased: `JCS-CAM 100 Web` → `JCS`, `CAM`, `100`,
/// `WEB`.
fn tokens(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(|t| t.to_uppercase())
        .collect()
}

/// Whether `text` shows the model `declared`, compared without case, spaces, hyphens or other
/// punctuation but on word boundaries: `JCS-CAM-100` matches `JCS CAM 100`, `jcs_cam_100` and
/// `JCS-CAM-100 Web Admin`, not `JCS-CAM-1000`.
pub fn shows_model(text: &str, declared: &str) -> bool {
    let wanted: String = tokens(declared).concat();
    if wanted.is_empty() {
        return false;
    }
    let seen = tokens(text);
    (0..seen.len()).any(|start| {
        let mut joined = String::new();
        for token in &seen[start..] {
            joined.push_str(token);
            if joined.len() >= wanted.len() {
                return joined == wanted;
            }
        }
        false
    })
}

/// The family of a declared model: its letters before the first digit, compared without case
/// or punctuation (`JCS-CAM-260` → `JCSCAM`); `None` when that leaves under two letters.
pub fn model_family(declared: &str) -> Option<String> {
    let family: String = tokens(declared)
        .concat()
        .chars()
        .take_while(|c| !c.is_ascii_digit())
        .collect();
    (family.len() >= 2).then_some(family)
}

/// Whether `text` designates another model of the declared model's family (`JCS-CAM-250` when
/// `JCS-CAM-260` is declared). An OEM's or a web server's name (`GoAhead 2.5`, `RT-AC68U` for a
/// `JCS-` camera) is not evidence of another model, so it is not compared.
pub fn shows_other_model_of_family(text: &str, declared: &str) -> bool {
    let Some(family) = model_family(declared) else {
        return false;
    };
    if shows_model(text, declared) {
        return false;
    }
    let seen = tokens(text);
    (0..seen.len()).any(|start| {
        let joined: String = seen[start..].concat();
        joined.starts_with(&family)
            && joined[family.len()..]
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_digit())
    })
}

/// Judges the sightings of one device: one S1.1-10 finding, and an S1.1-06 finding when
/// components were seen.
pub fn check(device: &Device, sightings: &[Sighting]) -> Vec<Finding> {
    let mut findings = vec![model_finding(device, sightings)];
    findings.extend(components_finding(device, sightings));
    findings
}

fn model_finding(device: &Device, sightings: &[Sighting]) -> Finding {
    let models: Vec<(&str, &str)> = sightings
        .iter()
        .filter_map(|s| match s {
            Sighting::Model { source, text } => Some((source.as_str(), text.as_str())),
            Sighting::Component { .. } => None,
        })
        .collect();
    let seen_evidence = |mut finding: Finding| {
        for (source, text) in &models {
            finding = finding.with_evidence(Evidence::observed(*source, *text));
        }
        finding
    };
    let photo = device.evidence.get("label_photo");
    let not_visible = |why: &str| {
        let finding = match photo {
            Some(photo) => Finding::new(
                MODEL,
                "S1.1-10",
                Verdict::Declared,
                format!("{why}; declared by the label photo {photo}"),
            )
            .with_evidence(Evidence::observed("label_photo", photo.to_string())),
            None => Finding::new(
                MODEL,
                "S1.1-10",
                Verdict::Inconclusive,
                format!(
                    "{why}; supply a photo of the model label as label_photo in the inventory's [device.evidence]"
                ),
            ),
        };
        seen_evidence(finding)
    };
    let Some(declared) = device.model.as_deref().filter(|m| !m.trim().is_empty()) else {
        return not_visible(
            "no model declared to compare with (add model = \"…\" to the device in the inventory)",
        );
    };
    let matching: Vec<&str> = models
        .iter()
        .filter(|(_, text)| shows_model(text, declared))
        .map(|(source, _)| *source)
        .collect();
    if !matching.is_empty() {
        return seen_evidence(Finding::new(
            MODEL,
            "S1.1-10",
            Verdict::Pass,
            format!(
                "the declared model {declared} is shown by {}",
                matching.join(", ")
            ),
        ));
    }
    let different: Vec<String> = models
        .iter()
        .filter(|(_, text)| shows_other_model_of_family(text, declared))
        .map(|(source, text)| format!("{source}: {text:?}"))
        .collect();
    if !different.is_empty() {
        return seen_evidence(Finding::new(
            MODEL,
            "S1.1-10",
            Verdict::Fail,
            format!(
                "the device shows another model than the declared {declared}: {}",
                different.join("; ")
            ),
        ));
    }
    not_visible(&format!(
        "the model {declared} is not visible on the network"
    ))
}

/// An observed component: (name, version, where).
type Observed<'a> = (&'a str, Option<&'a str>, &'a str);

fn components_finding(device: &Device, sightings: &[Sighting]) -> Option<Finding> {
    let mut observed: Vec<Observed<'_>> = Vec::new();
    let mut seen = BTreeSet::new();
    for sighting in sightings {
        if let Sighting::Component {
            source,
            name,
            version,
        } = sighting
        {
            let key = (normalise(name), version.clone());
            if seen.insert(key) {
                observed.push((name, version.as_deref(), source));
            }
        }
    }
    if observed.is_empty() {
        return None;
    }
    let listed: Vec<String> = observed
        .iter()
        .map(|(name, version, _)| with_version(name, version.as_deref()))
        .collect();
    let evidence: Vec<Evidence> = observed
        .iter()
        .zip(&listed)
        .map(|((_, _, source), shown)| Evidence::observed(*source, shown.as_str()))
        .collect();
    let declared: Vec<String> = match device.evidence.get("software_components") {
        Some(EvidenceValue::List(items)) => items.clone(),
        Some(EvidenceValue::Text(text)) => text.split(',').map(|s| s.trim().to_string()).collect(),
        None => {
            let mut finding = Finding::new(
                COMPONENTS,
                "S1.1-06",
                Verdict::Inconclusive,
                format!(
                    "components seen on the network: {}; no component list declared to compare with (supply software_components)",
                    listed.join(", ")
                ),
            );
            finding.evidence = evidence;
            return Some(finding);
        }
    };
    let mut problems = Vec::new();
    for (name, version, source) in &observed {
        let entries: Vec<&String> = declared
            .iter()
            .filter(|item| declared_name(item) == normalise(name))
            .collect();
        if entries.is_empty() {
            problems.push(format!(
                "{} ({source}) is not in the declared component list",
                with_version(name, *version)
            ));
            continue;
        }
        if let Some(version) = version {
            let versions: Vec<String> =
                entries.iter().filter_map(|e| declared_version(e)).collect();
            if !versions.is_empty() && !versions.iter().any(|v| same_version(v, version)) {
                problems.push(format!(
                    "{name} {version} ({source}) differs from the declared version {}",
                    versions.join(", ")
                ));
            }
        }
    }
    let mut finding = if problems.is_empty() {
        Finding::new(
            COMPONENTS,
            "S1.1-06",
            Verdict::Declared,
            format!(
                "every component seen on the network is declared: {}",
                listed.join(", ")
            ),
        )
    } else {
        Finding::new(COMPONENTS, "S1.1-06", Verdict::Warn, problems.join("; "))
    };
    finding.evidence = evidence;
    Some(finding)
}

fn with_version(name: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    }
}

/// Lower-case letters and digits only: `Pure-FTPd` → `pureftpd`.
fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The name part of a declared entry: `OpenSSH 9.2p1` → `openssh`, `lighttpd/1.4.69` →
/// `lighttpd`.
fn declared_name(entry: &str) -> String {
    let name = entry
        .split([' ', '/', '_'])
        .next()
        .unwrap_or_default()
        .trim();
    normalise(name)
}

/// The version part of a declared entry, when it has one.
fn declared_version(entry: &str) -> Option<String> {
    let (_, rest) = entry.trim().split_once([' ', '/', '_'])?;
    let rest = rest.trim().trim_start_matches(['v', 'V']);
    rest.starts_with(|c: char| c.is_ascii_digit())
        .then(|| rest.split_whitespace().next().unwrap_or(rest).to_string())
}

/// Whether an observed version agrees with a declared one: equal, or one a dotted prefix of the
/// other (`3.0` declared, `3.0.11` seen).
fn same_version(declared: &str, seen: &str) -> bool {
    let (d, s) = (declared.to_ascii_lowercase(), seen.to_ascii_lowercase());
    d == s
        || s.strip_prefix(&d).is_some_and(|r| r.starts_with('.'))
        || d.strip_prefix(&s).is_some_and(|r| r.starts_with('.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};

    #[test]
    fn banners_name_their_software() {
        assert_eq!(
            ssh_software("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"),
            Some(("OpenSSH".into(), Some("9.2p1".into())))
        );
        assert_eq!(
            ssh_software("SSH-2.0-dropbear_2022.83"),
            Some(("dropbear".into(), Some("2022.83".into())))
        );
        assert_eq!(
            ssh_software("SSH-2.0-RomSShell"),
            Some(("RomSShell".into(), None))
        );
        assert_eq!(ssh_software("SSH-2.0-"), None);
        assert_eq!(ssh_software("garbage"), None);
        assert_eq!(
            known_components("\nBusyBox v1.19.4 (2016-08-10) built-in shell"),
            [("BusyBox".to_string(), Some("1.19.4".to_string()))]
        );
        assert_eq!(
            known_components("220 (vsFTPd 3.0.3)"),
            [("vsFTPd".to_string(), Some("3.0.3".to_string()))]
        );
        assert!(known_components("openapache").is_empty());
        assert_eq!(
            unescape_banner("SSH-2.0-OpenSSH_9.2p1\\x0d\\x0a"),
            "SSH-2.0-OpenSSH_9.2p1 \n"
        );
        assert_eq!(unescape_banner("trailing\\"), "trailing ");
    }

    fn device(model: Option<&str>, evidence: &[(&str, EvidenceValue)]) -> Device {
        let mut device = Device::bare(IpAddr::V4(Ipv4Addr::LOCALHOST), None);
        device.model = model.map(str::to_string);
        for (k, v) in evidence {
            device.evidence.insert((*k).to_string(), v.clone());
        }
        device
    }

    fn model(source: &str, text: &str) -> Sighting {
        Sighting::Model {
            source: source.into(),
            text: text.into(),
        }
    }

    fn component(name: &str, version: Option<&str>) -> Sighting {
        Sighting::Component {
            source: "22/tcp ssh banner".into(),
            name: name.into(),
            version: version.map(str::to_string),
        }
    }

    fn only(findings: &[Finding], criterion: &str) -> Finding {
        let mut matching = findings.iter().filter(|f| f.criteria[0] == criterion);
        let found = matching.next().expect("a finding").clone();
        assert!(matching.next().is_none());
        found
    }

    #[test]
    fn model_comparison_ignores_case_spaces_and_hyphens_but_not_word_boundaries() {
        for seen in [
            "JCS-CAM-100",
            "jcs cam 100",
            "JCS-CAM-100 Web Admin",
            "Camera jcs_cam_100",
            "JCSCAM100",
        ] {
            assert!(shows_model(seen, "JCS-CAM-100"), "{seen}");
        }
        for seen in [
            "JCS-CAM-1000",
            "XJCS-CAM-100",
            "JCS-CAM-10",
            "Web Admin",
            "",
        ] {
            assert!(!shows_model(seen, "JCS-CAM-100"), "{seen}");
        }
        assert!(!shows_model("anything", " - "));
    }

    #[test]
    fn only_models_of_the_declared_family_count_as_another_model() {
        assert_eq!(model_family("JCS-CAM-260").as_deref(), Some("JCSCAM"));
        assert_eq!(model_family("260"), None);
        assert!(shows_other_model_of_family(
            "JCS-CAM-250 Web Admin",
            "JCS-CAM-260"
        ));
        assert!(shows_other_model_of_family("jcs cam 2600", "JCS-CAM-260"));
        assert!(!shows_other_model_of_family(
            "JCS-CAM-260 Web Admin",
            "JCS-CAM-260"
        ));
        // An OEM's product, a web server or a plain page name is not another model.
        assert!(!shows_other_model_of_family("RT-AC68U", "JCS-CAM-260"));
        assert!(!shows_other_model_of_family(
            "GoAhead-Webs 2.5",
            "JCS-CAM-260"
        ));
        assert!(!shows_other_model_of_family("Login v1.2.3", "JCS-CAM-260"));
        assert!(!shows_other_model_of_family("", "JCS-CAM-260"));
    }

    #[test]
    fn matching_model_passes_naming_where() {
        let d = device(Some("JCS-CAM-100"), &[]);
        let f = only(
            &check(&d, &[model("8080/tcp HTTP title", "JCS CAM 100 Admin")]),
            "S1.1-10",
        );
        assert_eq!(f.verdict, Verdict::Pass);
        assert!(f.summary.contains("8080/tcp HTTP title"), "{}", f.summary);
    }

    #[test]
    fn another_model_fails_even_with_a_label_photo() {
        let photo = ("label_photo", EvidenceValue::Text("label.jpg".into()));
        let d = device(Some("JCS-CAM-100"), &[photo]);
        let f = only(
            &check(&d, &[model("8080/tcp HTTP title", "JCS-CAM-250 Web Admin")]),
            "S1.1-10",
        );
        assert_eq!(f.verdict, Verdict::Fail);
        assert!(f.summary.contains("JCS-CAM-250"), "{}", f.summary);
    }

    #[test]
    fn unseen_model_is_declared_with_a_photo_else_inconclusive() {
        let photo = ("label_photo", EvidenceValue::Text("label.jpg".into()));
        let with_photo = device(Some("JCS-HUB-200"), &[photo]);
        // A page name that designates nothing is not a different model.
        let plain = [model("443/tcp HTTP title", "Web Admin")];
        let f = only(&check(&with_photo, &plain), "S1.1-10");
        assert_eq!(f.verdict, Verdict::Declared);
        assert!(f.summary.contains("label.jpg"));
        let without = device(Some("JCS-HUB-200"), &[]);
        let f = only(&check(&without, &[]), "S1.1-10");
        assert_eq!(f.verdict, Verdict::Inconclusive);
        assert!(f.summary.contains("label_photo"), "{}", f.summary);
        let undeclared = device(None, &[]);
        let f = only(&check(&undeclared, &plain), "S1.1-10");
        assert_eq!(f.verdict, Verdict::Inconclusive);
        assert!(f.summary.contains("model ="), "{}", f.summary);
    }

    #[test]
    fn components_are_compared_with_the_declared_list() {
        let list = |items: &[&str]| {
            (
                "software_components",
                EvidenceValue::List(items.iter().map(|s| s.to_string()).collect()),
            )
        };
        let seen = [
            component("OpenSSH", Some("9.2p1")),
            component("BusyBox", Some("1.36.1")),
            component("OpenSSH", Some("9.2p1")),
        ];
        let all = device(
            None,
            &[list(&["OpenSSH 9.2p1", "busybox 1.36.1", "linux 6.1"])],
        );
        let f = only(&check(&all, &seen), "S1.1-06");
        assert_eq!(f.verdict, Verdict::Declared);
        assert_eq!(f.evidence.len(), 2, "duplicates collapse: {:?}", f.evidence);
        assert!(f.summary.contains("OpenSSH 9.2p1"));

        let missing = device(None, &[list(&["busybox 1.36.1"])]);
        let f = only(&check(&missing, &seen), "S1.1-06");
        assert_eq!(f.verdict, Verdict::Warn);
        assert!(f.summary.contains("OpenSSH 9.2p1"), "{}", f.summary);

        let old = device(None, &[list(&["OpenSSH 9.6p1", "BusyBox 1.36"])]);
        let f = only(&check(&old, &seen), "S1.1-06");
        assert_eq!(f.verdict, Verdict::Warn);
        assert!(f.summary.contains("differs"), "{}", f.summary);
        assert!(
            !f.summary.contains("BusyBox"),
            "1.36 covers 1.36.1: {}",
            f.summary
        );

        let none = device(None, &[]);
        let f = only(&check(&none, &seen), "S1.1-06");
        assert_eq!(f.verdict, Verdict::Inconclusive);
        assert!(check(&none, &[]).iter().all(|f| f.criteria[0] != "S1.1-06"));
        assert!(check(&all, &seen)
            .iter()
            .all(|f| f.verdict != Verdict::Pass));
    }
}
