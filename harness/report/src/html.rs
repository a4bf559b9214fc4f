//! `report.html`: one self-contained page (inline CSS, no network fetches) that a buyer reads
//! and prints to PDF. Rendered with minijinja, which HTML-escapes every value, so device bytes
//! (banners, page titles, names) can never become markup. The page is streamed: its frame first,
//! then one device section at a time, so a fleet's report never sits whole in memory.

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use crate::doc::{DeviceDoc, ResultsDoc};
use crate::texts::{readiness_key, Texts};
use jcstar_model::profile::Profile;
use jcstar_model::{CriterionResult, Verdict};

const TEMPLATE: &str = include_str!("../templates/report.html");
const DEVICE_TEMPLATE: &str = include_str!("../templates/device.html");
/// Where the page template takes the device sections (our template text: escaped device bytes
/// can never spell it).
const DEVICE_SECTIONS: &str = "<!--jcstar:device-sections-->";

#[derive(Serialize)]
struct Page<'a> {
    lang: &'static str,
    t: &'a std::collections::BTreeMap<&'static str, String>,
    profile_title: String,
    profile_name: &'a str,
    profile_version: &'a str,
    tool: String,
    started: &'a str,
    finished: &'a str,
    duration: String,
    interrupted: bool,
    stopped: Option<&'a str>,
    intrusive: String,
    targets: Vec<String>,
    tcp_ports: &'a str,
    tcp_port_count: usize,
    legend: Vec<Cell>,
    devices: Vec<DeviceRow>,
    summary_line: String,
}

/// A device's line in the page's index.
#[derive(Serialize)]
struct DeviceRow {
    anchor: String,
    name: String,
    address: String,
    readiness: String,
    unfinished: bool,
    counts: String,
}

#[derive(Serialize)]
struct Cell {
    id: String,
    short: String,
    verdict: &'static str,
    label: String,
    title: String,
    /// `waived`, `waiver_expired` or empty.
    waiver: &'static str,
}

#[derive(Serialize)]
struct DeviceView {
    anchor: String,
    name: String,
    address: String,
    unfinished: Option<String>,
    model: Option<String>,
    hostname: Option<String>,
    declared_services: String,
    open_ports: String,
    open_udp_ports: String,
    declared_evidence: Vec<(String, String)>,
    readiness_class: &'static str,
    readiness: String,
    counts: String,
    grid: Vec<Cell>,
    criteria: Vec<CriterionView>,
}

#[derive(Serialize)]
struct CriterionView {
    anchor: String,
    id: String,
    title: String,
    text: String,
    evaluation: String,
    verdict: &'static str,
    verdict_label: String,
    waiver_class: &'static str,
    waiver: String,
    meaning: String,
    reason: String,
    todo: String,
    advice: Option<String>,
    findings: Vec<FindingView>,
}

#[derive(Serialize)]
struct FindingView {
    verdict: &'static str,
    verdict_label: String,
    check: String,
    summary: String,
    evidence: Vec<EvidenceView>,
}

#[derive(Serialize)]
struct EvidenceView {
    label: String,
    sent: Option<String>,
    received: Option<String>,
}

/// Every `[ui]` key the template uses.
const UI_KEYS: &[&str] = &[
    "report_title",
    "generated_by",
    "scope",
    "targets",
    "tcp_ports",
    "port_count",
    "intrusive",
    "profile",
    "tool",
    "started",
    "finished",
    "duration",
    "interrupted",
    "unfinished",
    "devices",
    "device",
    "address",
    "model",
    "hostname",
    "declared_services",
    "open_ports",
    "open_udp_ports",
    "declared_evidence",
    "none",
    "readiness",
    "counts",
    "criteria",
    "criterion",
    "verdict",
    "reason",
    "meaning",
    "todo",
    "evaluation",
    "evidence",
    "findings",
    "sent",
    "received",
    "no_evidence",
    "legend",
    "grid",
    "print_note",
    "reason_language_note",
    "waiver",
];

/// Renders the run as one HTML page.
pub fn render(
    doc: &ResultsDoc,
    profile: &Profile,
    texts: &Texts,
) -> Result<String, minijinja::Error> {
    let mut page = Vec::new();
    render_to(doc, profile, texts, &mut page)?;
    String::from_utf8(page)
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, e.to_string()))
}

