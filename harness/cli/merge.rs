//! `jcstar merge OUT DIR...`: joins the `results.json` of shard runs (`jcstar scan --shard I/N`)
//! into the `results.json` of one run, judging again what compares devices with each other.
//!
//! Every device keeps the findings its shard measured. Key reuse (S1.1-11) is decided anew over
//! all devices: a shard only saw its own slice, so its `crypto.key_reuse` findings are dropped
//! and the cross-device checks run over the TLS and SSH key fingerprints every device's
//! findings carry as evidence (`tls_key_sha256 …`, `ssh_host_key …`). Each criterion that
//! changed is aggregated again; device verdicts, readiness and the summary are recomputed.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde_json::Value;

use jcstar_model::device::Device;
use jcstar_model::error::{read_capped, InputError, Origin};
use jcstar_model::profile::Profile;
use jcstar_model::{aggregate, CriterionResult, Finding, Verdict};
use jcstar_report::doc::{ResultsDoc, MAX_RESULTS_BYTES};
use jcstar_report::readiness::Readiness;
use jcstar_report::{worst_verdict, ShardRef};

/// The check name of key-reuse findings, which merge judges again.
const KEY_REUSE: &str = "crypto.key_reuse";

/// One input run.
struct Part {
    path: PathBuf,
    raw: Value,
    doc: ResultsDoc,
    shard: Option<ShardRef>,
}

/// `DIR/results.json` for a run directory, or the path itself when it names a file.
pub fn results_path(path: &Path) -> PathBuf {
    if path.is_file() {
        path.to_path_buf()
    } else {
        path.join("results.json")
    }
}

fn read_part(path: &Path) -> Result<Part, InputError> {
    let json = results_path(path);
    let doc = ResultsDoc::read(&json)?;
    let error = |message: String| InputError::new(Origin::file(&json), message);
    let text = read_capped(&json, MAX_RESULTS_BYTES).map_err(|e| error(e.to_string()))?;
    let raw: Value = serde_json::from_str(&text).map_err(|e| error(e.to_string()))?;
    let shard = match raw.get("shard") {
        None | Some(Value::Null) => None,
        Some(value) => Some(
            serde_json::from_value::<ShardRef>(value.clone()).map_err(|e| {
                error(format!(
                    "\"shard\" is not {{index, count, devices_total}}: {e}"
                ))
            })?,
        ),
    };
    Ok(Part {
        path: json,
        raw,
        doc,
        shard,
    })
}

/// Reads the runs in `dirs` (run directories or `results.json` files), checks they are slices
/// of one run under `profile`, and returns the merged `results.json` document. Errors name the
/// file at fault: another profile, port list or intrusive setting, a device in two inputs, or
/// (for shard runs) a shard missing or given twice.
pub fn merge_runs(dirs: &[PathBuf], profile: &Profile) -> Result<Value, InputError> {
    let parts = dirs
        .iter()
        .map(|dir| read_part(dir))
        .collect::<Result<Vec<_>, _>>()?;
    let Some(first) = parts.first() else {
        return Err(InputError::arg(
            "merge: no runs given; name the output directories of the shard runs",
        ));
    };
    check_compatible(&parts, first, profile)?;
    let shards = check_shards(&parts)?;

    // Devices in the order of the unsharded run: by position, else input order.
    let mut seen: HashMap<String, &Path> = HashMap::new();
    let mut devices: Vec<(usize, usize, Value)> = Vec::new();
    for part in &parts {
        let raw_devices = part
            .raw
            .get("devices")
            .and_then(Value::as_array)
            .ok_or_else(|| InputError::new(Origin::file(&part.path), "no \"devices\" array"))?;
        for (device, doc) in raw_devices.iter().zip(&part.doc.devices) {
            let address = doc.device.address.clone();
            if let Some(earlier) = seen.insert(address.clone(), &part.path) {
                return Err(InputError::new(
                    Origin::file(&part.path),
                    format!(
                        "device {:?} ({address}) is also in {}; give each shard's results once",
                        doc.device.name,
                        earlier.display()
                    ),
                ));
            }
            let position = device
                .get("position")
                .and_then(Value::as_u64)
                .map_or(usize::MAX, |p| usize::try_from(p).unwrap_or(usize::MAX));
            devices.push((position, devices.len(), device.clone()));
        }
    }
    if let Some((count, total)) = shards {
        if devices.len() != total {
            let given: Vec<u32> = parts
                .iter()
                .filter_map(|p| p.shard.map(|s| s.index))
                .collect();
            let missing: Vec<String> = (1..=count)
                .filter(|i| !given.contains(i))
                .map(|i| format!("{i}/{count}"))
                .collect();
            return Err(InputError::arg(format!(
                "merge: the shards hold {} of the run's {total} devices; shard(s) {} missing",
                devices.len(),
                if missing.is_empty() {
                    "none".to_string()
                } else {
                    missing.join(", ")
                }
            )));
        }
    }
    devices.sort_by_key(|&(position, order, _)| (position, order));
    let mut devices: Vec<Value> = devices.into_iter().map(|(_, _, d)| d).collect();
    rejudge_cross_device(&mut devices, profile)?;

    let mut merged = first.raw.clone();
    let object = merged
        .as_object_mut()
        .ok_or_else(|| InputError::new(Origin::file(&first.path), "not a JSON object"))?;
    object.remove("shard");
    let started = parts.iter().map(|p| p.doc.started.clone()).min();
    let finished = parts.iter().map(|p| p.doc.finished.clone()).max();
    let duration = parts.iter().map(|p| p.doc.duration_ms).max().unwrap_or(0);
    object.insert("started".into(), started.unwrap_or_default().into());
    object.insert("finished".into(), finished.unwrap_or_default().into());
    object.insert("duration_ms".into(), duration.into());
    object.insert(
        "interrupted".into(),
        parts.iter().any(|p| p.doc.interrupted).into(),
    );
    object.remove("stopped");
    if let Some(why) = parts.iter().find_map(|p| p.doc.stopped.clone()) {
        object.insert("stopped".into(), why.into());
    }
    object.insert("summary".into(), summary(&devices)?);
    object.insert("devices".into(), Value::Array(devices));
    Ok(merged)
}

