//! The checks a profile can enable, by the names `[checks] enabled` uses.

use std::fmt;

/// A check jcstar can run; `[checks] enabled` names them in snake case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CheckId {
    /// Open ports against the declared services (S1.1-13); passive.
    Interfaces,
    /// Vendor evidence from the inventory for the document-evaluated criteria; passive.
    DeclaredEvidence,
    /// Login surfaces asked for access without credentials (S1.1-01).
    UnauthenticatedAccess,
    /// Known default credentials on every login surface (S1.1-02); intrusive.
    DefaultCredentials,
    /// TLS/SSH configuration and plaintext channels (S1.1-12), key reuse (S1.1-11).
    Crypto,
    /// security.txt and firmware-update pages (S1.1-05, S1.1-07, S1.1-01).
    WebInformation,
    /// Model and software components the network shows (S1.1-10, S1.1-06).
    Identity,
    /// UDP IoT services (S1.1-13, S1.1-01).
    UdpServices,
    /// Wrong passwords timed on every login surface (S1.1-04); intrusive.
    BruteForce,
}

impl CheckId {
    /// Every check, passive ones first, active ones in run order.
    pub const ALL: [CheckId; 9] = [
        CheckId::Interfaces,
        CheckId::DeclaredEvidence,
        CheckId::UnauthenticatedAccess,
        CheckId::DefaultCredentials,
        CheckId::Crypto,
        CheckId::WebInformation,
        CheckId::Identity,
        CheckId::UdpServices,
        CheckId::BruteForce,
    ];

    /// The name `[checks] enabled` uses.
    pub fn name(self) -> &'static str {
        match self {
            CheckId::Interfaces => "interfaces",
            CheckId::DeclaredEvidence => "declared_evidence",
            CheckId::UnauthenticatedAccess => "unauthenticated_access",
            CheckId::DefaultCredentials => "default_credentials",
            CheckId::Crypto => "crypto",
            CheckId::WebInformation => "web_information",
            CheckId::Identity => "identity",
            CheckId::UdpServices => "udp_services",
            CheckId::BruteForce => "brute_force",
        }
    }

    /// The check a `[checks] enabled` name stands for.
    pub fn from_name(name: &str) -> Option<CheckId> {
        CheckId::ALL.into_iter().find(|check| check.name() == name)
    }

    /// Whether the check opens connections of its own (active) rather than reading the port scan
    /// and the inventory (passive).
    pub fn is_active(self) -> bool {
        !matches!(self, CheckId::Interfaces | CheckId::DeclaredEvidence)
    }

    /// The criteria the check bears on (the declared-evidence check bears on those of the
    /// profile's catalogue that name evidence fields).
    pub fn criteria(self) -> &'static [&'static str] {
        match self {
            CheckId::Interfaces => &["S1.1-13"],
            CheckId::DeclaredEvidence => &[],
            CheckId::UnauthenticatedAccess => &["S1.1-01"],
            CheckId::DefaultCredentials => &["S1.1-02"],
            CheckId::Crypto => &["S1.1-12", "S1.1-11"],
            CheckId::WebInformation => &["S1.1-05", "S1.1-07", "S1.1-01"],
            CheckId::Identity => &["S1.1-10", "S1.1-06"],
            CheckId::UdpServices => &["S1.1-13", "S1.1-01"],
            CheckId::BruteForce => &["S1.1-04"],
        }
    }
}

impl fmt::Display for CheckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for check in CheckId::ALL {
            assert_eq!(CheckId::from_name(check.name()), Some(check));
        }
        assert_eq!(CheckId::from_name("telent"), None);
    }
}
