//! Judges TLS and SSH inspection results against the profile's `[tls_policy]`/`[ssh_policy]`.

use std::collections::BTreeMap;

use tls_parser::{TlsCipherAu, TlsCipherEnc, TlsCipherEncMode, TlsCipherKx, TlsCipherSuite};

use jcstar_model::profile::{Rating, SshPolicy, TlsPolicy};
use jcstar_model::{Evidence, Finding, Verdict};
use jcstar_probe::sshinfo::SshInfo;
use jcstar_probe::tls::{hello::group_name, suite_name, CertFacts, PortTls, Version};

/// Criterion of every finding here.
pub const S1_1_12: &str = "S1.1-12";
/// Evidence label prefix of a TLS public-key fingerprint (read by the key-reuse check).
pub const TLS_KEY_LABEL: &str = "tls_key_sha256";
/// Evidence label prefix of an SSH host-key fingerprint (read by the key-reuse check).
pub const SSH_KEY_LABEL: &str = "ssh_host_key";
/// Most suite ids in one evidence piece.
const IDS_PER_EVIDENCE: usize = 60;

/// The verdict a rating stands for.
pub fn verdict(rating: Rating) -> Verdict {
    match rating {
        Rating::Pass => Verdict::Pass,
        Rating::Warn => Verdict::Warn,
        Rating::Fail => Verdict::Fail,
    }
}

fn rated(table: &BTreeMap<String, Rating>, key: &str, unlisted: Rating) -> Rating {
    table.get(key).copied().unwrap_or(unlisted)
}

/// Key-exchange class of a suite, as named in `[tls_policy] key_exchange`.
pub fn kx_class(suite: &TlsCipherSuite) -> &'static str {
    if suite.name.contains("EXPORT") {
        return "export";
    }
    let anonymous = suite.au == TlsCipherAu::Null
        && !matches!(
            suite.kx,
            TlsCipherKx::Null | TlsCipherKx::Psk | TlsCipherKx::Tls13
        );
    if anonymous || suite.kx == TlsCipherKx::Aecdh || suite.name.contains("_anon_") {
        return "anonymous";
    }
    match suite.kx {
        TlsCipherKx::Null => "null",
        TlsCipherKx::Psk => "psk",
        TlsCipherKx::Krb5 => "krb5",
        TlsCipherKx::Srp => "srp",
        TlsCipherKx::Rsa => "rsa",
        TlsCipherKx::Dh => "dh",
        TlsCipherKx::Dhe => "dhe",
        TlsCipherKx::Ecdh => "ecdh",
        TlsCipherKx::Ecdhe => "ecdhe",
        TlsCipherKx::Aecdh => "anonymous",
        TlsCipherKx::Eccpwd => "eccpwd",
        TlsCipherKx::Tls13 => "tls13",
    }
}

/// Cipher class of a suite, as named in `[tls_policy] ciphers`.
pub fn cipher_class(suite: &TlsCipherSuite) -> String {
    let family = match suite.enc {
        TlsCipherEnc::Null => return "null".into(),
        TlsCipherEnc::Des => return "des".into(),
        TlsCipherEnc::TripleDes => return "3des".into(),
        TlsCipherEnc::Rc2 => return "rc2".into(),
        TlsCipherEnc::Rc4 => return "rc4".into(),
        TlsCipherEnc::Idea => return "idea".into(),
        TlsCipherEnc::Seed => return "seed".into(),
        TlsCipherEnc::Chacha20_Poly1305 => return "chacha20-poly1305".into(),
        TlsCipherEnc::Aegis => return "aegis".into(),
        TlsCipherEnc::Aes => "aes",
        TlsCipherEnc::Aria => "aria",
        TlsCipherEnc::Camellia => "camellia",
        TlsCipherEnc::Sm4 => "sm4",
    };
    let mode = match suite.enc_mode {
        TlsCipherEncMode::Cbc => "cbc",
        TlsCipherEncMode::Gcm => "gcm",
        TlsCipherEncMode::Ccm => "ccm",
        TlsCipherEncMode::Null => "null",
    };
    format!("{family}-{mode}")
}

