//! S1.1-04: brute-force resistance, measured on the device. For every login surface, wrong
//! passwords are sent in sequence on fresh connections and each attempt is timed from connect
//! to verdict; the device must slow the guesses down or refuse them, the refusal must hold
//! against the valid credential and against simple bypasses, and a locked account must come
//! back. Intrusive: it runs only with intrusive checks on, last on a device, one service at a
//! time.

pub mod attempt;

use std::time::Duration;

use tokio::time::Instant;

use super::access::surface::Surface;
use super::{ActiveContext, ActiveTarget};
use attempt::{Attempt, Kind};
use jcstar_model::device::Credential;
use jcstar_model::profile::brute_force::BruteForceSettings;
use jcstar_model::{Evidence, Finding, Verdict};
use jcstar_probe::probes::io::Bounds;

/// Check name of every S1.1-04 finding.
pub const CHECK: &str = "brute_force";
/// Explicit refusals in a row, to the end of the series, that prove a limit which set in after
/// the profile's threshold attempt.
const MIN_EXPLICIT_RUN: usize = 3;
/// The criterion this check judges.
const CRITERION: &str = "S1.1-04";
/// Size of the word list a fail finding quotes the brute-force time for.
const WORDLIST: usize = 10_000;
/// Wrong passwords sent under the second user name in the bypass test.
const OTHER_USER_ATTEMPTS: usize = 3;

/// The probe bounds the profile sets.
pub fn bounds(settings: &BruteForceSettings) -> Bounds {
    Bounds {
        connect: Duration::from_millis(settings.connect_timeout_ms),
        read: Duration::from_millis(settings.read_timeout_ms),
        max_bytes: settings.max_response_bytes,
    }
}

/// The finding when intrusive checks are off: nothing was sent.
pub fn skipped() -> Finding {
    Finding::new(
        CHECK,
        CRITERION,
        Verdict::Inconclusive,
        "brute-force resistance not measured: intrusive checks are off (it may lock accounts)",
    )
}

/// Runs S1.1-04 against one device: every login surface in turn, never two at once.
pub async fn check(target: &ActiveTarget, context: &ActiveContext) -> Vec<Finding> {
    let settings = &context.profile.brute_force;
    if !context.intrusive {
        return vec![skipped()];
    }
    let bounds = bounds(settings);
    let surfaces = super::access::login_surfaces(target, &context.profile.access, bounds).await;
    if surfaces.is_empty() {
        return vec![Finding::new(
            CHECK,
            CRITERION,
            Verdict::NotApplicable,
            "no network login surface (telnet, SSH, HTTP, FTP, RTSP, MQTT, VNC) was identified",
        )];
    }
    let mut findings = Vec::new();
    for surface in &surfaces {
        let valid = target
            .device
            .credentials
            .iter()
            .find(|c| surface.matches_service(&c.service));
        let measured = measure(surface, valid, settings, &bounds).await;
        findings.push(judge(surface, valid.is_some(), &measured, settings));
    }
    findings
}

/// The user name attacked when the inventory declares none for the service.
pub fn usual_admin(surface: &Surface) -> &'static str {
    match surface {
        Surface::Telnet(_) | Surface::Ssh(_) => "root",
        Surface::Vnc(_) | Surface::Snmp(_) => "",
        _ => "admin",
    }
}

/// Everything measured on one surface.
#[derive(Debug, Default)]
pub struct Measured {
    /// The attacked user name.
    pub user: String,
    /// One correct login before the wrong ones.
    pub baseline: Option<Attempt>,
    /// The wrong passwords, in order.
    pub series: Vec<Attempt>,
    /// The correct login sent once inside the series, right after the first wrong password
    /// past the threshold that was slowed or refused, so a lock shorter than the test is seen
    /// while it holds.
    pub engaged: Option<Engaged>,
    /// The correct login right after the wrong ones and the bypass tests.
    pub confirm: Option<Attempt>,
    /// When the valid credential, refused in `engaged`, was accepted again in `confirm`: the
    /// time between the two (the lock lifted within the test).
    pub lifted_within: Option<Duration>,
    /// Wrong passwords under a second user name.
    pub other_user: Vec<Attempt>,
    /// Wrong passwords on one connection (then, under a lockout, the valid credential if
    /// declared), each timed from the previous answer; empty when the test is off or the
    /// protocol cannot retry on a connection.
    pub same_connection: Vec<Attempt>,
    /// Wrong passwords sent at once.
    pub parallel: Vec<Attempt>,
    /// Wall time of the parallel batch, start to last answer.
    pub parallel_wall: Duration,
    /// Whether jcstar's own connection budget (`--max-rate`, `--service-rate`) held back part
    /// of the parallel batch, so its combined rate says nothing about the device.
    pub parallel_paced: bool,
    /// Correct logins while waiting for the lock to lift, and the time it took from the last
    /// wrong password.
    pub recovery: Option<(Vec<Attempt>, Option<Duration>)>,
    /// Why the series stopped early, if it did.
    pub stopped: Option<String>,
    /// The lockout window the inventory declares for the valid credential, in seconds.
    pub declared_window: Option<u64>,
    /// Connections jcstar had opened to the service (scan, every check) before this test.
    pub connections_before: u32,
}

