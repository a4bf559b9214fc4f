//! S1.1-02 findings: default credentials accepted, surfaces tested, skips, and the multi-unit
//! rule. Operator-supplied passwords never appear here; public defaults do (they are evidence).

use super::surface::{Guessed, Surface};
use super::{Outcome, ACCEPTED_LABEL, COST_LABEL, DEFAULT_CREDENTIALS};
use crate::{ActiveContext, ActiveTarget};
use jcstar_model::{Evidence, Finding, Verdict};
use jcstar_probe::probes::snmp::WriteAccess;

/// `<surface> username="<u>" password="<p>"`, the value of an accepted-credential evidence.
pub fn accepted_value(surface: &Surface, user: &str, password: &str) -> String {
    format!(
        "{} username={user:?} password={password:?}",
        surface.label()
    )
}

fn accepted_finding(surface: &Surface, user: &str, password: &str, proof: &Evidence) -> Finding {
    accepted_finding_with(surface, user, password, proof, None)
}

/// The finding for an accepted pair; `write` is an SNMP community's write test.
fn accepted_finding_with(
    surface: &Surface,
    user: &str,
    password: &str,
    proof: &Evidence,
    write: Option<(&WriteAccess, &Evidence)>,
) -> Finding {
    let pair = if matches!(surface, Surface::Snmp(_)) {
        let access = match write.map(|(access, _)| access) {
            Some(WriteAccess::Writable) => " with WRITE access",
            Some(WriteAccess::Refused(_)) => " (read-only)",
            _ => "",
        };
        format!("community {password:?}{access}")
    } else if password.is_empty() && matches!(surface, Surface::Ftp(_)) {
        format!("{user:?} with any password")
    } else {
        format!("{user:?} / {password:?}")
    };
    let finding = Finding::new(
        DEFAULT_CREDENTIALS,
        "S1.1-02",
        Verdict::Fail,
        format!("{}: default credential accepted: {pair}", surface.label()),
    )
    .with_evidence(Evidence::observed(
        ACCEPTED_LABEL,
        accepted_value(surface, user, password),
    ))
    .with_evidence(proof.clone());
    match write {
        Some((_, evidence)) => finding.with_evidence(evidence.clone()),
        None => finding,
    }
}