/// A suite's rating and why.
fn rate_suite(policy: &TlsPolicy, id: u16) -> (Rating, String) {
    let Some(suite) = TlsCipherSuite::from_id(id) else {
        return (policy.unlisted, "unregistered suite".to_string());
    };
    let kx = kx_class(suite);
    let cipher = cipher_class(suite);
    let kx_rating = rated(&policy.key_exchange, kx, policy.unlisted);
    let cipher_rating = rated(&policy.ciphers, &cipher, policy.unlisted);
    let mut why = Vec::new();
    if cipher_rating > Rating::Pass {
        why.push(format!("cipher {cipher}: {}", verdict(cipher_rating)));
    }
    if kx_rating > Rating::Pass {
        why.push(format!("key exchange {kx}: {}", verdict(kx_rating)));
    }
    (kx_rating.max(cipher_rating), why.join("; "))
}

fn id_evidence(label: &str, ids: &[u16]) -> Vec<Evidence> {
    let chunks: Vec<&[u16]> = ids.chunks(IDS_PER_EVIDENCE).collect();
    chunks
        .iter()
        .enumerate()
        .map(|(i, chunk)| {
            let text: Vec<String> = chunk.iter().map(|id| format!("0x{id:04x}")).collect();
            let label = if chunks.len() > 1 {
                format!("{label} [{}/{}]", i + 1, chunks.len())
            } else {
                label.to_string()
            };
            Evidence::observed(label, text.join(","))
        })
        .collect()
}

/// Certificate issues and the worst rating among them.
fn certificate_issues(policy: &TlsPolicy, cert: &CertFacts) -> (Rating, Vec<String>) {
    let mut worst = Rating::Pass;
    let mut issues = Vec::new();
    let mut note = |rating: Rating, text: String| {
        if rating > Rating::Pass {
            worst = worst.max(rating);
            issues.push(text);
        }
    };
    let min = match cert.key_type.as_str() {
        "rsa" | "dsa" => policy.rsa_min_bits,
        "ec" => policy.ec_min_bits,
        _ => 0,
    };
    if cert.key_bits < min {
        note(
            policy.weak_key,
            format!("{} below {min} bits", cert.key_label()),
        );
    }
    let hash = rated(
        &policy.signature_hashes,
        &cert.signature_hash,
        policy.unlisted,
    );
    note(hash, cert.signature_algorithm.clone());
    if cert.expired {
        note(policy.expired, format!("expired {}", cert.not_after));
    }
    if cert.not_yet_valid {
        note(
            policy.not_yet_valid,
            format!("not valid before {}", cert.not_before),
        );
    }
    if cert.self_signed {
        note(
            policy.self_signed,
            "self-signed (common on a LAN device; clients must pin it)".to_string(),
        );
    }
    (worst, issues)
}

