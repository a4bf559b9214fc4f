//! Check profiles: the ★1 catalogue, scan settings, enabled checks and thresholds, loaded from
//! TOML. The ★1 profile is embedded so the binary works alone.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::{line_of_offset, InputError, Origin};
use crate::ports::parse_port_spec;

pub mod access;
pub mod brute_force;
mod checks;
pub mod timing;
pub mod udp;
pub mod vocabulary;
pub mod web;

pub use checks::CheckId;
pub use timing::TimingPreset;

/// Name of the embedded ★1 profile.
pub const BUILTIN_NAME: &str = "jc-star-1";

/// Text of the embedded ★1 profile (`profiles/jc-star-1.toml`).
pub const BUILTIN_TEXT: &str = include_str!("../../../../profiles/jc-star-1.toml");

/// A loaded, validated profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Name, title and version of the profile.
    pub profile: ProfileInfo,
    /// Port list, timeouts and concurrency limits.
    pub scan: ScanSettings,
    /// Which checks run, and their thresholds.
    pub checks: CheckSettings,
    /// The criteria catalogue, in report order.
    pub criteria: Vec<Criterion>,
    /// TLS and plaintext-channel policy (S1.1-12); the built-in one when absent.
    #[serde(default)]
    pub tls_policy: Option<TlsPolicy>,
    /// SSH algorithm policy (S1.1-12); the built-in one when absent.
    #[serde(default)]
    pub ssh_policy: Option<SshPolicy>,
    /// Access-control and default-credential checks (S1.1-01, S1.1-02).
    #[serde(default)]
    pub access: access::AccessSettings,
    /// Brute-force resistance check (S1.1-04).
    #[serde(default)]
    pub brute_force: brute_force::BruteForceSettings,
    /// Web-information check (S1.1-05 security.txt, S1.1-07 update pages, identity sightings).
    #[serde(default)]
    pub web: web::WebSettings,
    /// UDP IoT service probes (S1.1-13, S1.1-10, S1.1-01).
    #[serde(default)]
    pub udp: udp::UdpSettings,
}

/// How the policy rates one protocol, algorithm or property.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    /// Acceptable.
    Pass,
    /// Weak, not a clear breach.
    Warn,
    /// A breach.
    Fail,
}

/// The TLS policy: every version, suite class, group, key size and signature hash rated.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsPolicy {
    /// Protocol versions by OpenSSL name (`SSLv3`, `TLSv1`, `TLSv1.1`, `TLSv1.2`, `TLSv1.3`).
    pub versions: BTreeMap<String, Rating>,
    /// Key-exchange classes (`ecdhe`, `dhe`, `rsa`, `anonymous`, `export`, …).
    pub key_exchange: BTreeMap<String, Rating>,
    /// Cipher classes (`aes-gcm`, `aes-cbc`, `3des`, `rc4`, `null`, …).
    pub ciphers: BTreeMap<String, Rating>,
    /// Named groups by IANA name (`x25519`, `secp256r1`, …).
    pub groups: BTreeMap<String, Rating>,
    /// Rating of anything the tables above do not list.
    pub unlisted: Rating,
    /// Smallest acceptable DHE prime, in bits.
    pub dhe_min_bits: u32,
    /// Smallest acceptable RSA (and DSA) certificate key, in bits.
    pub rsa_min_bits: u32,
    /// Smallest acceptable EC certificate key, in bits.
    pub ec_min_bits: u32,
    /// Rating of a DHE prime or certificate key below its minimum.
    pub weak_key: Rating,
    /// Certificate signature hashes (`md5`, `sha1`, `sha256`, …, `intrinsic` for EdDSA).
    pub signature_hashes: BTreeMap<String, Rating>,
    /// Rating of an expired certificate.
    pub expired: Rating,
    /// Rating of a certificate not yet valid.
    pub not_yet_valid: Rating,
    /// Rating of a self-signed certificate.
    pub self_signed: Rating,
    /// Plaintext channels carrying credentials (`telnet`, `ftp`, `http_login`, `mqtt`,
    /// `rtsp_basic`, `snmp`).
    pub plaintext_channels: BTreeMap<String, Rating>,
}

