//! Checks: each turns what was observed about one device into findings for ★1 criteria.

pub mod declared;
pub mod interfaces;

use chrono::NaiveDate;

use crate::device::Device;
use crate::model::Finding;
use crate::profile::Profile;
use crate::scan::HostScan;

/// Everything the checks may read about one device.
pub struct Observation<'a> {
    /// The device and its declarations.
    pub device: &'a Device,
    /// Its TCP scan; `None` when the run was interrupted before it finished.
    pub scan: Option<&'a HostScan>,
    /// The TCP ports that were probed.
    pub scanned_ports: &'a [u16],
    /// Today's date, for date-bound evidence.
    pub today: NaiveDate,
}

/// Runs every check the profile enables and returns their findings.
pub fn run_all(observation: &Observation<'_>, profile: &Profile) -> Vec<Finding> {
    let mut findings = Vec::new();
    if profile.check_enabled("interfaces") {
        findings.extend(interfaces::check(observation, profile));
    }
    if profile.check_enabled("declared_evidence") {
        findings.extend(declared::check(
            observation.device,
            profile,
            observation.today,
        ));
    }
    findings
}