/// Streams the run's HTML page to `out`, one device section at a time.
pub fn render_to(
    doc: &ResultsDoc,
    profile: &Profile,
    texts: &Texts,
    out: &mut dyn std::io::Write,
) -> Result<(), minijinja::Error> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("report.html", TEMPLATE)?;
    env.add_template("device.html", DEVICE_TEMPLATE)?;
    let ui: std::collections::BTreeMap<&'static str, String> = UI_KEYS
        .iter()
        .map(|k| (*k, texts.ui(k).to_string()))
        .collect();
    let intrusive = if doc.intrusive.enabled {
        texts.ui("intrusive_on").to_string()
    } else {
        format!(
            "{} ({})",
            texts.ui("intrusive_off"),
            doc.intrusive.disabled_by.as_deref().unwrap_or("-")
        )
    };
    let page = Page {
        lang: texts.lang().code(),
        t: &ui,
        profile_title: texts
            .profile_title()
            .unwrap_or(&doc.profile.title)
            .to_string(),
        profile_name: &doc.profile.name,
        profile_version: &doc.profile.version,
        tool: format!("{} {}", doc.tool.name, doc.tool.version),
        started: &doc.started,
        finished: &doc.finished,
        duration: format!(
            "{:.1} {}",
            doc.duration_ms as f64 / 1000.0,
            texts.ui("seconds")
        ),
        interrupted: doc.interrupted,
        stopped: doc.stopped.as_deref(),
        intrusive,
        targets: doc
            .devices
            .iter()
            .map(|d| format!("{} ({})", d.device.name, d.device.address))
            .collect(),
        tcp_ports: &doc.scan.tcp_ports,
        tcp_port_count: doc.scan.tcp_port_count,
        legend: Verdict::PRECEDENCE
            .iter()
            .map(|v| Cell {
                id: String::new(),
                short: texts.verdict(*v).to_string(),
                verdict: v.as_str(),
                label: texts.verdict(*v).to_string(),
                title: texts.verdict_meaning(*v).to_string(),
                waiver: "",
            })
            .collect(),
        devices: doc
            .devices
            .iter()
            .enumerate()
            .map(|(i, d)| DeviceRow {
                anchor: anchor(i),
                name: d.device.name.clone(),
                address: d.device.address.clone(),
                readiness: texts.readiness(d.readiness.verdict).to_string(),
                unfinished: d.unfinished.is_some(),
                counts: crate::table::counts_line(&d.readiness, texts),
            })
            .collect(),
        summary_line: texts.fill(
            "ui",
            "summary_line",
            &[
                ("devices", doc.summary.devices.to_string()),
                ("failed", doc.summary.devices_failed.to_string()),
            ],
        ),
    };
    let frame = env.get_template("report.html")?.render(&page)?;
    let (head, tail) = frame.split_once(DEVICE_SECTIONS).ok_or_else(|| {
        minijinja::Error::new(
            minijinja::ErrorKind::TemplateNotFound,
            "report.html has no device-sections marker",
        )
    })?;
    let written = |e: std::io::Error| {
        minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
    };
    out.write_all(head.as_bytes()).map_err(written)?;
    let section = env.get_template("device.html")?;
    for (i, d) in doc.devices.iter().enumerate() {
        let device = device_view(i, d, profile, texts);
        out.write_all(b"\n").map_err(written)?;
        section.render_captured_to(minijinja::context! { t => &ui, device }, &mut *out)?;
        out.write_all(b"\n").map_err(written)?;
    }
    out.write_all(tail.as_bytes()).map_err(written)
}

/// The page anchor of the device at `index`.
fn anchor(index: usize) -> String {
    format!("d{index}")
}

