//! S1.1-12 (and S1.1-11): TLS versions, suites, groups and certificates a device *accepts*,
//! its SSH algorithms and host keys, its plaintext channels carrying credentials, all judged
//! by the profile's `[tls_policy]` and `[ssh_policy]`; and keys shared across units.

mod plaintext;
pub mod policy;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::{ActiveContext, ActiveTarget};
use jcstar_model::device::Device;
use jcstar_model::{Evidence, Finding, Verdict};
use jcstar_probe::scan::{PortState, ServiceKind};
use jcstar_probe::sshinfo::{self, SshLimits};
use jcstar_probe::tls::{self, TlsLimits, HOST_CONCURRENCY};

use policy::{SSH_KEY_LABEL, TLS_KEY_LABEL};

/// Criterion of the key-reuse findings.
const S1_1_11: &str = "S1.1-11";

/// Inspects every TLS and SSH port of the device and its plaintext channels.
pub async fn check(target: &ActiveTarget, context: &ActiveContext) -> Vec<Finding> {
    let tls_policy = context.profile.tls_policy();
    let ssh_policy = context.profile.ssh_policy();
    let host = Arc::new(Semaphore::new(HOST_CONCURRENCY));
    let open = target
        .scan
        .ports
        .iter()
        .filter(|p| p.state == PortState::Open);
    let mut tls_ports = Vec::new();
    let mut ssh_ports = Vec::new();
    for port in open {
        match port.service.as_ref().map(|s| s.kind) {
            Some(ServiceKind::Tls) => tls_ports.push(port.port),
            Some(ServiceKind::Ssh) => ssh_ports.push(port.port),
            _ => {}
        }
    }
    let address = target.scan.address;
    let mut tasks = tokio::task::JoinSet::new();
    for port in tls_ports {
        let host = host.clone();
        let policy = tls_policy.clone();
        tasks.spawn(async move {
            let report =
                tls::inspect(SocketAddr::new(address, port), &TlsLimits::default(), host).await;
            (port, policy::tls_findings(&policy, &report))
        });
    }
    for port in ssh_ports {
        let policy = ssh_policy.clone();
        tasks.spawn(async move {
            let info =
                sshinfo::inspect(SocketAddr::new(address, port), &SshLimits::default()).await;
            (port, policy::ssh_findings(&policy, &info))
        });
    }
    let mut by_port = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((port, findings)) => {
                by_port.insert(port, findings);
            }
            Err(e) => tracing::error!(error = %e, "crypto inspection task failed"),
        }
    }
    let mut findings: Vec<Finding> = by_port.into_values().flatten().collect();
    let mut snmp = plaintext::SnmpProbe::from_profile(&context.profile);
    if !context.may_send_credentials() {
        // Community strings are credentials: with intrusive checks off none is sent.
        snmp.communities.clear();
    }
    findings.extend(plaintext::check(&target.scan, &tls_policy, &snmp).await);
    if findings.is_empty() {
        findings.push(Finding::new(
            "crypto.none",
            policy::S1_1_12,
            Verdict::NotApplicable,
            "no TLS, SSH or plaintext credential channel found",
        ));
    }
    findings
}

/// Fingerprints a device presents: (kind, fingerprint) → where.
fn fingerprints(findings: &[Finding]) -> BTreeMap<(String, String), Vec<String>> {
    let mut out: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for evidence in findings.iter().flat_map(|f| &f.evidence) {
        let Some(value) = evidence.received.as_deref() else {
            continue;
        };
        let kind = if evidence.label.starts_with(TLS_KEY_LABEL) {
            "TLS public key SHA-256"
        } else if evidence.label.starts_with(SSH_KEY_LABEL) {
            "SSH host key"
        } else {
            continue;
        };
        let fingerprint = value.split_whitespace().next().unwrap_or(value).to_string();
        let place = evidence
            .label
            .split_once(' ')
            .map(|(_, place)| place)
            .unwrap_or("")
            .to_string();
        let places = out.entry((kind.to_string(), fingerprint)).or_default();
        if !places.contains(&place) {
            places.push(place);
        }
    }
    out
}