/// The SSH policy: algorithms by name, host key sizes, protocol 1.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SshPolicy {
    /// Rating of a server speaking SSH protocol 1.
    pub protocol1: Rating,
    /// Algorithms rated `warn` or `fail` (any list: kex, host key, cipher, MAC); others pass.
    pub algorithms: BTreeMap<String, Rating>,
    /// Smallest acceptable RSA host key, in bits.
    pub rsa_min_bits: u32,
    /// Rating of an RSA host key below the minimum.
    pub weak_key: Rating,
}

/// Identity of a profile, recorded in every report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileInfo {
    /// Short name, e.g. `jc-star-1`.
    pub name: String,
    /// Human title.
    pub title: String,
    /// Version of the profile data.
    pub version: String,
}

/// Scan settings; durations in milliseconds.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanSettings {
    /// Default TCP ports in nmap syntax.
    pub tcp_ports: String,
    /// Connect timeout before any RTT sample.
    #[serde(default = "timing::default_initial_timeout_ms")]
    pub initial_timeout_ms: u64,
    /// Floor of the adaptive connect timeout.
    #[serde(default = "timing::default_min_timeout_ms")]
    pub min_timeout_ms: u64,
    /// Ceiling of the adaptive connect timeout.
    #[serde(default = "timing::default_max_timeout_ms")]
    pub max_timeout_ms: u64,
    /// In-flight connects per host at the start.
    #[serde(default = "timing::default_per_host_start")]
    pub per_host_start: usize,
    /// Most in-flight connects per host while the host keeps up.
    #[serde(default = "timing::default_per_host_max")]
    pub per_host_max: usize,
    /// In-flight connects over all hosts; 0 derives it from RLIMIT_NOFILE.
    pub global_limit: usize,
    /// Largest number of addresses a target spec may expand to without `--allow-large`.
    pub max_addresses: usize,
    /// Byte cap of every banner read.
    pub banner_bytes: usize,
    /// Deadline of every banner read.
    #[serde(default = "timing::default_banner_timeout_ms")]
    pub banner_timeout_ms: u64,
    /// Time budget of one device, port scan and service checks together, in seconds; 0 for
    /// none. A device past it is finished with what was measured.
    #[serde(default)]
    pub host_timeout_s: u64,
    /// Time budget of the whole run in seconds; 0 for none. At the end of it the run stops as
    /// on Ctrl-C and writes what was measured.
    #[serde(default)]
    pub max_duration_s: u64,
    /// New connections per second over the whole run, port scan and checks together; 0 for no
    /// limit. `--max-rate` overrides it.
    #[serde(default)]
    pub max_rate: u32,
    /// New connections per minute to any one service from the checks and service
    /// identification (a device's connection-rate limit is then not tripped by jcstar itself);
    /// 0 for no limit. `--service-rate` overrides it.
    #[serde(default)]
    pub service_rate_per_minute: u32,
}

/// Which checks run and the data they use.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSettings {
    /// Names of the checks that run.
    pub enabled: Vec<String>,
    /// Whether intrusive checks (credential guessing, lockout tests) may run.
    pub intrusive: bool,
    /// Ports whose service is a debug or backdoor interface.
    #[serde(default)]
    pub debug_ports: Vec<DebugPort>,
}

/// A known debug or backdoor port.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebugPort {
    /// TCP port number.
    pub port: u16,
    /// What usually listens there.
    pub name: String,
}

/// The scheme's official evaluation type for a criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evaluation {
    /// Evaluated from documents (manuals, website, specifications).
    Document,
    /// Evaluated only by tests on the real device.
    Device,
    /// Evaluated from documents and on the device.
    Both,
    /// Not confirmed from public material.
    Unconfirmed,
}

/// How far a criterion's text is confirmed from IPA's published material. The catalogue's
/// titles and texts are jcstar's English paraphrases either way; this says whether what they
/// mean is IPA's or jcstar's reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TextSource {
    /// The meaning is confirmed from public IPA or vendor material (paraphrased).
    Confirmed,
    /// Partly confirmed: the subject is known, the exact requirement is jcstar's reading.
    PartlyConfirmed,
    /// Not confirmed: jcstar's reading of what the criterion probably asks.
    #[default]
    Unconfirmed,
}