/// The valid credential tried when the defence set in.
#[derive(Debug, Clone)]
pub struct Engaged {
    /// Wrong passwords sent before it.
    pub after: usize,
    /// Its answer.
    pub attempt: Attempt,
}

/// Whether the valid credential was turned away with an answer (not silence): the account is
/// locked, or the service refuses everyone.
fn turned_away(kind: &Kind) -> bool {
    matches!(
        kind,
        Kind::Rejected | Kind::Refused(_) | Kind::ConnectionRefused | Kind::Dropped
    )
}

/// Whether the account was locked when the defence set in: the valid credential got a plain
/// rejection or a refusal (an answer about the account, unlike a refused or dropped
/// connection).
fn locked_when_engaged(m: &Measured) -> bool {
    m.engaged
        .as_ref()
        .is_some_and(|e| matches!(e.attempt.kind, Kind::Rejected | Kind::Refused(_)))
}

/// How long to wait for a locked account to recover: the declared lockout window plus a
/// margin (a fifth, at least 5 s), else the profile's cap, never beyond the cap.
pub fn recovery_wait(declared: Option<u64>, settings: &BruteForceSettings) -> Duration {
    let cap = Duration::from_secs(settings.max_lockout_wait_s);
    match declared {
        Some(w) => Duration::from_secs(w.saturating_add((w / 5).max(5))).min(cap),
        None => cap,
    }
}

/// Whether an attempt's answer proves a defence: an explicit lockout or rate-limit answer, or
/// a rejection that came no sooner than the profile threshold.
fn proves_defence(a: &Attempt, settings: &BruteForceSettings) -> bool {
    match a.kind {
        Kind::Refused(_) => true,
        Kind::Rejected => a.elapsed >= Duration::from_millis(settings.min_delay_ms),
        _ => false,
    }
}

/// Whether an attempt was held back in a way that proves nothing alone: a refused or dropped
/// connection (a crashed or overloaded service looks the same), or silence.
fn held_unproven(a: &Attempt) -> bool {
    matches!(
        a.kind,
        Kind::ConnectionRefused | Kind::Dropped | Kind::TimedOut { .. }
    )
}

/// Whether an attempt did not get through at full speed: a proven defence or an unproven hold.
fn slowed(a: &Attempt, settings: &BruteForceSettings) -> bool {
    proves_defence(a, settings) || held_unproven(a)
}

/// The attempts judged against the threshold: those from series index `from` on. A device may
/// count failures since the last accepted login, so after an accepted `engaged` login the next
/// `from_attempt` wrong passwords may be answered at once: they count only when slowed.
fn judged_tail(m: &Measured, from: usize, settings: &BruteForceSettings) -> Vec<Attempt> {
    let reset_at = reset_at(m);
    m.series
        .iter()
        .enumerate()
        .filter(|&(i, a)| {
            i >= from
                && match reset_at {
                    Some(r) if (r..r + settings.from_attempt).contains(&i) => slowed(a, settings),
                    _ => true,
                }
        })
        .map(|(_, a)| a.clone())
        .collect()
}

/// Whether the judged tail of the series is all slowed or refused.
fn defended(m: &Measured, settings: &BruteForceSettings) -> bool {
    let tail = judged_tail(m, settings.from_attempt, settings);
    !tail.is_empty() && tail.iter().all(|a| slowed(a, settings))
}

/// Whether the series must go on past `attempts`: the valid login inside it was accepted and
/// may have reset the device's count, and the judged tail is not yet as long as planned.
fn needs_rearming(m: &Measured, settings: &BruteForceSettings) -> bool {
    let planned = settings.attempts.saturating_sub(settings.from_attempt);
    reset_at(m).is_some() && judged_tail(m, settings.from_attempt, settings).len() < planned
}

/// Where the device may have restarted its failure count: the series index after an accepted
/// `engaged` login.
fn reset_at(m: &Measured) -> Option<usize> {
    m.engaged
        .as_ref()
        .filter(|e| matches!(e.attempt.kind, Kind::Accepted))
        .map(|e| e.after)
}