/// Findings for one TLS port.
pub fn tls_findings(policy: &TlsPolicy, port: &PortTls) -> Vec<Finding> {
    let p = format!("{}/tcp", port.port);
    let mut findings = Vec::new();
    let mut evidence = Vec::new();
    let mut worst = Rating::Pass;
    let mut push =
        |findings: &mut Vec<Finding>, rating: Rating, summary: String, ev: Vec<Evidence>| {
            worst = worst.max(rating);
            let mut f = Finding::new("crypto.tls", S1_1_12, verdict(rating), summary);
            f.evidence = ev;
            findings.push(f);
        };

    for v in &port.versions {
        let label = format!("tls {p} {} suites", v.version.name());
        evidence.extend(id_evidence(&label, &v.suites));
        let rating = rated(&policy.versions, v.version.name(), policy.unlisted);
        if rating > Rating::Pass {
            let names: Vec<String> = v.suites.iter().map(|&id| suite_name(id)).collect();
            push(
                &mut findings,
                rating,
                format!(
                    "port {p}: accepts {} with {}",
                    v.version.name(),
                    names.join(", ")
                ),
                id_evidence(&label, &v.suites),
            );
        }
    }
    let mut by_suite: BTreeMap<u16, Vec<Version>> = BTreeMap::new();
    for v in &port.versions {
        for &id in &v.suites {
            by_suite.entry(id).or_default().push(v.version);
        }
    }
    for (id, versions) in by_suite {
        let (rating, why) = rate_suite(policy, id);
        if rating > Rating::Pass {
            let names: Vec<&str> = versions.iter().map(|v| v.name()).collect();
            push(
                &mut findings,
                rating,
                format!(
                    "port {p}: accepts {} with {} ({why})",
                    names.join(", "),
                    suite_name(id)
                ),
                Vec::new(),
            );
        }
    }
    let mut groups_by_rating: BTreeMap<Rating, Vec<String>> = BTreeMap::new();
    for &group in &port.groups {
        let name = group_name(group);
        groups_by_rating
            .entry(rated(&policy.groups, &name, policy.unlisted))
            .or_default()
            .push(name);
    }
    let all_groups: Vec<String> = port.groups.iter().map(|&g| group_name(g)).collect();
    if !all_groups.is_empty() {
        evidence.push(Evidence::observed(
            format!("tls {p} groups"),
            all_groups.join(","),
        ));
    }
    for (rating, names) in groups_by_rating
        .into_iter()
        .filter(|(r, _)| *r > Rating::Pass)
    {
        push(
            &mut findings,
            rating,
            format!("port {p}: accepts key-exchange groups {}", names.join(", ")),
            Vec::new(),
        );
    }
    if let Some(&bits) = port.dhe_bits.iter().next() {
        evidence.push(Evidence::observed(
            format!("tls {p} dhe_bits"),
            bits.to_string(),
        ));
        if bits < policy.dhe_min_bits {
            push(
                &mut findings,
                policy.weak_key,
                format!(
                    "port {p}: DHE with a {bits}-bit prime (below {})",
                    policy.dhe_min_bits
                ),
                Vec::new(),
            );
        }
    }
    for cert in &port.certificates {
        let facts = format!(
            "key={} signature={} hash={} not_before={} not_after={} expired={} not_yet_valid={} self_signed={} subject={} sans={} sha256={}",
            cert.key_label(), cert.signature_algorithm, cert.signature_hash, cert.not_before,
            cert.not_after, cert.expired, cert.not_yet_valid, cert.self_signed, cert.subject,
            cert.sans.join(","), cert.sha256
        );
        let cert_evidence = vec![
            Evidence::observed(format!("tls {p} certificate"), &facts),
            Evidence::observed(format!("{TLS_KEY_LABEL} {p}"), &cert.spki_sha256),
        ];
        evidence.extend(cert_evidence.clone());
        let (rating, issues) = certificate_issues(policy, cert);
        let label = cert.key_label();
        let mut parts = vec![label.clone(), cert.signature_algorithm.clone()];
        if let Some(weak) = issues.iter().find(|i| i.starts_with(&label)) {
            parts[0] = weak.clone();
        }
        parts.extend(
            issues
                .iter()
                .filter(|i| !i.starts_with(&label) && **i != cert.signature_algorithm)
                .cloned(),
        );
        if issues.is_empty() {
            parts.push(format!("valid until {}", cert.not_after));
        }
        let summary = format!("port {p}: certificate {}", parts.join(", "));
        push(&mut findings, rating, summary, cert_evidence);
    }

    if !port.incomplete.is_empty() {
        let mut f = Finding::new(
            "crypto.tls",
            S1_1_12,
            Verdict::Inconclusive,
            format!(
                "port {p}: TLS enumeration incomplete: {}",
                port.incomplete.join("; ")
            ),
        );
        f.evidence = evidence.clone();
        findings.push(f);
    }
    if port.versions.is_empty() {
        if port.incomplete.is_empty() {
            findings.push(Finding::new(
                "crypto.tls",
                S1_1_12,
                Verdict::Inconclusive,
                format!("port {p}: identified as TLS, but no version was accepted"),
            ));
        }
        return findings;
    }
    let versions: Vec<&str> = port.versions.iter().map(|v| v.version.name()).collect();
    let suites: usize = port.versions.iter().map(|v| v.suites.len()).sum();
    evidence.push(Evidence::observed(
        format!("tls {p} handshakes"),
        format!("{} in {} ms", port.handshakes, port.elapsed.as_millis()),
    ));
    // An incomplete enumeration saw only part of what the port accepts: what it saw can fail
    // the port, never pass it (a server that lies mid-enumeration must not earn a pass).
    let (summary, port_verdict) = if worst > Rating::Pass {
        (
            format!("port {p}: TLS {} with {suites} suites", versions.join(", ")),
            verdict(worst),
        )
    } else if port.incomplete.is_empty() {
        (
            format!(
                "port {p}: TLS {} with {suites} suites, all within the policy",
                versions.join(", ")
            ),
            Verdict::Pass,
        )
    } else {
        (
            format!(
                "port {p}: TLS {} with {suites} suites seen, all within the policy, but the enumeration is incomplete",
                versions.join(", ")
            ),
            Verdict::Inconclusive,
        )
    };
    let mut f = Finding::new("crypto.tls", S1_1_12, port_verdict, summary);
    f.evidence = evidence;
    findings.push(f);
    findings
}