impl TextSource {
    /// A phrase for reports and `jcstar requirements`.
    pub fn describe(self) -> &'static str {
        match self {
            TextSource::Confirmed => "meaning confirmed from public material, paraphrased",
            TextSource::PartlyConfirmed => {
                "text partly confirmed from public material; the requirement is jcstar's reading"
            }
            TextSource::Unconfirmed => "text NOT confirmed from IPA's documents: jcstar's reading",
        }
    }
}

/// One criterion of the catalogue.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Identifier, e.g. `S1.1-13`.
    pub id: String,
    /// Short title.
    pub title: String,
    /// Paraphrased text of the criterion.
    pub text: String,
    /// The official evaluation type.
    pub evaluation: Evaluation,
    /// Whether the evaluation type is confirmed from public material.
    #[serde(default = "default_true")]
    pub evaluation_confirmed: bool,
    /// How far the text is confirmed from IPA's material (unconfirmed unless the profile says).
    #[serde(default)]
    pub text_source: TextSource,
    /// Whether `title` is IPA's own heading (false: jcstar's paraphrase).
    #[serde(default)]
    pub title_is_ipa: bool,
    /// Corresponding ETSI EN 303 645 provisions.
    pub en_303_645: Vec<String>,
    /// What jcstar does for the criterion.
    pub jcstar_checks: String,
    /// Inventory evidence fields that document-evaluate the criterion.
    pub evidence: Vec<String>,
    /// Inventory evidence fields the criterion reads when present, never asks for (e.g. an
    /// update check URL some products do not have).
    #[serde(default)]
    pub optional_evidence: Vec<String>,
}

fn default_true() -> bool {
    true
}

impl Criterion {
    /// The title as reports show it: marked when the criterion's text is not confirmed.
    pub fn report_title(&self) -> String {
        match self.text_source {
            TextSource::Unconfirmed => format!("{} (not confirmed from IPA's text)", self.title),
            _ => self.title.clone(),
        }
    }
}

impl Profile {
    /// The embedded ★1 profile.
    pub fn builtin() -> Profile {
        match Profile::parse(BUILTIN_TEXT, Path::new("<built-in jc-star-1>")) {
            Ok(profile) => profile,
            // The embedded text is checked by a unit test; reaching this is a build defect.
            Err(e) => panic!("embedded profile is invalid: {e}"),
        }
    }

    /// Loads `name_or_path`: the built-in name, or a TOML file.
    pub fn load(name_or_path: &str) -> Result<Profile, InputError> {
        if name_or_path == BUILTIN_NAME {
            return Ok(Profile::builtin());
        }
        let path = Path::new(name_or_path);
        let text = crate::error::read_capped(path, MAX_PROFILE_BYTES).map_err(|e| {
            InputError::arg(format!(
                "cannot read profile {name_or_path:?}: {e}; give a profile file or the built-in name {BUILTIN_NAME:?}"
            ))
        })?;
        Profile::parse(&text, path)
    }

