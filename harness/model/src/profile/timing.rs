//! nmap-style timing presets `-T0` … `-T5`, mapped onto the profile's `[scan]` timing keys.
//!
//! Precedence, strongest first: command-line flags (`--host-timeout`, `--max-hosts`); a key
//! the `--profile FILE` sets in its `[scan]` table; the preset; the built-in profile.

use std::collections::BTreeSet;

use super::ScanSettings;

/// A timing preset, as nmap names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TimingPreset {
    /// `-T0`: one connect at a time, one device at a time, long timeouts.
    Paranoid,
    /// `-T1`: a few connects per device, one device at a time.
    Sneaky,
    /// `-T2`: few connects per device, four devices at a time.
    Polite,
    /// `-T3`: the built-in profile's own values.
    Normal,
    /// `-T4`: shorter timeouts and wider windows, for a fast, reliable LAN.
    Aggressive,
    /// `-T5`: short timeouts, the widest windows and a 15 min budget per device.
    Insane,
}

/// The settings a preset stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimingValues {
    /// `[scan] initial_timeout_ms`.
    pub initial_timeout_ms: u64,
    /// `[scan] min_timeout_ms`.
    pub min_timeout_ms: u64,
    /// `[scan] max_timeout_ms`.
    pub max_timeout_ms: u64,
    /// `[scan] per_host_start`.
    pub per_host_start: usize,
    /// `[scan] per_host_max`.
    pub per_host_max: usize,
    /// `[scan] banner_timeout_ms`.
    pub banner_timeout_ms: u64,
    /// `[scan] host_timeout_s`; `None` leaves the profile's.
    pub host_timeout_s: Option<u64>,
    /// Devices worked on at once (`--max-hosts`); `None`: all of them.
    pub max_hosts: Option<usize>,
}

impl TimingPreset {
    /// Every preset, `-T0` first.
    pub const ALL: [TimingPreset; 6] = [
        TimingPreset::Paranoid,
        TimingPreset::Sneaky,
        TimingPreset::Polite,
        TimingPreset::Normal,
        TimingPreset::Aggressive,
        TimingPreset::Insane,
    ];

    /// Reads `0`…`5` or a name (`paranoid`, `sneaky`, `polite`, `normal`, `aggressive`,
    /// `insane`).
    pub fn parse(text: &str) -> Option<TimingPreset> {
        let text = text.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|p| text == p.level().to_string() || text == p.name())
    }

    /// The number nmap gives it (`-T<level>`).
    pub fn level(self) -> u8 {
        self as u8
    }

    /// nmap's name for it.
    pub fn name(self) -> &'static str {
        match self {
            TimingPreset::Paranoid => "paranoid",
            TimingPreset::Sneaky => "sneaky",
            TimingPreset::Polite => "polite",
            TimingPreset::Normal => "normal",
            TimingPreset::Aggressive => "aggressive",
            TimingPreset::Insane => "insane",
        }
    }

    /// The settings it stands for (the table in `jcstar scan --help` and docs/scale.md).
    pub fn values(self) -> TimingValues {
        let v =
            |(initial, min, max), (start, most), banner, host_timeout_s, max_hosts| TimingValues {
                initial_timeout_ms: initial,
                min_timeout_ms: min,
                max_timeout_ms: max,
                per_host_start: start,
                per_host_max: most,
                banner_timeout_ms: banner,
                host_timeout_s,
                max_hosts,
            };
        match self {
            TimingPreset::Paranoid => v((5_000, 1_000, 10_000), (1, 1), 10_000, None, Some(1)),
            TimingPreset::Sneaky => v((3_000, 500, 5_000), (1, 4), 5_000, None, Some(1)),
            TimingPreset::Polite => v((1_500, 200, 3_000), (4, 64), 3_000, None, Some(4)),
            TimingPreset::Normal => v((1_000, 100, 1_500), (64, 1_024), 1_500, None, None),
            TimingPreset::Aggressive => v((500, 100, 1_250), (128, 2_048), 1_500, None, None),
            TimingPreset::Insane => v((250, 50, 300), (256, 4_096), 750, Some(900), None),
        }
    }

    /// Writes the preset into `scan`, except the keys named in `kept` (those a profile file
    /// sets itself); returns the preset's devices-at-once bound.
    pub fn apply(self, scan: &mut ScanSettings, kept: &BTreeSet<String>) -> Option<usize> {
        let values = self.values();
        let free = |key: &str| !kept.contains(key);
        let set = |key: &str, slot: &mut u64, value: u64| {
            if free(key) {
                *slot = value;
            }
        };
        set(
            "initial_timeout_ms",
            &mut scan.initial_timeout_ms,
            values.initial_timeout_ms,
        );
        set(
            "min_timeout_ms",
            &mut scan.min_timeout_ms,
            values.min_timeout_ms,
        );
        set(
            "max_timeout_ms",
            &mut scan.max_timeout_ms,
            values.max_timeout_ms,
        );
        set(
            "banner_timeout_ms",
            &mut scan.banner_timeout_ms,
            values.banner_timeout_ms,
        );
        if let Some(seconds) = values.host_timeout_s {
            set("host_timeout_s", &mut scan.host_timeout_s, seconds);
        }
        if free("per_host_start") {
            scan.per_host_start = values.per_host_start;
        }
        if free("per_host_max") {
            scan.per_host_max = values.per_host_max;
        }
        // A profile's own window bound wins; keep the start inside it.
        scan.per_host_start = scan.per_host_start.min(scan.per_host_max).max(1);
        if scan.min_timeout_ms > scan.max_timeout_ms {
            scan.min_timeout_ms = scan.max_timeout_ms;
        }
        values.max_hosts
    }
}