/// Same profile, ports, checks and intrusive setting in every input.
fn check_compatible(parts: &[Part], first: &Part, profile: &Profile) -> Result<(), InputError> {
    for part in parts {
        let refuse = |what: String| Err(InputError::new(Origin::file(&part.path), what));
        if part.doc.profile.name != profile.profile.name {
            return refuse(format!(
                "written with profile {:?}, not {:?}; merge only runs of one profile (give it with --profile)",
                part.doc.profile.name, profile.profile.name
            ));
        }
        if part.doc.profile.version != first.doc.profile.version {
            return refuse(format!(
                "written with profile version {:?}, {} has {:?}; merge only runs of one profile",
                part.doc.profile.version,
                first.path.display(),
                first.doc.profile.version
            ));
        }
        if part.doc.scan.tcp_ports != first.doc.scan.tcp_ports {
            return refuse(format!(
                "scanned TCP ports {}, {} scanned {}; give every shard the same -p",
                part.doc.scan.tcp_ports,
                first.path.display(),
                first.doc.scan.tcp_ports
            ));
        }
        if part.doc.scan.checks != first.doc.scan.checks {
            let list = |checks: &Option<Vec<String>>| {
                checks
                    .as_ref()
                    .map_or_else(|| "(not recorded)".to_string(), |c| c.join(","))
            };
            return refuse(format!(
                "ran checks {}, {} ran {}; give every shard the same --checks/--skip",
                list(&part.doc.scan.checks),
                first.path.display(),
                list(&first.doc.scan.checks)
            ));
        }
        if part.doc.intrusive.enabled != first.doc.intrusive.enabled {
            return refuse(format!(
                "intrusive checks {} here but {} in {}; give every shard the same --no-intrusive",
                on_off(part.doc.intrusive.enabled),
                on_off(first.doc.intrusive.enabled),
                first.path.display()
            ));
        }
    }
    Ok(())
}

fn on_off(enabled: bool) -> &'static str {
    if enabled {
        "on"
    } else {
        "off"
    }
}