    /// Parses and validates profile text read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Profile, InputError> {
        let profile: Profile = toml::from_str(text).map_err(|e| toml_error(text, path, &e))?;
        profile.validate(text, path)?;
        Ok(profile)
    }

    fn validate(&self, text: &str, path: &Path) -> Result<(), InputError> {
        let at = |needle: &str| Origin::file_line(path, line_of(text, needle));
        let scan = &self.scan;
        parse_port_spec(&scan.tcp_ports, at("tcp_ports"))?;
        if scan.min_timeout_ms == 0 || scan.min_timeout_ms > scan.max_timeout_ms {
            return Err(InputError::new(
                at("min_timeout_ms"),
                "min_timeout_ms must be at least 1 and not above max_timeout_ms",
            ));
        }
        if scan.per_host_start == 0 || scan.per_host_start > scan.per_host_max {
            return Err(InputError::new(
                at("per_host_start"),
                "per_host_start must be at least 1 and not above per_host_max",
            ));
        }
        for (key, ms) in [
            ("initial_timeout_ms", scan.initial_timeout_ms),
            ("max_timeout_ms", scan.max_timeout_ms),
            ("banner_timeout_ms", scan.banner_timeout_ms),
        ] {
            if !(1..=MAX_TIMEOUT_MS).contains(&ms) {
                return Err(InputError::new(
                    at(key),
                    format!("{key} must be between 1 and {MAX_TIMEOUT_MS}"),
                ));
            }
        }
        if scan.per_host_max > 65_536 {
            return Err(InputError::new(
                at("per_host_max"),
                "per_host_max must be at most 65536",
            ));
        }
        if scan.max_addresses == 0 {
            return Err(InputError::new(
                at("max_addresses"),
                "max_addresses must be at least 1",
            ));
        }
        if scan.banner_bytes == 0 || scan.banner_bytes > 1 << 20 {
            return Err(InputError::new(
                at("banner_bytes"),
                "banner_bytes must be between 1 and 1048576",
            ));
        }
        for (key, rate, most) in [
            ("max_rate", scan.max_rate, MAX_RATE),
            (
                "service_rate_per_minute",
                scan.service_rate_per_minute,
                MAX_SERVICE_RATE,
            ),
        ] {
            if rate > most {
                return Err(InputError::new(
                    at(key),
                    format!("{key} must be at most {most}; 0 means no limit"),
                ));
            }
        }
        for (key, seconds) in [
            ("host_timeout_s", scan.host_timeout_s),
            ("max_duration_s", scan.max_duration_s),
        ] {
            if seconds > MAX_BUDGET_S {
                return Err(InputError::new(
                    at(key),
                    format!("{key} must be at most {MAX_BUDGET_S} (7 days); 0 means no budget"),
                ));
            }
        }
        for check in &self.checks.enabled {
            if CheckId::from_name(check).is_none() {
                return Err(InputError::new(
                    at(&format!("\"{check}\"")),
                    format!(
                        "unknown check {check:?}; known checks: {}",
                        CheckId::ALL.map(CheckId::name).join(", ")
                    ),
                ));
            }
        }
        // A policy key is written bare (`telnet = …`) or quoted (`"TLSv1" = …`).
        let at_key = |key: &str| {
            let quoted = format!("\"{key}\"");
            let bare = format!("{key} =");
            if text.contains(&quoted) {
                at(&quoted)
            } else {
                at(&bare)
            }
        };
        if let Some(policy) = &self.tls_policy {
            policy.validate().map_err(|(key, message)| {
                InputError::new(at_key(&key), format!("[tls_policy] {message}"))
            })?;
        }
        if let Some(policy) = &self.ssh_policy {
            policy.validate().map_err(|(key, message)| {
                InputError::new(at_key(&key), format!("[ssh_policy] {message}"))
            })?;
        }
        if let Err(message) = self.access.validate() {
            return Err(InputError::new(at("[access"), message));
        }
        if let Err(message) = self.brute_force.validate() {
            return Err(InputError::new(at("[brute_force"), message));
        }
        if let Err(message) = self.web.validate() {
            return Err(InputError::new(at("[web"), message));
        }
        if let Err(message) = self.udp.validate() {
            return Err(InputError::new(at("[udp]\n"), message));
        }
        let mut ids = BTreeSet::new();
        for criterion in &self.criteria {
            if !ids.insert(criterion.id.as_str()) {
                return Err(InputError::new(
                    at(&format!("id = \"{}\"", criterion.id)),
                    format!("criterion {} is defined twice", criterion.id),
                ));
            }
        }
        if self.criteria.is_empty() {
            return Err(InputError::new(
                Origin::file(path),
                "the profile defines no [[criteria]]; add the catalogue",
            ));
        }
        Ok(())
    }

    /// Every evidence field any criterion reads, for validating inventories.
    pub fn evidence_fields(&self) -> BTreeSet<&str> {
        self.criteria
            .iter()
            .flat_map(|c| c.evidence.iter().chain(&c.optional_evidence))
            .map(String::as_str)
            .collect()
    }

    /// Whether the named check is enabled.
    pub fn check_enabled(&self, check: CheckId) -> bool {
        self.checks.enabled.iter().any(|c| c == check.name())
    }

    /// The TLS policy in force: the profile's, else the built-in one.
    pub fn tls_policy(&self) -> TlsPolicy {
        match &self.tls_policy {
            Some(policy) => policy.clone(),
            None => Profile::builtin().tls_policy.unwrap_or_else(|| {
                panic!("the embedded profile has no [tls_policy]; checked by a unit test")
            }),
        }
    }

    /// The SSH policy in force: the profile's, else the built-in one.
    pub fn ssh_policy(&self) -> SshPolicy {
        match &self.ssh_policy {
            Some(policy) => policy.clone(),
            None => Profile::builtin().ssh_policy.unwrap_or_else(|| {
                panic!("the embedded profile has no [ssh_policy]; checked by a unit test")
            }),
        }
    }

    /// The default TCP port list (validated at load).
    pub fn default_ports(&self) -> Vec<u16> {
        parse_port_spec(&self.scan.tcp_ports, Origin::command_line()).unwrap_or_default()
    }
}

