//! The one interface every check implements, and the order the checks run in.
//!
//! A check reads one device's input — the passive stage's observation, or the active stage's
//! target and run context — and adds what it found to [`Found`]: findings, UDP ports, and
//! sightings that later checks (identity) judge together.

use std::future::Future;
use std::pin::Pin;

use jcstar_model::profile::{CheckId, Profile};

use crate::{
    access, bruteforce, crypto, declared, identity, interfaces, udp, web, ActiveContext,
    ActiveOutcome, ActiveTarget, Observation,
};

/// What the checks found on one device so far.
pub type Found = ActiveOutcome;

/// A check's work on one device, boxed so every check fits one registry.
pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// One ★1 check, run on one device at a time with the input of its stage.
pub trait Check<Input: ?Sized>: Sync {
    /// The profile switches that enable it; it runs when any of them is on.
    fn ids(&self) -> &'static [CheckId];

    /// Runs on one device, adding to `found` what it finds.
    fn run<'a>(&'a self, input: &'a Input, found: &'a mut Found) -> CheckFuture<'a>;

    /// Whether it only gathers: it reads the device's input, never what other checks found,
    /// and sends nothing that could change another check's answer (no login attempts). Such
    /// checks next to each other run at once, so one's waits for silence do not add to the
    /// others'.
    fn gathers_only(&self) -> bool {
        false
    }
}

/// The passive stage's input: what the scan and the inventory say, and the profile.
pub struct PassiveInput<'a> {
    /// The device, its scan and the scanned ports.
    pub observation: &'a Observation<'a>,
    /// The profile in force.
    pub profile: &'a Profile,
}

/// The active stage's input: the device with its finished scan, and what the run allows.
pub struct ActiveInput<'a> {
    /// The device and its scan.
    pub target: &'a ActiveTarget,
    /// The profile, the intrusive switch and the run's other devices.
    pub context: &'a ActiveContext,
}

/// A passive check, for any lifetime of its input.
pub type PassiveCheck = dyn for<'o> Check<PassiveInput<'o>>;
/// An active check, for any lifetime of its input.
pub type ActiveCheck = dyn for<'o> Check<ActiveInput<'o>>;

/// The passive checks, in the order they run.
pub const PASSIVE: [&PassiveCheck; 2] = [&Interfaces, &Declared];

/// The active checks, in the order they run: those that gather sightings (crypto, UDP, web,
/// at once) before the identity check that judges them; the intrusive ones last, one at a
/// time, brute force at the very end since it may lock accounts.
pub const ACTIVE: [&ActiveCheck; 6] = [&Crypto, &Udp, &Web, &Identity, &Access, &BruteForce];

/// S1.1-13/S1.1-16: open ports, undeclared services, debug consoles.
struct Interfaces;
/// Vendor evidence the inventory declares (documents, dates, contact points).
struct Declared;
/// S1.1-12 and friends: TLS, SSH, plaintext channels, key reuse inputs.
struct Crypto;
/// S1.1-13/S1.1-01 on UDP; UPnP, SNMP, mDNS and WS-Discovery sightings.
struct Udp;
/// S1.1-05 security.txt, S1.1-07/S1.1-01 open update pages; HTTP sightings.
struct Web;
/// S1.1-10, S1.1-06: every sighting gathered before it, plus the scan banners.
struct Identity;
/// S1.1-01: unauthenticated access and default credentials.
struct Access;
/// S1.1-04: brute-force resistance (intrusive).
struct BruteForce;

impl<'o> Check<PassiveInput<'o>> for Interfaces {
    fn ids(&self) -> &'static [CheckId] {
        &[CheckId::Interfaces]
    }

    fn run<'a>(&'a self, input: &'a PassiveInput<'o>, found: &'a mut Found) -> CheckFuture<'a> {
        found
            .findings
            .extend(interfaces::check(input.observation, input.profile));
        Box::pin(std::future::ready(()))
    }
}

impl<'o> Check<PassiveInput<'o>> for Declared {
    fn ids(&self) -> &'static [CheckId] {
        &[CheckId::DeclaredEvidence]
    }

    fn run<'a>(&'a self, input: &'a PassiveInput<'o>, found: &'a mut Found) -> CheckFuture<'a> {
        let observation = input.observation;
        found.findings.extend(declared::check(
            observation.device,
            input.profile,
            observation.today,
        ));
        Box::pin(std::future::ready(()))
    }
}

impl<'o> Check<ActiveInput<'o>> for Crypto {
    fn gathers_only(&self) -> bool {
        true
    }

    fn ids(&self) -> &'static [CheckId] {
        &[CheckId::Crypto]
    }

    fn run<'a>(&'a self, input: &'a ActiveInput<'o>, found: &'a mut Found) -> CheckFuture<'a> {
        Box::pin(async move {
            let findings = crypto::check(input.target, input.context).await;
            found.findings.extend(findings);
        })
    }
}