fn device_view(index: usize, d: &DeviceDoc, profile: &Profile, texts: &Texts) -> DeviceView {
    let anchor = anchor(index);
    DeviceView {
        name: d.device.name.clone(),
        address: d.device.address.clone(),
        unfinished: d.unfinished.clone(),
        model: d.device.model.clone(),
        hostname: d.device.hostname.clone(),
        declared_services: match &d.device.declared_services {
            Some(services) if !services.is_empty() => services.join(", "),
            _ => texts.ui("none_declared").to_string(),
        },
        open_ports: d
            .ports
            .open
            .iter()
            .map(|p| match p.kind() {
                Some(kind) => format!("{} {kind}", p.port),
                None => p.port.to_string(),
            })
            .collect::<Vec<_>>()
            .join(", "),
        open_udp_ports: d
            .udp_ports
            .iter()
            .filter(|u| u.get("state").and_then(|s| s.as_str()) == Some("open"))
            .map(|u| {
                let port = u.get("port").map(|p| p.to_string()).unwrap_or_default();
                let service = u.get("service").and_then(|s| s.as_str()).unwrap_or("");
                format!("{port} {service}")
            })
            .collect::<Vec<_>>()
            .join(", "),
        declared_evidence: d
            .device
            .evidence
            .iter()
            .map(|(field, value)| (field.clone(), value.to_string()))
            .collect(),
        readiness_class: readiness_key(d.readiness.verdict),
        readiness: texts.readiness(d.readiness.verdict).to_string(),
        counts: crate::table::counts_line(&d.readiness, texts),
        grid: d
            .criteria
            .iter()
            .map(|c| Cell {
                id: format!("{anchor}-{}", c.id),
                short: c.id.rsplit('-').next().unwrap_or(&c.id).to_string(),
                verdict: c.verdict.as_str(),
                label: verdict_label(c, texts),
                title: format!(
                    "{} {}: {}",
                    c.id,
                    title_of(c, profile, texts),
                    verdict_label(c, texts)
                ),
                waiver: waiver_class(c),
            })
            .collect(),
        criteria: d
            .criteria
            .iter()
            .map(|c| criterion_view(&anchor, c, profile, texts))
            .collect(),
        anchor,
    }
}

/// A criterion's verdict in words, saying when a waiver covers the failure or has expired.
fn verdict_label(c: &CriterionResult, texts: &Texts) -> String {
    if c.is_waived() {
        texts.get("waiver", "verdict_waived").to_string()
    } else if c.waiver_expired() {
        texts.get("waiver", "verdict_expired").to_string()
    } else {
        texts.verdict(c.verdict).to_string()
    }
}

/// The CSS class marking a waived or expired-waiver failure, else empty.
fn waiver_class(c: &CriterionResult) -> &'static str {
    if c.is_waived() {
        "waived"
    } else if c.waiver_expired() {
        "waiver_expired"
    } else {
        ""
    }
}

/// A criterion's title in the report language: the profile texts, else the profile, else the
/// title the run recorded.
pub(crate) fn title_of(c: &CriterionResult, profile: &Profile, texts: &Texts) -> String {
    let fallback = profile
        .criteria
        .iter()
        .find(|p| p.id == c.id)
        .map_or(c.title.as_str(), |p| p.title.as_str());
    texts.criterion_title(&c.id, fallback).to_string()
}

fn criterion_view(
    anchor: &str,
    c: &CriterionResult,
    profile: &Profile,
    texts: &Texts,
) -> CriterionView {
    let spec = profile.criteria.iter().find(|p| p.id == c.id);
    let advice = match c.verdict {
        Verdict::Pass | Verdict::NotApplicable | Verdict::Declared => None,
        _ => texts.criterion_advice(&c.id).map(str::to_string),
    };
    CriterionView {
        anchor: format!("{anchor}-{}", c.id),
        id: c.id.clone(),
        title: title_of(c, profile, texts),
        text: spec
            .map(|s| texts.criterion_text(&c.id, &s.text).to_string())
            .unwrap_or_default(),
        evaluation: spec
            .map(|s| {
                let words = texts.evaluation(s.evaluation);
                if s.evaluation_confirmed {
                    words.to_string()
                } else {
                    format!("{words} (?)")
                }
            })
            .unwrap_or_default(),
        verdict: c.verdict.as_str(),
        verdict_label: verdict_label(c, texts),
        waiver_class: waiver_class(c),
        waiver: crate::gate::waiver_note(c, texts),
        meaning: texts.verdict_meaning(c.verdict).to_string(),
        reason: c.reason.clone(),
        todo: texts.verdict_todo(c.verdict).to_string(),
        advice,
        findings: c
            .findings
            .iter()
            .map(|f| FindingView {
                verdict: f.verdict.as_str(),
                verdict_label: texts.verdict(f.verdict).to_string(),
                check: f.check.clone(),
                summary: f.summary.clone(),
                evidence: f
                    .evidence
                    .iter()
                    .map(|e| EvidenceView {
                        label: e.label.clone(),
                        sent: e.sent.clone(),
                        received: e.received.clone(),
                    })
                    .collect(),
            })
            .collect(),
    }
}