/// For shard runs: one count and total, each index once. Returns (count, devices_total), or
/// `None` when no input is a shard run.
fn check_shards(parts: &[Part]) -> Result<Option<(u32, usize)>, InputError> {
    let Some(reference) = parts.iter().find_map(|p| p.shard) else {
        return Ok(None);
    };
    let mut indices: BTreeMap<u32, &Path> = BTreeMap::new();
    for part in parts {
        let refuse = |what: String| Err(InputError::new(Origin::file(&part.path), what));
        let Some(shard) = part.shard else {
            return refuse(
                "a whole run (no \"shard\"), merged with shard runs; merge only the shards of one run"
                    .into(),
            );
        };
        if shard.count != reference.count || shard.devices_total != reference.devices_total {
            return refuse(format!(
                "shard {}/{} of {} devices does not belong with shards of {} ({} devices); merge the shards of one run",
                shard.index, shard.count, shard.devices_total, reference.count, reference.devices_total
            ));
        }
        if let Some(earlier) = indices.insert(shard.index, &part.path) {
            return refuse(format!(
                "shard {}/{} is given twice (also {})",
                shard.index,
                shard.count,
                earlier.display()
            ));
        }
    }
    Ok(Some((reference.count, reference.devices_total)))
}

/// Drops the shards' key-reuse findings and runs the cross-device checks over all devices,
/// then aggregates each changed criterion again and recomputes each device's verdict and
/// readiness.
fn rejudge_cross_device(devices: &mut [Value], profile: &Profile) -> Result<(), InputError> {
    let shape = |what: &str| InputError::arg(format!("merge: a device entry {what}"));
    let mut criteria: Vec<Vec<CriterionResult>> = Vec::with_capacity(devices.len());
    let mut units: Vec<Device> = Vec::with_capacity(devices.len());
    for device in devices.iter() {
        let list: Vec<CriterionResult> =
            serde_json::from_value(device.get("criteria").cloned().unwrap_or(Value::Null))
                .map_err(|e| shape(&format!("has criteria that do not follow the schema: {e}")))?;
        criteria.push(list);
        let info = device
            .get("device")
            .ok_or_else(|| shape("has no \"device\""))?;
        let text = info.get("address").and_then(Value::as_str).unwrap_or("");
        let address: IpAddr = text
            .parse()
            .map_err(|_| shape(&format!("has address {text:?}, not an IP address")))?;
        let hostname = info
            .get("hostname")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut unit = Device::bare(address, hostname);
        if let Some(name) = info.get("name").and_then(Value::as_str) {
            unit.name = name.to_string();
        }
        unit.model = info
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_string);
        units.push(unit);
    }
    // Each device's own findings, once each (a finding bearing on two criteria is listed under
    // both), without the shards' key-reuse verdicts.
    let mut findings: Vec<Vec<Finding>> = criteria
        .iter()
        .map(|list| {
            let mut own: Vec<Finding> = Vec::new();
            for finding in list.iter().flat_map(|c| &c.findings) {
                if finding.check != KEY_REUSE && !own.contains(finding) {
                    own.push(finding.clone());
                }
            }
            own
        })
        .collect();
    let before: Vec<usize> = findings.iter().map(Vec::len).collect();
    jcstar_checks::run_cross_device(&units, &mut findings, profile);
    for (((device, list), own), base) in devices
        .iter_mut()
        .zip(criteria.iter_mut())
        .zip(&findings)
        .zip(before)
    {
        let added = own.get(base..).unwrap_or_default();
        for criterion in list.iter_mut() {
            let stale = criterion.findings.iter().any(|f| f.check == KEY_REUSE);
            let fresh: Vec<&Finding> = added
                .iter()
                .filter(|f| f.criteria.contains(&criterion.id))
                .collect();
            if !stale && fresh.is_empty() {
                continue;
            }
            let mut kept: Vec<Finding> = criterion
                .findings
                .iter()
                .filter(|f| f.check != KEY_REUSE)
                .cloned()
                .collect();
            kept.extend(fresh.into_iter().cloned());
            let waiver = criterion.waiver.take();
            *criterion = aggregate(&criterion.id, &criterion.title, kept);
            if criterion.verdict == Verdict::Fail {
                criterion.waiver = waiver;
            }
        }
        let object = device
            .as_object_mut()
            .ok_or_else(|| shape("is not a JSON object"))?;
        let to_value = |value: Result<Value, serde_json::Error>| {
            value.map_err(|e| shape(&format!("cannot be written again: {e}")))
        };
        object.insert(
            "verdict".into(),
            to_value(serde_json::to_value(worst_verdict(list)))?,
        );
        object.insert(
            "readiness".into(),
            to_value(serde_json::to_value(Readiness::of(list, profile)))?,
        );
        object.insert("criteria".into(), to_value(serde_json::to_value(&*list))?);
        object.remove("position");
    }
    Ok(())
}