impl ScanSettings {
    /// Milliseconds as a [`Duration`].
    pub fn ms(value: u64) -> Duration {
        Duration::from_millis(value)
    }

    /// A budget in seconds, `None` for 0 (no budget).
    pub fn budget(seconds: u64) -> Option<Duration> {
        (seconds > 0).then(|| Duration::from_secs(seconds))
    }
}

/// Longest time budget a profile or the command line may set: 7 days.
pub const MAX_BUDGET_S: u64 = 7 * 24 * 3600;
/// Largest `max_rate` (new connections per second) a profile may set.
pub const MAX_RATE: u32 = 1_000_000;
/// Largest `service_rate_per_minute` a profile may set.
pub const MAX_SERVICE_RATE: u32 = 60_000;

/// Turns a TOML parse error into a one-line input error with file and line.
pub fn toml_error(text: &str, path: &Path, error: &toml::de::Error) -> InputError {
    let line = error
        .span()
        .map(|span| line_of_offset(text, span.start))
        .unwrap_or(1);
    let message = error.message().trim().replace('\n', "; ");
    InputError::new(Origin::file_line(path, line), message)
}

/// 1-based line of the first occurrence of `needle`, or 1.
fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map(|offset| line_of_offset(text, offset))
        .unwrap_or(1)
}

impl TlsPolicy {
    /// Refuses a key no table can use (a typo would drop its rating silently) and minimum
    /// sizes outside sense; the error names the offending key.
    fn validate(&self) -> Result<(), (String, String)> {
        let unknown = |table: &str, key: &str, known: String| {
            Err((
                key.to_string(),
                format!("{table}: unknown name {key:?}; known names: {known}"),
            ))
        };
        for key in self.versions.keys() {
            if !vocabulary::TLS_VERSIONS.contains(&key.as_str()) {
                return unknown("versions", key, vocabulary::TLS_VERSIONS.join(", "));
            }
        }
        for key in self.key_exchange.keys() {
            if !vocabulary::KEY_EXCHANGES.contains(&key.as_str()) {
                return unknown("key_exchange", key, vocabulary::KEY_EXCHANGES.join(", "));
            }
        }
        for key in self.ciphers.keys() {
            if !vocabulary::is_cipher_class(key) {
                let known = "null, des, 3des, rc2, rc4, idea, seed, chacha20-poly1305, aegis, or aes/aria/camellia/sm4 with -cbc, -gcm, -ccm";
                return unknown("ciphers", key, known.to_string());
            }
        }
        for key in self.groups.keys() {
            if !vocabulary::is_tls_group(key) {
                let known = format!(
                    "{} (or 0x followed by 4 hex digits)",
                    vocabulary::TLS_GROUPS.join(", ")
                );
                return unknown("groups", key, known);
            }
        }
        for key in self.signature_hashes.keys() {
            if !vocabulary::SIGNATURE_HASHES.contains(&key.as_str()) {
                return unknown(
                    "signature_hashes",
                    key,
                    vocabulary::SIGNATURE_HASHES.join(", "),
                );
            }
        }
        for key in self.plaintext_channels.keys() {
            if !vocabulary::PLAINTEXT_CHANNELS.contains(&key.as_str()) {
                return unknown(
                    "plaintext_channels",
                    key,
                    vocabulary::PLAINTEXT_CHANNELS.join(", "),
                );
            }
        }
        for (key, bits, max) in [
            ("dhe_min_bits", self.dhe_min_bits, 16_384),
            ("rsa_min_bits", self.rsa_min_bits, 16_384),
            ("ec_min_bits", self.ec_min_bits, 1_024),
        ] {
            if bits == 0 || bits > max {
                return Err((
                    key.to_string(),
                    format!("{key} must be between 1 and {max}"),
                ));
            }
        }
        Ok(())
    }
}