/// S1.1-11: every device presenting a TLS key or SSH host key another device in the run also
/// presents fails, naming the shared fingerprint.
pub fn key_reuse(devices: &[Device], findings: &mut [Vec<Finding>]) {
    let per_device: Vec<_> = findings.iter().map(|f| fingerprints(f)).collect();
    let mut holders: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, prints) in per_device.iter().enumerate() {
        for key in prints.keys() {
            holders.entry(key.clone()).or_default().push(i);
        }
    }
    for ((kind, fingerprint), owners) in holders.into_iter().filter(|(_, o)| o.len() > 1) {
        let names = holder_names(devices, &owners);
        for &i in &owners {
            let places = per_device[i]
                .get(&(kind.clone(), fingerprint.clone()))
                .map(|p| p.join(", "))
                .unwrap_or_default();
            let Some(own) = findings.get_mut(i) else {
                continue;
            };
            own.push(
                Finding::new(
                    "crypto.key_reuse",
                    S1_1_11,
                    Verdict::Fail,
                    format!(
                        "{kind} {fingerprint} is shared by {} devices: {names}",
                        owners.len(),
                    ),
                )
                .with_evidence(Evidence::observed(
                    format!("{kind} on {places}"),
                    &fingerprint,
                )),
            );
        }
    }
}

/// Most holders a key-reuse finding names: a key shared across a whole fleet would otherwise
/// put every device's name into every device's finding (memory and report size growing with
/// the square of the fleet). results.json still shows the fingerprint on every holder.
const NAMED_HOLDERS: usize = 10;

/// "a, b, c" or, past [`NAMED_HOLDERS`], "a, b, … and 4990 more".
fn holder_names(devices: &[Device], owners: &[usize]) -> String {
    let mut names: Vec<&str> = owners
        .iter()
        .take(NAMED_HOLDERS)
        .filter_map(|&i| devices.get(i))
        .map(|d| d.name.as_str())
        .collect();
    let more = owners.len().saturating_sub(NAMED_HOLDERS);
    let more = (more > 0).then(|| format!("… and {more} more"));
    names.extend(more.as_deref());
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_finding(label: &str, value: &str) -> Finding {
        Finding::new("crypto.tls", "S1.1-12", Verdict::Pass, "x")
            .with_evidence(Evidence::observed(label, value))
    }

    fn device(name: &str) -> Device {
        Device {
            name: name.to_string(),
            address: std::net::IpAddr::from([127, 0, 0, 1]),
            hostname: None,
            model: None,
            declared_services: None,
            credentials: Vec::new(),
            evidence: Default::default(),
        }
    }

    #[test]
    fn shared_keys_fail_every_holder_and_unique_keys_do_not() {
        let devices = [device("a"), device("b"), device("c")];
        let mut findings = vec![
            vec![key_finding("tls_key_sha256 443/tcp", "aaaa")],
            vec![
                key_finding("ssh_host_key 22/tcp ssh-ed25519", "SHA256:k 256 bits"),
                key_finding("tls_key_sha256 8443/tcp", "aaaa"),
            ],
            vec![
                key_finding("ssh_host_key 22/tcp ssh-ed25519", "SHA256:k 256 bits"),
                key_finding("tls_key_sha256 443/tcp", "bbbb"),
            ],
        ];
        key_reuse(&devices, &mut findings);
        let reuse = |i: usize| -> Vec<String> {
            findings[i]
                .iter()
                .filter(|f| f.criteria == ["S1.1-11"])
                .map(|f| f.summary.clone())
                .collect()
        };
        assert_eq!(
            reuse(0),
            ["TLS public key SHA-256 aaaa is shared by 2 devices: a, b"]
        );
        assert_eq!(reuse(1).len(), 2);
        assert_eq!(
            reuse(2),
            ["SSH host key SHA256:k is shared by 2 devices: b, c"]
        );
    }

    #[test]
    fn a_fleet_sharing_one_key_names_only_the_first_holders() {
        let devices: Vec<Device> = (0..25).map(|i| device(&format!("d{i}"))).collect();
        let mut findings: Vec<Vec<Finding>> = (0..25)
            .map(|_| vec![key_finding("tls_key_sha256 443/tcp", "cafe")])
            .collect();
        key_reuse(&devices, &mut findings);
        let names: Vec<String> = (0..10).map(|i| format!("d{i}")).collect();
        let want = format!(
            "TLS public key SHA-256 cafe is shared by 25 devices: {}, … and 15 more",
            names.join(", ")
        );
        for own in &findings {
            let reuse: Vec<&str> = own
                .iter()
                .filter(|f| f.check == "crypto.key_reuse")
                .map(|f| f.summary.as_str())
                .collect();
            assert_eq!(reuse, [want.as_str()]);
        }
    }
}