/// Every S1.1-02 finding for one device.
pub fn credential_findings(
    target: &ActiveTarget,
    context: &ActiveContext,
    surfaces: &[Surface],
    results: &[(Surface, Outcome)],
    anonymous: &[(Surface, String, String, Evidence)],
) -> Vec<Finding> {
    let mut findings: Vec<Finding> = anonymous
        .iter()
        .map(|(s, u, p, e)| accepted_finding(s, u, p, e))
        .collect();
    findings.extend(multi_unit(target, context));
    if !context.may_send_credentials() {
        findings.push(Finding::new(
            DEFAULT_CREDENTIALS,
            "S1.1-02",
            Verdict::Inconclusive,
            format!(
                "default credentials not tried: intrusive checks are off (--no-intrusive); login surfaces: {}",
                list(surfaces.iter().map(Surface::label))
            ),
        ));
        return findings;
    }
    let mut tested = Vec::new();
    for (surface, outcome) in results {
        match outcome {
            Outcome::Guessed(g) => {
                if !g.accepted.is_empty() {
                    for (_, user, password, proof) in &g.accepted {
                        let write = g
                            .write_access
                            .iter()
                            .find(|(community, _, _)| community == password)
                            .map(|(_, access, evidence)| (access, evidence));
                        findings.push(
                            accepted_finding_with(surface, user, password, proof, write)
                                .with_evidence(cost_evidence(surface, g)),
                        );
                    }
                } else if let Some(signal) = &g.locked {
                    findings.push(
                        Finding::new(
                            DEFAULT_CREDENTIALS,
                            "S1.1-02",
                            Verdict::Inconclusive,
                            format!(
                                "{}: stopped after {} attempts on a lockout or rate-limit signal",
                                surface.label(),
                                g.tried
                            ),
                        )
                        .with_evidence(signal.clone())
                        .with_evidence(cost_evidence(surface, g)),
                    );
                } else if matches!(surface, Surface::Snmp(_)) {
                    // SNMP agents ignore unknown communities: silence cannot tell a refusal
                    // from no agent, so SNMP is reported only when a community is accepted.
                } else if let Some(why) = &g.unsupported {
                    tested.push(format!("{} ({why})", surface.label()));
                } else if !g.failed.is_empty() || g.tried < g.pairs {
                    // A pair that got no answer may be the one that opens the device: only a
                    // list answered in full stands behind a pass.
                    let reason = match g.failed.first() {
                        Some(first) => format!("first: {first}"),
                        None => "the attempts stopped early".to_string(),
                    };
                    findings.push(
                        Finding::new(
                            DEFAULT_CREDENTIALS,
                            "S1.1-02",
                            Verdict::Inconclusive,
                            format!(
                                "{}: {} of {} pairs got no verdict ({reason}); {} were refused",
                                surface.label(),
                                g.pairs - g.tried.min(g.pairs),
                                g.pairs,
                                g.tried
                            ),
                        )
                        .with_evidence(Evidence::observed(
                            "attempts without a verdict",
                            g.failed
                                .iter()
                                .take(4)
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join("; "),
                        ))
                        .with_evidence(cost_evidence(surface, g)),
                    );
                } else {
                    tested.push(format!(
                        "{} ({} pairs refused over {} connections)",
                        surface.label(),
                        g.tried,
                        g.connections
                    ));
                }
            }
            Outcome::AcceptsAnything(_) => {}
            Outcome::Skipped(why) => findings.push(Finding::new(
                DEFAULT_CREDENTIALS,
                "S1.1-02",
                Verdict::Inconclusive,
                format!("{}: not tried: {why}", surface.label()),
            )),
        }
    }
    let failed = findings.iter().any(|f| f.verdict == Verdict::Fail);
    if !tested.is_empty() {
        findings.push(Finding::new(
            DEFAULT_CREDENTIALS,
            "S1.1-02",
            Verdict::Pass,
            format!("no default credential accepted on: {}", tested.join(", ")),
        ));
    } else if findings.is_empty() && !failed {
        findings.push(Finding::new(
            DEFAULT_CREDENTIALS,
            "S1.1-02",
            Verdict::NotApplicable,
            "no login surface to try default credentials on",
        ));
    }
    findings
}

/// How many pairs guessing on `surface` tried over how many connections (SNMP: datagrams).
fn cost_evidence(surface: &Surface, guessed: &Guessed) -> Evidence {
    let cost = guessed.cost();
    let cost = match surface {
        Surface::Snmp(_) => cost.replace("connection", "exchange"),
        _ => cost,
    };
    Evidence::observed(COST_LABEL, format!("{}: {cost}", surface.label()))
}

fn list(items: impl Iterator<Item = String>) -> String {
    let items: Vec<String> = items.collect();
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// Units of one model declaring the same initial password for a service.
fn multi_unit(target: &ActiveTarget, context: &ActiveContext) -> Vec<Finding> {
    let me = &target.device;
    let Some(model) = &me.model else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for peer in context.peers.iter() {
        if peer.name == me.name || peer.model.as_ref() != Some(model) {
            continue;
        }
        for mine in me.credentials.iter().filter(|c| c.initial) {
            let same = peer.credentials.iter().any(|theirs| {
                theirs.initial
                    && theirs.service.eq_ignore_ascii_case(&mine.service)
                    && theirs.password == mine.password
            });
            if same {
                findings.push(Finding::new(
                    DEFAULT_CREDENTIALS,
                    "S1.1-02",
                    Verdict::Fail,
                    format!(
                        "units {:?} and {:?} of model {model:?} declare the same initial {} password (not shown): it is not unique per unit",
                        me.name, peer.name, mine.service
                    ),
                ));
            }
        }
    }
    findings
}