/// Whether a bypass attempt got a plain, fast verdict (the defence did not apply to it).
fn bypassed(a: &Attempt, settings: &BruteForceSettings) -> bool {
    matches!(a.kind, Kind::Rejected | Kind::Accepted) && !slowed(a, settings)
}

/// Sends the baseline, the wrong passwords, the confirmation, the bypasses and the recovery.
pub async fn measure(
    surface: &Surface,
    valid: Option<&Credential>,
    settings: &BruteForceSettings,
    bounds: &Bounds,
) -> Measured {
    let user = valid
        .map(|c| c.username.clone())
        .unwrap_or_else(|| usual_admin(surface).to_string());
    let mut m = Measured {
        user: user.clone(),
        declared_window: valid.and_then(|c| c.lockout_window_s),
        connections_before: jcstar_probe::ledger::opened(surface.address()),
        ..Measured::default()
    };
    if let Some(c) = valid {
        let baseline = attempt::run(surface, &c.username, c.password.expose(), bounds).await;
        let unconnected = not_connected(&baseline);
        m.baseline = Some(baseline);
        if unconnected {
            // Nothing after it could be judged (see `judge`): send no wrong passwords.
            return m;
        }
    }
    let mut undecided = 0;
    let mut engaged_at = None;
    for n in 0..settings.attempts + settings.from_attempt {
        if n >= settings.attempts && !needs_rearming(&m, settings) {
            break;
        }
        let wrong = format!("jcs-wrong-{}", jcstar_probe::probes::io::nonce(5));
        let mut a = attempt::run(surface, &user, &wrong, bounds).await;
        if let (Kind::Unsupported(why), true) = (&a.kind, n > 0) {
            // A login prompt that went away after failures is a refusal.
            a.kind = Kind::Refused(format!("no login offered any more: {why}"));
        }
        let kind = a.kind.clone();
        let unconnected = n == 0 && not_connected(&a);
        let engages = n >= settings.from_attempt && slowed(&a, settings);
        m.series.push(a);
        if unconnected {
            // The verdict is inconclusive whatever follows (see `judge`): stop before the
            // series locks the account for nothing.
            m.stopped = Some(kind.describe());
            return m;
        }
        match kind {
            Kind::Unsupported(why) if n == 0 => {
                m.stopped = Some(why);
                return m;
            }
            Kind::Accepted => {
                m.stopped = Some("a wrong password was accepted".into());
                return m;
            }
            Kind::Undecided(_) => {
                undecided += 1;
                if undecided > settings.max_undecided {
                    let first = m.series.iter().find_map(|a| match &a.kind {
                        Kind::Undecided(why) => Some(why.clone()),
                        _ => None,
                    });
                    m.stopped = Some(format!(
                        "{undecided} attempts could not be decided, first: {}",
                        first.unwrap_or_default()
                    ));
                    return m;
                }
            }
            _ => {}
        }
        if let (Some(c), true, None) = (valid, engages, &m.engaged) {
            // Now, while a lock shorter than the rest of the test still holds: pam_faillock,
            // for one, does not extend a lock with failures made during it.
            let a = attempt::run(surface, &c.username, c.password.expose(), bounds).await;
            engaged_at = Some(Instant::now());
            m.engaged = Some(Engaged {
                after: n + 1,
                attempt: a,
            });
        }
    }
    let last_wrong = Instant::now();
    if !defended(&m, settings) {
        return m;
    }
    // Bypasses first: a correct login usually resets the failure count.
    if settings.bypass_other_user && !matches!(surface, Surface::Vnc(_)) {
        for _ in 0..OTHER_USER_ATTEMPTS {
            let wrong = format!("jcs-wrong-{}", jcstar_probe::probes::io::nonce(5));
            let a = attempt::run(surface, &settings.other_user, &wrong, bounds).await;
            m.other_user.push(a);
        }
    }
    // Several attempts on one connection, before the parallel batch (whose queued delays
    // would otherwise be measured here too).
    if settings.same_connection_attempts > 0 {
        let mut passwords: Vec<String> = (0..settings.same_connection_attempts)
            .map(|_| format!("jcs-wrong-{}", jcstar_probe::probes::io::nonce(5)))
            .collect();
        // Under a lockout, the valid credential must be refused on that connection too. (Not
        // under a delay: a correct login may reset the failure count the later tests need.)
        let lockout =
            locked_when_engaged(&m) || m.series.iter().any(|a| matches!(a.kind, Kind::Refused(_)));
        if let (Some(c), true) = (valid, lockout) {
            passwords.push(c.password.expose().to_string());
        }
        let fast = Duration::from_millis(settings.min_delay_ms);
        if let Some(session) = attempt::run_session(surface, &user, &passwords, fast, bounds).await
        {
            m.same_connection = session;
        }
    }
    if settings.parallel > 0 {
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..settings.parallel {
            let (surface, user, bounds) = (surface.clone(), user.clone(), *bounds);
            tasks.spawn(async move {
                let wrong = format!("jcs-wrong-{}", jcstar_probe::probes::io::nonce(5));
                jcstar_probe::budget::track(attempt::run(&surface, &user, &wrong, &bounds)).await
            });
        }
        while let Some(joined) = tasks.join_next().await {
            if let Ok((a, waited)) = joined {
                m.parallel_paced |= !waited.is_zero();
                m.parallel.push(a);
            }
        }
        m.parallel_wall = started.elapsed();
    }
    if let Some(c) = valid {
        let confirm = attempt::run(surface, &c.username, c.password.expose(), bounds).await;
        if matches!(confirm.kind, Kind::Accepted) && locked_when_engaged(&m) {
            m.lifted_within = engaged_at.map(|at| at.elapsed());
        }
        m.confirm = Some(confirm);
    }
    // Recovery: a lockout that also refused the valid credential must lift, so the run leaves
    // the device usable. Correct logins do not count as failures.
    let locked = m
        .confirm
        .as_ref()
        .is_some_and(|c| !matches!(c.kind, Kind::Accepted));
    if let (true, Some(c)) = (locked, valid) {
        let bypass_sent =
            !m.other_user.is_empty() || !m.parallel.is_empty() || !m.same_connection.is_empty();
        let since = if bypass_sent {
            Instant::now()
        } else {
            last_wrong
        };
        let wait = recovery_wait(m.declared_window, settings);
        let poll = Duration::from_millis(settings.recovery_poll_ms);
        let mut polls = Vec::new();
        let mut recovered = None;
        // At least one poll, even when the confirmation itself outlasted the wait; at most one
        // per poll interval of the wait.
        let max_polls = wait.as_millis() / poll.as_millis().max(1) + 1;
        for _ in 0..max_polls {
            tokio::time::sleep(poll.min(wait.saturating_sub(since.elapsed()))).await;
            let a = attempt::run(surface, &c.username, c.password.expose(), bounds).await;
            let ok = matches!(a.kind, Kind::Accepted);
            polls.push(a);
            if ok {
                recovered = Some(since.elapsed());
                break;
            }
            if since.elapsed() >= wait {
                break;
            }
        }
        m.recovery = Some((polls, recovered));
    }
    m
}