impl<'o> Check<ActiveInput<'o>> for Udp {
    fn gathers_only(&self) -> bool {
        true
    }

    fn ids(&self) -> &'static [CheckId] {
        &[CheckId::UdpServices]
    }

    fn run<'a>(&'a self, input: &'a ActiveInput<'o>, found: &'a mut Found) -> CheckFuture<'a> {
        Box::pin(async move {
            let Found {
                findings,
                udp_ports,
                sightings,
                ..
            } = found;
            udp::check(input.target, input.context, findings, udp_ports, sightings).await;
        })
    }
}

impl<'o> Check<ActiveInput<'o>> for Web {
    fn gathers_only(&self) -> bool {
        true
    }

    fn ids(&self) -> &'static [CheckId] {
        &[CheckId::WebInformation]
    }

    fn run<'a>(&'a self, input: &'a ActiveInput<'o>, found: &'a mut Found) -> CheckFuture<'a> {
        Box::pin(async move {
            let (findings, sightings) = web::check(input.target, input.context).await;
            found.findings.extend(findings);
            found.sightings.extend(sightings);
        })
    }
}

impl<'o> Check<ActiveInput<'o>> for Identity {
    fn ids(&self) -> &'static [CheckId] {
        &[CheckId::Identity]
    }

    fn run<'a>(&'a self, input: &'a ActiveInput<'o>, found: &'a mut Found) -> CheckFuture<'a> {
        found
            .sightings
            .extend(identity::banner_components(&input.target.scan));
        let judged = identity::check(&input.target.device, &found.sightings);
        found.findings.extend(judged);
        Box::pin(std::future::ready(()))
    }
}

impl<'o> Check<ActiveInput<'o>> for Access {
    fn ids(&self) -> &'static [CheckId] {
        &[CheckId::UnauthenticatedAccess, CheckId::DefaultCredentials]
    }

    fn run<'a>(&'a self, input: &'a ActiveInput<'o>, found: &'a mut Found) -> CheckFuture<'a> {
        Box::pin(async move {
            let enabled = |check| input.context.profile.check_enabled(check);
            let unauthenticated = enabled(CheckId::UnauthenticatedAccess);
            let credentials = enabled(CheckId::DefaultCredentials);
            let findings = access::check(input.target, input.context).await;
            // One probe pass serves both switches; keep what the profile asked for.
            found.findings.extend(findings.into_iter().filter(|f| {
                (unauthenticated && f.check == access::UNAUTHENTICATED)
                    || (credentials && f.check == access::DEFAULT_CREDENTIALS)
            }));
        })
    }
}

impl<'o> Check<ActiveInput<'o>> for BruteForce {
    fn ids(&self) -> &'static [CheckId] {
        &[CheckId::BruteForce]
    }

    fn run<'a>(&'a self, input: &'a ActiveInput<'o>, found: &'a mut Found) -> CheckFuture<'a> {
        Box::pin(async move {
            if input.context.intrusive {
                let findings = bruteforce::check(input.target, input.context).await;
                found.findings.extend(findings);
            } else {
                found.findings.push(bruteforce::skipped());
            }
        })
    }
}

/// Whether the profile enables `check` (any of its switches).
pub fn enabled<I: ?Sized>(check: &dyn Check<I>, profile: &Profile) -> bool {
    check.ids().iter().any(|id| profile.check_enabled(*id))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every check the profile can switch has exactly one place in the registry.
    /// Only checks before identity gather at once, and none of the login checks does.
    #[test]
    fn only_the_gathering_checks_run_at_once() {
        let gathering: Vec<CheckId> = ACTIVE
            .iter()
            .filter(|c| c.gathers_only())
            .flat_map(|c| c.ids().iter().copied())
            .collect();
        assert_eq!(
            gathering,
            [
                CheckId::Crypto,
                CheckId::UdpServices,
                CheckId::WebInformation
            ]
        );
        let identity = ACTIVE
            .iter()
            .position(|c| c.ids() == [CheckId::Identity])
            .expect("identity");
        assert!(ACTIVE[identity..].iter().all(|c| !c.gathers_only()));
    }

    #[test]
    fn every_check_id_is_registered_once() {
        let mut ids: Vec<CheckId> = PASSIVE
            .iter()
            .flat_map(|c| c.ids().iter().copied())
            .chain(ACTIVE.iter().flat_map(|c| c.ids().iter().copied()))
            .collect();
        ids.sort_by_key(|id| format!("{id:?}"));
        let mut all: Vec<CheckId> = CheckId::ALL.to_vec();
        all.sort_by_key(|id| format!("{id:?}"));
        assert_eq!(ids, all);
    }
}