impl SshPolicy {
    /// Refuses algorithm keys that cannot be SSH algorithm names and a key size outside sense.
    fn validate(&self) -> Result<(), (String, String)> {
        if let Some(bad) = self
            .algorithms
            .keys()
            .find(|k| !vocabulary::is_ssh_algorithm_name(k))
        {
            return Err((
                bad.clone(),
                format!("algorithms: {bad:?} is not an SSH algorithm name (lowercase, no spaces or commas, at most 64 characters)"),
            ));
        }
        if self.rsa_min_bits == 0 || self.rsa_min_bits > 16_384 {
            return Err((
                "rsa_min_bits".to_string(),
                "rsa_min_bits must be between 1 and 16384".to_string(),
            ));
        }
        Ok(())
    }
}

/// Largest profile file read (1 MiB; the built-in one is about 30 kB).
pub const MAX_PROFILE_BYTES: u64 = 1 << 20;

/// Longest connect or read timeout a profile may set: 2 minutes.
pub const MAX_TIMEOUT_MS: u64 = 120_000;

/// Checks a section's connect and read timeouts: each between 1 ms and [`MAX_TIMEOUT_MS`].
pub(crate) fn check_timeouts(section: &str, connect_ms: u64, read_ms: u64) -> Result<(), String> {
    if [connect_ms, read_ms]
        .iter()
        .all(|ms| (1..=MAX_TIMEOUT_MS).contains(ms))
    {
        Ok(())
    } else {
        Err(format!(
            "[{section}] connect_timeout_ms and read_timeout_ms must be between 1 and {MAX_TIMEOUT_MS}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_profile_has_all_sixteen_criteria() {
        let profile = Profile::parse(BUILTIN_TEXT, Path::new("p.toml")).expect("valid");
        let ids: Vec<_> = profile.criteria.iter().map(|c| c.id.clone()).collect();
        let expected: Vec<_> = (1..=16).map(|n| format!("S1.1-{n:02}")).collect();
        assert_eq!(ids, expected);
        assert!(profile.default_ports().contains(&2323));
        assert_eq!(profile.default_ports().len(), 27);
        let tls = profile.tls_policy.expect("[tls_policy]");
        assert_eq!(tls.versions["TLSv1"], Rating::Fail);
        assert_eq!(tls.ciphers["3des"], Rating::Fail);
        assert!(profile.ssh_policy.is_some());
    }

    #[test]
    fn unknown_key_is_an_error_with_its_line() {
        let text = BUILTIN_TEXT.replace("intrusive = true", "intrusive = true\nintrusiv = false");
        let err = Profile::parse(&text, Path::new("custom.toml")).expect_err("unknown key");
        let expected_line = line_of(&text, "intrusiv = false");
        assert_eq!(
            err.origin,
            Origin::file_line(Path::new("custom.toml"), expected_line)
        );
        assert!(err.message.contains("intrusiv"), "{}", err.message);
    }

    /// A typo in a policy table used to load and silently drop that rating.
    #[test]
    fn unknown_policy_keys_are_errors_with_their_line() {
        for (from, to, name) in [
            ("telnet = \"fail\", ftp", "telent = \"fail\", ftp", "telent"),
            (
                "\"TLSv1.1\" = \"fail\"",
                "\"TLSv1.l\" = \"fail\"",
                "TLSv1.l",
            ),
            (
                "\"aes-gcm\" = \"pass\"",
                "\"aes_gcm\" = \"pass\"",
                "aes_gcm",
            ),
            ("x448 = \"pass\"", "x44B = \"pass\"", "x44B"),
            (
                "\"ssh-dss\" = \"fail\"",
                "\"ssh dss\" = \"fail\"",
                "ssh dss",
            ),
        ] {
            assert!(BUILTIN_TEXT.contains(from), "{from}");
            let text = BUILTIN_TEXT.replacen(from, to, 1);
            let err = Profile::parse(&text, Path::new("p.toml")).expect_err(name);
            assert!(err.message.contains(name), "{}", err.message);
            let line = line_of(&text, name);
            assert_eq!(err.origin.line, Some(line), "{name}: {err}");
        }
    }

    #[test]
    fn absurd_scan_values_are_errors() {
        for (from, to, key) in [
            (
                "banner_timeout_ms = ",
                "banner_timeout_ms = 999999999999 #",
                "banner_timeout_ms",
            ),
            ("max_addresses = ", "max_addresses = 0 #", "max_addresses"),
        ] {
            assert!(BUILTIN_TEXT.contains(from), "{from}");
            let text = BUILTIN_TEXT.replacen(from, to, 1);
            let err = Profile::parse(&text, Path::new("p.toml")).expect_err(key);
            assert!(err.message.contains(key), "{}", err.message);
        }
    }

    #[test]
    fn wrong_type_is_an_error_with_its_line() {
        let text = BUILTIN_TEXT.replace("per_host_start = 64", "per_host_start = \"many\"");
        let err = Profile::parse(&text, Path::new("custom.toml")).expect_err("wrong type");
        assert_eq!(err.origin.line, Some(line_of(&text, "per_host_start")));
        assert!(err.to_string().starts_with("custom.toml:"), "{err}");
    }

    #[test]
    fn bad_port_list_names_the_line() {
        let text = BUILTIN_TEXT.replace("tcp_ports = \"21,", "tcp_ports = \"0,");
        let err = Profile::parse(&text, Path::new("custom.toml")).expect_err("port 0");
        assert_eq!(err.origin.line, Some(line_of(&text, "tcp_ports")));
    }

    #[test]
    fn unknown_check_is_refused() {
        let text = BUILTIN_TEXT.replace("enabled = [\"interfaces\"", "enabled = [\"interfacez\"");
        let err = Profile::parse(&text, Path::new("custom.toml")).expect_err("unknown check");
        assert!(err.message.contains("interfacez"), "{}", err.message);
    }

    #[test]
    fn duplicate_criterion_is_refused() {
        let text = BUILTIN_TEXT.replace("id = \"S1.1-15\"", "id = \"S1.1-14\"");
        let err = Profile::parse(&text, Path::new("custom.toml")).expect_err("duplicate");
        assert!(err.message.contains("S1.1-14"), "{}", err.message);
    }

    #[test]
    fn bad_web_path_names_the_web_section() {
        let text =
            BUILTIN_TEXT.replace("update_paths = [\"/update\"", "update_paths = [\"update\"");
        let err = Profile::parse(&text, Path::new("custom.toml")).expect_err("bad path");
        assert_eq!(err.origin.line, Some(line_of(&text, "[web]")));
        assert!(err.message.contains("\"update\""), "{}", err.message);
    }

    #[test]
    fn missing_file_is_a_one_line_error() {
        let err = Profile::load("/nonexistent/profile.toml").expect_err("missing");
        assert!(err.message.contains("cannot read profile"));
    }
}

#[cfg(test)]
mod timeout_tests {
    use super::*;

    #[test]
    fn timeouts_outside_one_ms_to_two_minutes_are_refused() {
        assert!(check_timeouts("access", 3000, 5000).is_ok());
        assert!(check_timeouts("access", 0, 5000).is_err());
        let huge = check_timeouts("brute_force", 3000, u64::MAX).unwrap_err();
        assert!(huge.contains("[brute_force]"), "{huge}");
    }
}
