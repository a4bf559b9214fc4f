//! The profile's `[access]` section: which credential lists apply to which protocol, how hard
//! to try, and the paths probed without credentials.

use serde::{Deserialize, Serialize};

/// Settings of the access-control and default-credential checks (S1.1-01, S1.1-02).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessSettings {
    /// Connections to one service that may try credentials at the same time.
    pub concurrency: usize,
    /// Most credential attempts on one service.
    pub max_attempts: usize,
    /// Deadline of each connect (and TLS handshake), in milliseconds.
    pub connect_timeout_ms: u64,
    /// Deadline of each wait for an answer, in milliseconds.
    pub read_timeout_ms: u64,
    /// Most bytes kept from one answer.
    pub max_response_bytes: usize,
    /// HTTP admin and configuration paths requested without credentials.
    pub http_paths: Vec<String>,
    /// RTSP stream paths DESCRIBEd without credentials.
    pub rtsp_paths: Vec<String>,
    /// UDP port of the SNMP agent (SNMP is not in the TCP scan).
    pub snmp_port: u16,
    /// Guess on a service the inventory gives an operator credential for. Off by default: the
    /// operator's account is what the brute-force check (S1.1-04) measures, and guessing
    /// there could lock it or skew that measurement.
    pub guess_where_operator_credential: bool,
    /// Credential lists (names under `profiles/credentials/`) per protocol.
    pub lists: CredentialLists,
}

/// Which credential lists apply to which protocol.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[allow(missing_docs)]
pub struct CredentialLists {
    pub telnet: Vec<String>,
    pub ssh: Vec<String>,
    pub http: Vec<String>,
    pub rtsp: Vec<String>,
    pub ftp: Vec<String>,
    pub mqtt: Vec<String>,
    pub snmp: Vec<String>,
    pub vnc: Vec<String>,
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Default for CredentialLists {
    fn default() -> Self {
        let both = names(&["mirai-telnet", "vendor-defaults"]);
        CredentialLists {
            telnet: both.clone(),
            ssh: both.clone(),
            http: names(&["vendor-defaults", "mirai-telnet"]),
            rtsp: names(&["vendor-defaults"]),
            ftp: both,
            mqtt: names(&["vendor-defaults"]),
            snmp: names(&["snmp-communities"]),
            vnc: names(&["vnc-passwords"]),
        }
    }
}

impl Default for AccessSettings {
    fn default() -> Self {
        AccessSettings {
            concurrency: 4,
            max_attempts: 100,
            connect_timeout_ms: 3000,
            read_timeout_ms: 5000,
            max_response_bytes: 64 * 1024,
            http_paths: names(&[
                "/admin",
                "/admin/",
                "/cgi-bin/config",
                "/config",
                "/status.html",
            ]),
            rtsp_paths: names(&["/live", "/", "/stream1", "/h264"]),
            snmp_port: 161,
            guess_where_operator_credential: false,
            lists: CredentialLists::default(),
        }
    }
}

/// The credential lists shipped with jcstar, by name.
const BUILTIN_LISTS: &[(&str, &str)] = &[
    (
        "mirai-telnet",
        include_str!("../../../../profiles/credentials/mirai-telnet.txt"),
    ),
    (
        "vendor-defaults",
        include_str!("../../../../profiles/credentials/vendor-defaults.txt"),
    ),
    (
        "snmp-communities",
        include_str!("../../../../profiles/credentials/snmp-communities.txt"),
    ),
    (
        "vnc-passwords",
        include_str!("../../../../profiles/credentials/vnc-passwords.txt"),
    ),
];

/// A list's (user, password) pairs; one-column lists give an empty user. `None` if unknown.
pub fn list(name: &str) -> Option<Vec<(String, String)>> {
    let (_, text) = BUILTIN_LISTS.iter().find(|(n, _)| *n == name)?;
    Some(
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let unquote = |s: &str| {
                    if s == "\"\"" {
                        String::new()
                    } else {
                        s.to_string()
                    }
                };
                match l.split_once(char::is_whitespace) {
                    Some((user, password)) => (unquote(user), unquote(password.trim())),
                    None => (String::new(), unquote(l)),
                }
            })
            .collect(),
    )
}

/// The pairs of several lists, in order, without duplicates.
pub fn pairs(lists: &[String]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for name in lists {
        for pair in list(name).unwrap_or_default() {
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    out
}

impl AccessSettings {
    /// Checks ranges and list names; the error names the offending key.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.concurrency == 0 || self.concurrency > 64 {
            return Err("access.concurrency must be between 1 and 64".into());
        }
        if self.max_attempts == 0 {
            return Err("access.max_attempts must be at least 1".into());
        }
        super::check_timeouts("access", self.connect_timeout_ms, self.read_timeout_ms)?;
        if self.max_response_bytes < 512 || self.max_response_bytes > 1 << 20 {
            return Err("access.max_response_bytes must be between 512 and 1048576".into());
        }
        let l = &self.lists;
        for name in [
            &l.telnet, &l.ssh, &l.http, &l.rtsp, &l.ftp, &l.mqtt, &l.snmp, &l.vnc,
        ]
        .into_iter()
        .flatten()
        {
            if list(name).is_none() {
                let known: Vec<&str> = BUILTIN_LISTS.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "unknown credential list {name:?} in [access.lists]; known lists: {}",
                    known.join(", ")
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirai_list_has_its_62_pairs() {
        let mirai = list("mirai-telnet").expect("built in");
        assert_eq!(mirai.len(), 62);
        assert_eq!(mirai[0], ("root".to_string(), "xc3511".to_string()));
        assert!(mirai.contains(&("root".to_string(), String::new())));
        assert_eq!(
            pairs(&["mirai-telnet".to_string()]).len(),
            60,
            "two duplicates"
        );
        assert_eq!(
            list("snmp-communities").expect("built in")[0],
            (String::new(), "public".into())
        );
    }

    #[test]
    fn unknown_list_is_refused() {
        let mut s = AccessSettings::default();
        s.lists.ssh.push("nmap-top".into());
        assert!(s.validate().expect_err("unknown").contains("nmap-top"));
        assert!(AccessSettings::default().validate().is_ok());
    }
}