/// Findings for one SSH port.
pub fn ssh_findings(policy: &SshPolicy, info: &SshInfo) -> Vec<Finding> {
    let p = format!("{}/tcp", info.port);
    let mut findings = Vec::new();
    if info.identification.is_empty() {
        findings.push(Finding::new(
            "crypto.ssh",
            S1_1_12,
            Verdict::Inconclusive,
            format!(
                "port {p}: SSH inspection failed: {}",
                info.incomplete.join("; ")
            ),
        ));
        return findings;
    }
    let mut worst = Rating::Pass;
    let mut evidence = vec![Evidence::observed(
        format!("ssh {p} identification"),
        &info.identification,
    )];
    if info.protocol1 {
        worst = worst.max(policy.protocol1);
        findings.push(Finding::new(
            "crypto.ssh",
            S1_1_12,
            verdict(policy.protocol1),
            format!("port {p}: speaks SSH protocol 1 ({})", info.identification),
        ));
    }
    let k = &info.kexinit;
    let lists: [(&str, &Vec<String>); 7] = [
        ("kex", &k.kex),
        ("host key", &k.host_key),
        ("cipher", &k.ciphers_c2s),
        ("cipher", &k.ciphers_s2c),
        ("mac", &k.macs_c2s),
        ("mac", &k.macs_s2c),
        ("compression", &k.compression_c2s),
    ];
    let mut weak: Vec<String> = Vec::new();
    for (kind, list) in &lists[..6] {
        for algorithm in list.iter() {
            let rating = policy
                .algorithms
                .get(algorithm)
                .copied()
                .unwrap_or(Rating::Pass);
            let item = format!("{kind}:{algorithm}");
            if rating > Rating::Pass && !weak.contains(&item) {
                weak.push(item);
                worst = worst.max(rating);
                findings.push(Finding::new(
                    "crypto.ssh",
                    S1_1_12,
                    verdict(rating),
                    format!("port {p}: SSH offers {kind} {algorithm}"),
                ));
            }
        }
    }
    for (kind, list) in lists {
        evidence.push(Evidence::observed(
            format!("ssh {p} {kind}"),
            list.join(","),
        ));
    }
    evidence.push(Evidence::observed(format!("ssh {p} weak"), weak.join(",")));
    if let Some(methods) = &info.auth_methods {
        evidence.push(Evidence::observed(
            format!("ssh {p} auth methods"),
            methods.join(","),
        ));
    }
    for key in &info.host_keys {
        let ev = Evidence::observed(
            format!("{SSH_KEY_LABEL} {p} {}", key.key_type),
            format!("{} {} bits", key.fingerprint, key.bits),
        );
        evidence.push(ev.clone());
        if key.key_type == "ssh-rsa" && key.bits < policy.rsa_min_bits {
            worst = worst.max(policy.weak_key);
            findings.push(
                Finding::new(
                    "crypto.ssh",
                    S1_1_12,
                    verdict(policy.weak_key),
                    format!(
                        "port {p}: SSH host key RSA-{} below {} bits",
                        key.bits, policy.rsa_min_bits
                    ),
                )
                .with_evidence(ev),
            );
        }
    }
    if !info.incomplete.is_empty() {
        evidence.push(Evidence::observed(
            format!("ssh {p} incomplete"),
            info.incomplete.join("; "),
        ));
    }
    // A host key not obtained leaves its size unjudged: that can never pass the port.
    let (summary, port_verdict) = if worst > Rating::Pass {
        (
            format!(
                "port {p}: SSH {} offers {} weak algorithms",
                info.identification,
                weak.len()
            ),
            verdict(worst),
        )
    } else if info.rsa_key_missing() {
        (
            format!(
                "port {p}: SSH algorithms all within the policy ({}), but its RSA host key was not obtained, so the key size (>= {} bits) is not judged",
                info.identification, policy.rsa_min_bits
            ),
            Verdict::Inconclusive,
        )
    } else {
        (
            format!(
                "port {p}: SSH algorithms all within the policy ({})",
                info.identification
            ),
            Verdict::Pass,
        )
    };
    let mut f = Finding::new("crypto.ssh", S1_1_12, port_verdict, summary);
    f.evidence = evidence;
    findings.push(f);
    findings
}

#[cfg(test)]
mod incomplete_tests {
    use super::*;
    use jcstar_probe::tls::VersionSuites;

    fn port(incomplete: &[&str]) -> PortTls {
        PortTls {
            port: 443,
            versions: vec![VersionSuites {
                version: Version::Tls13,
                suites: vec![0x1301],
            }],
            incomplete: incomplete.iter().map(|s| s.to_string()).collect(),
            ..PortTls::default()
        }
    }