/// Guesses per second over a series (answered or not: what an attacker gets through).
fn rate(series: &[Attempt]) -> f64 {
    let total: f64 = series.iter().map(|a| a.elapsed.as_secs_f64()).sum();
    if total <= 0.0 {
        return 0.0;
    }
    series.len() as f64 / total
}

fn duration_text(seconds: f64) -> String {
    if seconds < 1.0 {
        "under a second".to_string()
    } else if seconds < 120.0 {
        format!("{seconds:.0} s")
    } else if seconds < 7200.0 {
        format!("{:.0} min", seconds / 60.0)
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

/// The verdict for one surface.
pub fn judge(
    surface: &Surface,
    has_valid: bool,
    m: &Measured,
    settings: &BruteForceSettings,
) -> Finding {
    let label = surface.label();
    let finding = |verdict, summary: String| {
        let mut f = Finding::new(CHECK, CRITERION, verdict, format!("{label}: {summary}"));
        f.evidence.extend(evidence(m, settings));
        f
    };
    // A connect that is not accepted in time before any wrong password was answered says
    // nothing about the account: name the connection-rate limit jcstar itself may have tripped.
    if let Some(baseline) = m.baseline.as_ref().filter(|a| not_connected(a)) {
        return finding(
            Verdict::Inconclusive,
            format!(
                "the declared credential for {:?} could not be tried before any wrong password ({}): {}",
                m.user,
                baseline.kind.describe(),
                connects_not_accepted(m)
            ),
        );
    }
    if let Some(first) = m.series.first().filter(|a| not_connected(a)) {
        return finding(
            Verdict::Inconclusive,
            format!(
                "the first wrong password could not be sent ({}): {}",
                first.kind.describe(),
                connects_not_accepted(m)
            ),
        );
    }
    if let (Some(first), Some(why)) = (m.series.first(), &m.stopped) {
        if let Kind::Unsupported(_) = first.kind {
            return finding(
                Verdict::Pass,
                format!("accepts no passwords at all ({why}): nothing to guess"),
            );
        }
        if matches!(m.series.last().map(|a| &a.kind), Some(Kind::Accepted)) {
            return finding(
                Verdict::Fail,
                "a random wrong password was accepted: the service does not authenticate".into(),
            );
        }
        return finding(
            Verdict::Inconclusive,
            format!("the service stopped answering usefully ({why}); run it again"),
        );
    }
    if let Some(baseline) = &m.baseline {
        if !matches!(baseline.kind, Kind::Accepted) {
            return finding(
                Verdict::Inconclusive,
                format!(
                    "the declared credential for {:?} was not accepted before any wrong password ({}): locked already, or wrong in the inventory",
                    m.user,
                    baseline.kind.describe()
                ),
            );
        }
    }
    if let Some(first) = m.series.first() {
        if matches!(
            first.kind,
            Kind::Refused(_) | Kind::ConnectionRefused | Kind::TimedOut { .. }
        ) {
            return finding(
                Verdict::Inconclusive,
                format!(
                    "the first wrong password was already refused ({}): was the account locked before the test?",
                    first.kind.describe()
                ),
            );
        }
    }
    // A limit that starts later than the profile's threshold still proves a defence when, from
    // the first explicit refusal on, every attempt was refused explicitly (nginx limit_req
    // lets its burst through, then answers 429 to all): judge from there.
    let explicit_from = m
        .series
        .iter()
        .position(|a| matches!(a.kind, Kind::Refused(_)))
        .filter(|&k| {
            k > settings.from_attempt
                && m.series.len() - k >= MIN_EXPLICIT_RUN
                && m.series[k..]
                    .iter()
                    .all(|a| matches!(a.kind, Kind::Refused(_)))
        });
    let from = explicit_from.unwrap_or(settings.from_attempt);
    let tail = judged_tail(m, from, settings);
    let slowed_count = tail.iter().filter(|a| slowed(a, settings)).count();
    let refused = tail.iter().any(|a| matches!(a.kind, Kind::Refused(_)));
    let delayed_only = tail.iter().all(|a| !matches!(a.kind, Kind::Refused(_)));
    let r = rate(&m.series);
    let crack = || {
        let mirai = jcstar_model::profile::access::list("mirai-telnet").map_or(0, |l| l.len());
        format!(
            "{r:.2} guesses/s: the Mirai list ({mirai} pairs) takes {}, a {WORDLIST}-word list {}",
            duration_text(mirai as f64 / r.max(1e-9)),
            duration_text(WORDLIST as f64 / r.max(1e-9))
        )
    };
    if slowed_count == 0 {
        return finding(
            Verdict::Fail,
            format!(
                "{} wrong passwords for {:?} with no slowdown or refusal; {}",
                m.series.len(),
                m.user,
                crack()
            ),
        );
    }
    if slowed_count < tail.len() {
        // Sporadic refusals (a dropped connection) do not hide a fast guess rate.
        let fast: Vec<&Attempt> = tail
            .iter()
            .filter(|a| matches!(a.kind, Kind::Rejected) && !slowed(a, settings))
            .collect();
        let tail_secs: f64 = tail.iter().map(|a| a.elapsed.as_secs_f64()).sum();
        let threshold_rate = 1000.0 / settings.min_delay_ms as f64;
        if fast.len() * 2 > tail.len()
            && tail_secs > 0.0
            && fast.len() as f64 / tail_secs > 2.0 * threshold_rate
        {
            return finding(
                Verdict::Fail,
                format!(
                    "{} of the {} attempts after failure {from} were answered at full speed (the rest slowed or refused): {:.2} answered guesses/s; {}",
                    fast.len(),
                    tail.len(),
                    fast.len() as f64 / tail_secs,
                    crack()
                ),
            );
        }
        return finding(
            Verdict::Inconclusive,
            format!(
                "timings too noisy to judge: {slowed_count} of the {} attempts after failure {from} were slowed (>= {} ms) or refused, the others not",
                tail.len(),
                settings.min_delay_ms
            ),
        );
    }
    // Every attempt of the tail was held back; a pass needs answers that prove it.
    let silent = tail
        .iter()
        .filter(|a| matches!(a.kind, Kind::TimedOut { .. }))
        .count();
    if silent > 0 {
        let connecting = tail
            .iter()
            .any(|a| matches!(a.kind, Kind::TimedOut { connecting: true }));
        let why = if connecting {
            connects_not_accepted(m)
        } else {
            "silence is not a defence: a tarpit, a crashed service and a network throttle look the same".to_string()
        };
        return finding(
            Verdict::Inconclusive,
            format!(
                "{silent} of the {} attempts after failure {from} got no answer within the read deadline ({why})",
                tail.len()
            ),
        );
    }
    let unproven = tail.iter().filter(|a| held_unproven(a)).count();
    if unproven > 0 && !lockout_confirmed(m) {
        return finding(
            Verdict::Inconclusive,
            format!(
                "{unproven} of the {} attempts after failure {from} met a refused or closed connection, which a crashed or overloaded service gives too; the lockout is proven only when the valid credential is refused during it and accepted after it{}",
                tail.len(),
                if has_valid {
                    ", which did not happen"
                } else {
                    ": declare an operator credential ([[device.credential]]) to confirm it"
                }
            ),
        );
    }
    let how = if refused && !delayed_only {
        "refused"
    } else {
        "slowed down"
    };
    // Step 4: the valid credential when the defence set in, and after the bypass tests.
    let mut notes = match valid_login_notes(m, has_valid, how == "refused", settings) {
        Ok(notes) => notes,
        Err(cosmetic) => return finding(Verdict::Fail, format!("{cosmetic}; {}", crack())),
    };
    // Step 5: bypasses.
    let mut bypasses = Vec::new();
    if m.other_user.iter().any(|a| bypassed(a, settings)) {
        bypasses.push(format!(
            "a second user name ({:?}) gets fast plain answers",
            settings.other_user
        ));
    }
    // While the account is locked (the valid login refused) or refusals come back, a parallel
    // attempt escapes only if it gets a fast plain answer. A delay without lockout is
    // escaped when parallel connections together guess faster than the threshold rate.
    let locked = locked_when_engaged(m)
        || m.confirm
            .as_ref()
            .is_some_and(|c| !matches!(c.kind, Kind::Accepted))
        || m.parallel
            .iter()
            .any(|a| matches!(a.kind, Kind::Refused(_)));
    let wall = m.parallel_wall.as_secs_f64();
    let answered = m
        .parallel
        .iter()
        .filter(|a| matches!(a.kind, Kind::Rejected))
        .count();
    let parallel_rate = if wall > 0.0 {
        answered as f64 / wall
    } else {
        0.0
    };
    let threshold_rate = 1000.0 / settings.min_delay_ms as f64;
    let mut paced = None;
    if locked && m.parallel.iter().any(|a| bypassed(a, settings)) {
        bypasses.push(format!(
            "{} parallel connections get fast plain answers",
            m.parallel.len()
        ));
    } else if !locked && m.parallel_paced {
        paced = Some(format!(
            "the {} parallel connections were paced by jcstar's own connection budget (--max-rate / --service-rate), so whether the delay can be escaped in parallel is not measured",
            m.parallel.len()
        ));
    } else if !locked && parallel_rate > threshold_rate {
        bypasses.push(format!(
            "{} parallel connections together get {parallel_rate:.2} answered guesses/s (the delay is per connection)",
            m.parallel.len()
        ));
    }
    // Within one connection, every attempt after the first (which pays the connection's cost)
    // must be slowed or refused like the fresh-connection ones.
    let in_connection = m.same_connection.get(1..).unwrap_or(&[]);
    let fast_in_connection = in_connection
        .iter()
        .filter(|a| bypassed(a, settings))
        .count();
    if fast_in_connection > 0 && fast_in_connection * 2 >= in_connection.len() {
        let valid_in = match (has_valid, m.same_connection.last()) {
            (true, Some(a)) if matches!(a.kind, Kind::Accepted) => {
                ", and the valid credential was accepted on it"
            }
            _ => "",
        };
        bypasses.push(format!(
            "on one connection {fast_in_connection} of the {} attempts after the first got fast plain answers{valid_in} (the defence applies per connection, not per attempt)",
            in_connection.len()
        ));
    }
    if let (false, Some(lifted)) = (bypasses.is_empty(), m.lifted_within) {
        return finding(
            Verdict::Inconclusive,
            format!(
                "wrong passwords are {how} after failure {from} and the valid credential was refused when the defence set in, but the lock lifted within {:.0} s, before the bypass tests ended: {}; fast answers may be the fresh failures a lifted lock allows (a lock longer than this test would tell)",
                lifted.as_secs_f64(),
                bypasses.join("; ")
            ),
        );
    }
    if !bypasses.is_empty() {
        let fast: Vec<&Attempt> = m
            .other_user
            .iter()
            .chain(&m.parallel)
            .chain(in_connection)
            .filter(|a| bypassed(a, settings))
            .collect();
        return finding(
            Verdict::Fail,
            format!(
                "wrong passwords are {how} after failure {from}, but the defence is bypassed: {}; {}",
                bypasses.join("; "),
                crack_from(&fast)
            ),
        );
    }
    // Step 6: recovery.
    if let Some(lifted) = m.lifted_within {
        notes.push(format!(
            "the account recovered: the valid credential, refused when the defence set in, worked again {:.0} s later, after the bypass tests (the lock is shorter than this test)",
            lifted.as_secs_f64()
        ));
    }
    if let Some((polls, recovered)) = &m.recovery {
        let declared = m
            .declared_window
            .map(|w| format!(" (declared lockout window {w} s)"))
            .unwrap_or_default();
        let waited = recovery_wait(m.declared_window, settings).as_secs();
        match (recovered, m.declared_window) {
            (Some(after), _) => notes.push(format!(
                "the account recovered: the valid credential worked again after {:.0} s{declared}",
                after.as_secs_f64()
            )),
            (None, Some(w)) if w <= settings.max_lockout_wait_s => notes.push(format!(
                "the account was still locked after {waited} s and {} recovery logins, longer than the inventory's lockout_window_s = {w} allows: the declaration or the device is wrong",
                polls.len()
            )),
            (None, _) => notes.push(format!(
                "the account was still locked after {waited} s and {} recovery logins{declared} (brute_force.max_lockout_wait_s = {}): it may need time or an operator",
                polls.len(),
                settings.max_lockout_wait_s
            )),
        }
    }
    let judged = tail
        .iter()
        .filter(|a| matches!(a.kind, Kind::Rejected))
        .count();
    let tail_secs: f64 = tail.iter().map(|a| a.elapsed.as_secs_f64()).sum();
    let effective = if tail_secs > 0.0 {
        judged as f64 / tail_secs
    } else {
        0.0
    };
    if let Some(why) = paced {
        notes.push(why);
        return finding(
            Verdict::Inconclusive,
            format!(
                "wrong passwords for {:?} are {how} after failure {from}, but not every bypass was measured: {}",
                m.user,
                notes.join("; ")
            ),
        );
    }
    finding(
        Verdict::Pass,
        format!(
            "wrong passwords for {:?} are {how} after failure {from} (>= {} ms or refused; effective rate after it {effective:.2} judged guesses/s){}{}",
            m.user,
            settings.min_delay_ms,
            if notes.is_empty() { "" } else { "; " },
            notes.join("; ")
        ),
    )
}

/// Notes on the valid credential, tried when the defence set in (else only after the bypass
/// tests). `Err` with the summary when wrong passwords were `refused` yet the valid credential
/// got in at once: the lockout is cosmetic.
fn valid_login_notes(
    m: &Measured,
    has_valid: bool,
    refused: bool,
    settings: &BruteForceSettings,
) -> Result<Vec<String>, String> {
    let first = match (&m.engaged, &m.confirm) {
        (Some(e), _) => Some((
            format!("when the defence set in (after failure {})", e.after),
            &e.attempt,
        )),
        (None, Some(c)) => Some(("right after".to_string(), c)),
        (None, None) => None,
    };
    let Some((when, valid)) = first else {
        return Ok(if has_valid {
            Vec::new()
        } else {
            vec!["no operator credential declared: lockout of the valid login not confirmed".into()]
        });
    };
    let fast_ok = matches!(valid.kind, Kind::Accepted) && !slowed(valid, settings);
    if refused && fast_ok {
        return Err(format!(
            "the lockout is cosmetic: wrong passwords were refused, yet the valid credential was accepted at once ({} ms) {when}",
            valid.elapsed.as_millis()
        ));
    }
    let mut notes = vec![if fast_ok {
        format!(
            "the valid credential still logs in at once {when} (delay applies to failures only)"
        )
    } else if matches!(valid.kind, Kind::Accepted) {
        format!(
            "the valid credential was slowed down too ({} ms) {when}",
            valid.elapsed.as_millis()
        )
    } else if turned_away(&valid.kind) {
        format!(
            "lockout confirmed: the valid credential was {} {when}",
            valid.kind.describe()
        )
    } else {
        format!(
            "lockout not confirmed: the valid credential got no verdict {when} ({})",
            valid.kind.describe()
        )
    }];
    let later = m.confirm.as_ref().filter(|_| m.engaged.is_some());
    if let (true, Some(c)) = (matches!(valid.kind, Kind::Accepted), later) {
        if turned_away(&c.kind) {
            notes.push(format!(
                "lockout confirmed later: the valid credential was {} after the bypass tests",
                c.kind.describe()
            ));
        }
    }
    Ok(notes)
}

/// Whether the attempt's connection was not accepted in time (a throttle, a filter, a crash).
fn not_connected(a: &Attempt) -> bool {
    matches!(a.kind, Kind::TimedOut { connecting: true })
}

/// Why connects that were not accepted in time prove nothing about the account.
fn connects_not_accepted(m: &Measured) -> String {
    format!(
        "the service stopped accepting new connections in time: a connection-rate limit (which jcstar's own {} earlier connection(s) to it, from the scan and the other checks, may have tripped; --service-rate paces them), a filter or a crash; a connection limit is not an account lockout",
        m.connections_before
    )
}

/// Whether a lockout is proven by the valid credential: refused (with an answer, not silence)
/// when the defence set in or right after the bypass tests, then accepted again later.
fn lockout_confirmed(m: &Measured) -> bool {
    let refused_then =
        locked_when_engaged(m) || m.confirm.as_ref().is_some_and(|c| turned_away(&c.kind));
    let recovered = matches!(&m.recovery, Some((_, Some(_)))) || m.lifted_within.is_some();
    refused_then && recovered
}

fn crack_from(fast: &[&Attempt]) -> String {
    let total: f64 = fast.iter().map(|a| a.elapsed.as_secs_f64()).sum();
    if fast.is_empty() || total <= 0.0 {
        return String::new();
    }
    let r = fast.len() as f64 / total;
    format!(
        "through the bypass {r:.2} guesses/s per connection: a {WORDLIST}-word list takes {}",
        duration_text(WORDLIST as f64 / r.max(1e-9))
    )
}

/// The series and signals as evidence.
fn evidence(m: &Measured, settings: &BruteForceSettings) -> Vec<Evidence> {
    let mut out = Vec::new();
    let legend = format!(
        "ms per attempt as user {:?}: r rejected, x refused (lockout or rate-limit answer), c connection refused, d dropped, t timed out, ? undecided, a accepted; threshold {} ms after #{}",
        m.user, settings.min_delay_ms, settings.from_attempt
    );
    if let Some(b) = &m.baseline {
        out.push(Evidence::observed("baseline (valid credential)", b.code()));
    }
    out.push(Evidence::observed(
        "attempt series",
        format!("{}: {}", legend, series_text(&m.series)),
    ));
    let signals: Vec<String> = m
        .series
        .iter()
        .enumerate()
        .filter_map(|(i, a)| match &a.kind {
            Kind::Refused(why) | Kind::Undecided(why) => Some(format!("#{} {why}", i + 1)),
            Kind::ConnectionRefused | Kind::Dropped | Kind::TimedOut { .. } => {
                Some(format!("#{} {}", i + 1, a.kind.describe()))
            }
            _ => None,
        })
        .take(4)
        .collect();
    if !signals.is_empty() {
        out.push(Evidence::observed("signals", signals.join("; ")));
    }
    if let Some(e) = &m.engaged {
        out.push(Evidence::observed(
            "valid credential when the defence set in",
            format!("after failure {}: {}", e.after, e.attempt.code()),
        ));
    }
    if let Some(c) = &m.confirm {
        let lifted = m
            .lifted_within
            .map(|d| format!(" ({:.1} s after it was refused)", d.as_secs_f64()))
            .unwrap_or_default();
        out.push(Evidence::observed(
            "valid credential after the wrong ones",
            format!("{}{lifted}", c.code()),
        ));
    }
    if !m.other_user.is_empty() {
        out.push(Evidence::observed(
            format!("bypass: user {:?}", settings.other_user),
            series_text(&m.other_user),
        ));
    }
    if !m.same_connection.is_empty() {
        out.push(Evidence::observed(
            "bypass: attempts on one connection",
            format!(
                "{} (ms from the previous answer; the first includes the connect)",
                series_text(&m.same_connection)
            ),
        ));
    }
    if !m.parallel.is_empty() {
        out.push(Evidence::observed(
            format!("bypass: {} parallel connections", m.parallel.len()),
            format!(
                "{} (batch took {} ms)",
                series_text(&m.parallel),
                m.parallel_wall.as_millis()
            ),
        ));
    }
    if let Some((polls, recovered)) = &m.recovery {
        out.push(Evidence::observed(
            "recovery logins",
            format!(
                "{} ({})",
                series_text(polls),
                recovered.map_or("not recovered".to_string(), |d| format!(
                    "recovered after {:.1} s",
                    d.as_secs_f64()
                ))
            ),
        ));
    }
    out
}

/// `12r 11r 2013x …`
pub fn series_text(series: &[Attempt]) -> String {
    series
        .iter()
        .map(Attempt::code)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests;