pub(super) fn default_initial_timeout_ms() -> u64 {
    TimingPreset::Normal.values().initial_timeout_ms
}
pub(super) fn default_min_timeout_ms() -> u64 {
    TimingPreset::Normal.values().min_timeout_ms
}
pub(super) fn default_max_timeout_ms() -> u64 {
    TimingPreset::Normal.values().max_timeout_ms
}
pub(super) fn default_per_host_start() -> usize {
    TimingPreset::Normal.values().per_host_start
}
pub(super) fn default_per_host_max() -> usize {
    TimingPreset::Normal.values().per_host_max
}
pub(super) fn default_banner_timeout_ms() -> u64 {
    TimingPreset::Normal.values().banner_timeout_ms
}

impl std::fmt::Display for TimingPreset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "T{} ({})", self.level(), self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profile;

    #[test]
    fn normal_is_the_built_in_profile_and_the_others_order_by_speed() {
        let builtin = Profile::builtin().scan;
        let mut scan = builtin.clone();
        assert_eq!(
            TimingPreset::Normal.apply(&mut scan, &BTreeSet::new()),
            None
        );
        assert_eq!(
            (
                scan.initial_timeout_ms,
                scan.min_timeout_ms,
                scan.max_timeout_ms,
                scan.per_host_start,
                scan.per_host_max,
                scan.banner_timeout_ms,
                scan.host_timeout_s
            ),
            (
                builtin.initial_timeout_ms,
                builtin.min_timeout_ms,
                builtin.max_timeout_ms,
                builtin.per_host_start,
                builtin.per_host_max,
                builtin.banner_timeout_ms,
                builtin.host_timeout_s
            )
        );
        for pair in TimingPreset::ALL.windows(2) {
            let (slow, fast) = (pair[0].values(), pair[1].values());
            assert!(
                fast.initial_timeout_ms <= slow.initial_timeout_ms,
                "{pair:?}"
            );
            assert!(fast.max_timeout_ms <= slow.max_timeout_ms, "{pair:?}");
            assert!(fast.per_host_max >= slow.per_host_max, "{pair:?}");
        }
    }

    #[test]
    fn every_preset_passes_the_profile_validation() {
        for preset in TimingPreset::ALL {
            let v = preset.values();
            assert!(v.min_timeout_ms >= 1 && v.min_timeout_ms <= v.max_timeout_ms);
            assert!(v.max_timeout_ms <= super::super::MAX_TIMEOUT_MS);
            assert!(v.per_host_start >= 1 && v.per_host_start <= v.per_host_max);
            assert!(v.per_host_max <= 65_536);
        }
    }

    #[test]
    fn keys_a_profile_sets_win_over_the_preset() {
        let mut scan = Profile::builtin().scan;
        let kept: BTreeSet<String> = ["max_timeout_ms".to_string(), "per_host_max".to_string()]
            .into_iter()
            .collect();
        scan.max_timeout_ms = 4_000;
        scan.per_host_max = 100;
        let max_hosts = TimingPreset::Insane.apply(&mut scan, &kept);
        assert_eq!(max_hosts, None);
        assert_eq!(scan.max_timeout_ms, 4_000);
        assert_eq!(scan.per_host_max, 100);
        assert_eq!(
            scan.per_host_start, 100,
            "start kept inside the profile's bound"
        );
        assert_eq!(scan.initial_timeout_ms, 250);
        assert_eq!(scan.host_timeout_s, 900);
        assert_eq!(TimingPreset::parse("4"), Some(TimingPreset::Aggressive));
        assert_eq!(TimingPreset::parse("Insane"), Some(TimingPreset::Insane));
        assert_eq!(TimingPreset::parse("6"), None);
    }
}
