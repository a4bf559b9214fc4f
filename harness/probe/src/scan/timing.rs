//! Per-host adaptive timing: the probe timeout (RFC 6298 estimator) and the
//! in-flight window (TCP-like congestion control).

use std::time::Duration;

/// Round-trip samples before a rise of the smoothed RTT counts as a trend.
const MIN_TREND_SAMPLES: u32 = 8;

/// Smoothed round-trip estimator deriving the probe timeout, as in RFC 6298
/// (and nmap): `timeout = srtt + 4 * rttvar`, clamped to `[min, max]`, and
/// `initial` until the first sample. Both SYN-ACK and RST answers are samples;
/// timeouts are not (Karn's rule: there is nothing to measure).
#[derive(Debug, Clone)]
pub(crate) struct RttEstimator {
    samples: u32,
    srtt_us: Option<f64>,
    rttvar_us: f64,
    min_rtt_us: f64,
    initial: Duration,
    min: Duration,
    max: Duration,
}

impl RttEstimator {
    pub(crate) fn new(initial: Duration, min: Duration, max: Duration) -> Self {
        let max = max.max(min);
        RttEstimator {
            samples: 0,
            srtt_us: None,
            rttvar_us: 0.0,
            min_rtt_us: f64::INFINITY,
            initial: initial.clamp(min, max),
            min,
            max,
        }
    }

    /// Feeds one measured round trip.
    pub(crate) fn sample(&mut self, rtt: Duration) {
        let r = rtt.as_secs_f64() * 1e6;
        self.samples = self.samples.saturating_add(1);
        self.min_rtt_us = self.min_rtt_us.min(r);
        match self.srtt_us {
            None => {
                self.srtt_us = Some(r);
                self.rttvar_us = r / 2.0;
            }
            Some(srtt) => {
                self.rttvar_us = 0.75 * self.rttvar_us + 0.25 * (srtt - r).abs();
                self.srtt_us = Some(0.875 * srtt + 0.125 * r);
            }
        }
    }

    /// The timeout for the next probe.
    pub(crate) fn timeout(&self) -> Duration {
        match self.srtt_us {
            None => self.initial,
            Some(srtt) => {
                let us = srtt + 4.0 * self.rttvar_us;
                Duration::from_secs_f64(us / 1e6).clamp(self.min, self.max)
            }
        }
    }

    /// Smoothed RTT in microseconds, once sampled.
    pub(crate) fn srtt_us(&self) -> Option<u64> {
        self.srtt_us.map(|s| s.round() as u64)
    }

    /// True when the smoothed RTT has risen sharply above the best RTT seen:
    /// above four times the minimum and at least 20 ms above it, over at least
    /// [`MIN_TREND_SAMPLES`] samples. The absolute margin keeps scheduler jitter
    /// on fast links (microsecond RTTs) from counting as congestion; the sample
    /// count keeps one late answer of a host that answers almost nothing (a
    /// default-DROP firewall with two open ports) from halving its window for
    /// the rest of the scan, since no later sample would ever clear it.
    pub(crate) fn inflated(&self) -> bool {
        match self.srtt_us {
            Some(srtt) if self.samples >= MIN_TREND_SAMPLES => {
                srtt > (4.0 * self.min_rtt_us).max(self.min_rtt_us + 20_000.0)
            }
            _ => false,
        }
    }
}

/// The per-host in-flight window.
///
/// Rule (TCP congestion control applied to probes):
/// - starts at `start` with the slow-start threshold at `max`;
/// - every completed probe (an answer *or* a timeout) grows it while the RTT
///   is not inflated: by one per completion below the threshold (doubling per
///   round trip, "slow start"), by one per window's worth of completions above
///   it ("additive increase"); never beyond `max`. Silence counts as progress
///   because it is how a filtering firewall answers; treating it as loss would
///   make a default-DROP host take minutes. Overload shows as RTT inflation;
/// - on sharp RTT inflation ([`RttEstimator::inflated`]) or a local resource
///   error (EMFILE, ENOBUFS, EADDRNOTAVAIL…) it halves (never below `floor`)
///   and the threshold drops to the new size, so it then grows additively.
///   After a decrease, further decreases wait until a full window of probes
///   has completed, so one burst of bad news halves it once, not to the floor.
#[derive(Debug, Clone)]
pub(crate) struct Window {
    cwnd: usize,
    ssthresh: usize,
    max: usize,
    floor: usize,
    acc: usize,
    cooldown: usize,
    peak: usize,
}

impl Window {
    pub(crate) fn new(start: usize, max: usize) -> Self {
        let max = max.max(1);
        let cwnd = start.clamp(1, max);
        let floor = 4.min(cwnd);
        Window {
            cwnd,
            ssthresh: max,
            max,
            floor,
            acc: 0,
            cooldown: 0,
            peak: cwnd,
        }
    }

    /// Current window: the most probes this host may have in flight.
    pub(crate) fn size(&self) -> usize {
        self.cwnd
    }

    /// Largest window reached.
    pub(crate) fn peak(&self) -> usize {
        self.peak
    }

    /// One probe completed; `inflated` is the RTT estimator's verdict.
    pub(crate) fn on_completion(&mut self, inflated: bool) {
        self.cooldown = self.cooldown.saturating_sub(1);
        if inflated {
            self.decrease();
            return;
        }
        if self.cwnd < self.ssthresh {
            self.cwnd += 1;
        } else {
            self.acc += 1;
            if self.acc >= self.cwnd {
                self.acc = 0;
                self.cwnd += 1;
            }
        }
        self.cwnd = self.cwnd.min(self.max);
        self.peak = self.peak.max(self.cwnd);
    }