    fn port_summary(port: &PortTls) -> Finding {
        let policy = jcstar_model::profile::Profile::builtin().tls_policy();
        let findings = tls_findings(&policy, port);
        findings
            .into_iter()
            .rfind(|f| f.summary.starts_with("port 443/tcp: TLS TLSv1.3"))
            .expect("the port's summary finding")
    }

    #[test]
    fn a_complete_enumeration_within_the_policy_passes() {
        assert_eq!(port_summary(&port(&[])).verdict, Verdict::Pass);
    }

    /// A HelloRetryRequest liar: TLS 1.3 "accepts" one good suite, then chooses a suite that
    /// was not offered. What was seen is within the policy, but the port is not judged.
    #[test]
    fn an_incomplete_enumeration_within_the_policy_is_inconclusive_not_pass() {
        let liar = port(&["TLSv1.3: the server chose suite 0x1301, which was not offered"]);
        let summary = port_summary(&liar);
        assert_eq!(
            summary.verdict,
            Verdict::Inconclusive,
            "{}",
            summary.summary
        );
    }

    #[test]
    fn an_incomplete_enumeration_still_fails_on_what_it_saw() {
        let mut weak = port(&["port deadline of 20 s reached"]);
        weak.versions = vec![VersionSuites {
            version: Version::Tls10,
            suites: vec![0x000a],
        }];
        let findings = tls_findings(
            &jcstar_model::profile::Profile::builtin().tls_policy(),
            &weak,
        );
        assert!(
            findings.iter().any(|f| f.verdict == Verdict::Fail),
            "{findings:#?}"
        );
        assert!(findings.iter().all(|f| f.verdict != Verdict::Pass));
    }
}

#[cfg(test)]
mod vocabulary_tests {
    use super::*;
    use jcstar_model::profile::vocabulary;

    /// Every class a registered suite is rated under is a name the policy tables accept, so a
    /// profile can rate each of them (and a typo cannot pass for one).
    #[test]
    fn suite_classes_are_policy_names() {
        for suite in tls_parser::CIPHERS.values() {
            let kx = kx_class(suite);
            assert!(
                vocabulary::KEY_EXCHANGES.contains(&kx),
                "{}: {kx}",
                suite.name
            );
            let cipher = cipher_class(suite);
            assert!(
                vocabulary::is_cipher_class(&cipher),
                "{}: {cipher}",
                suite.name
            );
        }
    }

    /// An SSH port whose algorithms are all within the policy passes only when its RSA host
    /// key was obtained and measured; without it the key size is unknown.
    #[test]
    fn an_ssh_port_without_its_rsa_key_is_inconclusive_not_pass() {
        let policy = jcstar_model::profile::Profile::builtin().ssh_policy();
        let rsa = jcstar_wire::ssh::HostKey {
            algorithm: "rsa-sha2-512".into(),
            key_type: "ssh-rsa".into(),
            bits: 3072,
            fingerprint: "SHA256:x".into(),
        };
        let mut info = SshInfo {
            port: 22,
            identification: "SSH-2.0-OpenSSH_9.2".into(),
            kexinit: jcstar_wire::ssh::KexInit {
                kex: vec!["curve25519-sha256".into()],
                host_key: vec!["rsa-sha2-512".into()],
                ciphers_c2s: vec!["aes128-gcm@openssh.com".into()],
                ciphers_s2c: vec!["aes128-gcm@openssh.com".into()],
                macs_c2s: vec!["hmac-sha2-256-etm@openssh.com".into()],
                macs_s2c: vec!["hmac-sha2-256-etm@openssh.com".into()],
                ..Default::default()
            },
            host_keys: vec![rsa],
            ..SshInfo::default()
        };
        let port_verdict = |info: &SshInfo| {
            ssh_findings(&policy, info)
                .into_iter()
                .rfind(|f| f.summary.starts_with("port 22/tcp: SSH"))
                .expect("port finding")
        };
        let measured = port_verdict(&info);
        assert_eq!(measured.verdict, Verdict::Pass, "{}", measured.summary);
        info.host_keys.clear();
        info.keys_missing = vec!["rsa-sha2-512".into()];
        info.incomplete = vec!["host key rsa-sha2-512: no reply within 5000 ms".into()];
        let unmeasured = port_verdict(&info);
        assert_eq!(
            unmeasured.verdict,
            Verdict::Inconclusive,
            "{}",
            unmeasured.summary
        );
    }
}