/// The run's `summary` over the merged devices (the counts `Summary::of` makes for a run).
fn summary(devices: &[Value]) -> Result<Value, InputError> {
    let mut failed = 0usize;
    let mut waived = 0usize;
    let mut expired = 0usize;
    let mut counts: BTreeMap<Verdict, usize> = BTreeMap::new();
    for device in devices {
        let criteria: Vec<CriterionResult> =
            serde_json::from_value(device.get("criteria").cloned().unwrap_or(Value::Null))
                .map_err(|e| InputError::arg(format!("merge: criteria unreadable: {e}")))?;
        if criteria.iter().any(|c| c.verdict == Verdict::Fail) {
            failed += 1;
        }
        for criterion in &criteria {
            *counts.entry(criterion.verdict).or_default() += 1;
            waived += usize::from(criterion.is_waived());
            expired += usize::from(criterion.waiver_expired());
        }
    }
    Ok(serde_json::json!({
        "devices": devices.len(),
        "devices_failed": failed,
        "waived": waived,
        "waivers_expired": expired,
        "criteria": counts,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn device(name: &str, host: u8, findings: Vec<Value>) -> Value {
        let s12: Vec<Value> = findings
            .iter()
            .filter(|f| f["criteria"][0] == "S1.1-12")
            .cloned()
            .collect();
        let s11: Vec<Value> = findings
            .iter()
            .filter(|f| f["criteria"][0] == "S1.1-11")
            .cloned()
            .collect();
        let verdict = if s11.is_empty() {
            "inconclusive"
        } else {
            "fail"
        };
        json!({
            "device": {"name": name, "address": format!("10.0.0.{host}"), "declared_services": null, "evidence": {}},
            "position": host,
            "verdict": verdict,
            "readiness": {"verdict": "needs_evidence", "network_tested": {"pass": 0, "fail": 0, "warn": 0}, "document": {"declared": 0, "missing": 0}},
            "criteria": [
                {"id": "S1.1-11", "title": "t11", "verdict": verdict, "reason": "r", "findings": s11},
                {"id": "S1.1-12", "title": "t12", "verdict": "pass", "reason": "r", "findings": s12},
            ],
        })
    }

    fn key(fingerprint: &str) -> Value {
        json!({"check": "crypto.tls", "criteria": ["S1.1-12"], "verdict": "pass", "summary": "TLS 1.3 only",
               "evidence": [{"label": "tls_key_sha256 443/tcp", "received": fingerprint}]})
    }

    fn stale(summary: &str) -> Value {
        json!({"check": KEY_REUSE, "criteria": ["S1.1-11"], "verdict": "fail", "summary": summary,
               "evidence": [{"label": "TLS public key SHA-256 on 443/tcp", "received": "aaaa"}]})
    }

    fn reuse(device: &Value) -> (String, Vec<String>) {
        let s11 = &device["criteria"][0];
        let summaries = s11["findings"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter(|f| f["check"] == KEY_REUSE)
                    .map(|f| f["summary"].as_str().unwrap_or("").to_string())
                    .collect()
            })
            .unwrap_or_default();
        (s11["verdict"].as_str().unwrap_or("").to_string(), summaries)
    }

    /// A shard saw a and b share a key; c, in another shard, has it too: the merge replaces the
    /// shard's finding with one naming all three; d's own key is no reuse.
    #[test]
    fn key_reuse_is_judged_again_over_every_shard() {
        let mut devices = vec![
            device(
                "a",
                1,
                vec![key("aaaa"), stale("… shared by 2 devices: a, b")],
            ),
            device(
                "b",
                2,
                vec![key("aaaa"), stale("… shared by 2 devices: a, b")],
            ),
            device("c", 3, vec![key("aaaa")]),
            device("d", 4, vec![key("dddd")]),
        ];
        rejudge_cross_device(&mut devices, &Profile::builtin()).expect("merged");
        for device in &devices[..3] {
            let (verdict, summaries) = reuse(device);
            assert_eq!(verdict, "fail");
            assert_eq!(
                summaries,
                ["TLS public key SHA-256 aaaa is shared by 3 devices: a, b, c"]
            );
            assert_eq!(device["verdict"], "fail");
            assert!(device.get("position").is_none());
        }
        let (verdict, summaries) = reuse(&devices[3]);
        assert!(summaries.is_empty());
        assert_ne!(verdict, "fail");
    }

    #[test]
    fn no_runs_is_an_error() {
        assert!(merge_runs(&[], &Profile::builtin()).is_err());
    }
}
