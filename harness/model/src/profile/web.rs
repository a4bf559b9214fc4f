//! The profile's `[web]` section: where security.txt and firmware-update pages are looked for.

use serde::{Deserialize, Serialize};

/// The profile's `[web]` section.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSettings {
    /// Deadline of each connect (and TLS handshake), in milliseconds.
    pub connect_timeout_ms: u64,
    /// Deadline of each response, in milliseconds.
    pub read_timeout_ms: u64,
    /// Most bytes kept from one response.
    pub max_response_bytes: usize,
    /// Where security.txt is looked for, first found wins.
    pub security_txt_paths: Vec<String>,
    /// Firmware-update pages that must not answer without authentication.
    pub update_paths: Vec<String>,
    /// Words of which one must appear on a page (with a form) for it to count as an update page.
    pub update_markers: Vec<String>,
    /// Response headers whose product tokens name software components.
    pub component_headers: Vec<String>,
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            connect_timeout_ms: 3000,
            read_timeout_ms: 5000,
            max_response_bytes: 64 * 1024,
            security_txt_paths: strings(&["/.well-known/security.txt", "/security.txt"]),
            update_paths: strings(&[
                "/update",
                "/upgrade",
                "/firmware",
                "/cgi-bin/upgrade.cgi",
                "/system/upgrade",
            ]),
            update_markers: strings(&["firmware", "upgrade", "update"]),
            component_headers: strings(&["Server", "X-Powered-By"]),
        }
    }
}

impl WebSettings {
    /// Checks the values a probe depends on; the message names the offending key.
    pub(crate) fn validate(&self) -> Result<(), String> {
        super::check_timeouts("web", self.connect_timeout_ms, self.read_timeout_ms)?;
        if !(512..=1 << 20).contains(&self.max_response_bytes) {
            return Err("[web] max_response_bytes must be between 512 and 1048576".into());
        }
        let paths = self.security_txt_paths.iter().chain(&self.update_paths);
        if let Some(bad) = paths.clone().find(|p| !p.starts_with('/')) {
            return Err(format!("[web] path {bad:?} must start with /"));
        }
        if paths.count() > 64 {
            return Err("[web] at most 64 paths in security_txt_paths and update_paths".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_settings_validate_and_bad_paths_are_named() {
        assert!(WebSettings::default().validate().is_ok());
        let bad = WebSettings {
            update_paths: vec!["update".into()],
            ..WebSettings::default()
        };
        assert!(bad.validate().expect_err("refused").contains("\"update\""));
    }
}