    /// A probe failed for lack of a local resource.
    pub(crate) fn on_resource_error(&mut self) {
        self.decrease();
    }

    fn decrease(&mut self) {
        if self.cooldown > 0 {
            return;
        }
        self.cwnd = (self.cwnd / 2).max(self.floor);
        self.ssthresh = self.cwnd;
        self.acc = 0;
        self.cooldown = self.cwnd;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn initial_timeout_until_first_sample() {
        let e = RttEstimator::new(ms(1000), ms(100), ms(1500));
        assert_eq!(e.timeout(), ms(1000));
        assert_eq!(e.srtt_us(), None);
        assert!(!e.inflated());
    }

    #[test]
    fn first_sample_sets_srtt_and_half_rttvar() {
        let mut e = RttEstimator::new(ms(1000), ms(10), ms(1500));
        e.sample(ms(100));
        assert_eq!(e.srtt_us(), Some(100_000));
        // 100 + 4 * 50
        assert_eq!(e.timeout(), ms(300));
    }

    #[test]
    fn rfc6298_update() {
        let mut e = RttEstimator::new(ms(1000), ms(1), ms(5000));
        e.sample(ms(100));
        e.sample(ms(200));
        // rttvar = 0.75*50 + 0.25*100 = 62.5; srtt = 87.5 + 25 = 112.5
        assert_eq!(e.srtt_us(), Some(112_500));
        assert_eq!(e.timeout(), Duration::from_micros(112_500 + 250_000));
    }

    #[test]
    fn timeout_is_clamped() {
        let mut fast = RttEstimator::new(ms(1000), ms(100), ms(1500));
        fast.sample(Duration::from_micros(30));
        assert_eq!(fast.timeout(), ms(100));
        let mut slow = RttEstimator::new(ms(1000), ms(100), ms(1500));
        slow.sample(ms(900));
        assert_eq!(slow.timeout(), ms(1500));
        let odd = RttEstimator::new(ms(5000), ms(100), ms(1500));
        assert_eq!(odd.timeout(), ms(1500));
    }

    #[test]
    fn steady_rtt_converges() {
        let mut e = RttEstimator::new(ms(1000), ms(1), ms(1500));
        for _ in 0..200 {
            e.sample(ms(20));
        }
        assert_eq!(e.srtt_us(), Some(20_000));
        assert!(e.timeout() < ms(21));
        assert!(!e.inflated());
    }

    #[test]
    fn inflation_needs_relative_and_absolute_rise() {
        let mut jitter = RttEstimator::new(ms(1000), ms(1), ms(1500));
        jitter.sample(Duration::from_micros(20));
        for _ in 0..50 {
            jitter.sample(ms(2));
        }
        assert!(!jitter.inflated(), "microsecond jitter is not congestion");

        let mut real = RttEstimator::new(ms(1000), ms(1), ms(1500));
        real.sample(ms(5));
        for _ in 0..50 {
            real.sample(ms(80));
        }
        assert!(real.inflated());
    }

    #[test]
    fn a_few_late_answers_are_not_a_trend() {
        // A default-DROP host answers on two ports; one late answer under local load.
        let mut sparse = RttEstimator::new(ms(1000), ms(100), ms(1500));
        sparse.sample(Duration::from_micros(50));
        sparse.sample(ms(60));
        assert!(!sparse.inflated(), "two samples are no trend");
        for _ in 0..6 {
            sparse.sample(ms(60));
        }
        assert!(sparse.inflated(), "eight are");
    }

    #[test]
    fn window_slow_start_then_additive() {
        let mut w = Window::new(4, 16);
        for _ in 0..4 {
            w.on_completion(false);
        }
        assert_eq!(w.size(), 8, "one per completion in slow start");
        w.on_resource_error();
        assert_eq!(w.size(), 4);
        // cooldown: a second error within the same window does nothing
        w.on_resource_error();
        assert_eq!(w.size(), 4);
        for _ in 0..3 {
            w.on_completion(false);
        }
        assert_eq!(w.size(), 4, "additive: needs a full window of completions");
        w.on_completion(false);
        assert_eq!(w.size(), 5);
    }

    #[test]
    fn window_never_exceeds_max_nor_drops_below_floor() {
        let mut w = Window::new(64, 1024);
        for _ in 0..10_000 {
            w.on_completion(false);
        }
        assert_eq!(w.size(), 1024);
        assert_eq!(w.peak(), 1024);
        for _ in 0..100_000 {
            w.on_completion(true);
        }
        assert_eq!(w.size(), 4);
        assert_eq!(w.peak(), 1024);
    }

    #[test]
    fn window_start_is_clamped() {
        assert_eq!(Window::new(0, 10).size(), 1);
        assert_eq!(Window::new(50, 10).size(), 10);
        let mut tiny = Window::new(1, 1);
        tiny.on_resource_error();
        assert_eq!(tiny.size(), 1);
    }

    #[test]
    fn inflation_halves_once_per_window() {
        let mut w = Window::new(64, 1024);
        w.on_completion(true);
        assert_eq!(w.size(), 32);
        w.on_completion(true);
        assert_eq!(w.size(), 32);
        for _ in 0..31 {
            w.on_completion(true);
        }
        assert_eq!(w.size(), 16);
    }
}
