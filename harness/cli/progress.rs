//! Progress of a run on stderr. On a terminal, one indicatif line per device: its phase, the
//! TCP ports probed and the active checks done (one overall line instead when there are more
//! devices than fit). When stderr is not a terminal (CI logs, pipes), one plain line per
//! device as it finishes. `--quiet` shows nothing.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use jcstar_checks::CheckProgress;

/// Most devices that get a line each on a terminal; more share one overall line.
const MAX_DEVICE_LINES: usize = 12;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Nothing (`--quiet`).
    Hidden,
    /// One line per finished device (stderr is not a terminal).
    Lines,
    /// indicatif bars on the terminal.
    Bars,
}

impl Mode {
    /// The mode for a run: hidden when `quiet`, bars on a terminal, else lines.
    pub fn detect(quiet: bool) -> Mode {
        if quiet {
            Mode::Hidden
        } else if std::io::stderr().is_terminal() {
            Mode::Bars
        } else {
            Mode::Lines
        }
    }
}

/// One device's label and where it is.
#[derive(Debug, Clone)]
pub struct DeviceProgress {
    label: String,
    bar: ProgressBar,
    ports: u64,
    overall: Option<ProgressBar>,
}

impl DeviceProgress {
    /// The bar the port scan advances once per probe.
    pub fn port_bar(&self) -> ProgressBar {
        self.overall.clone().unwrap_or_else(|| self.bar.clone())
    }

    /// The port scan of the device is done.
    pub fn ports_done(&self, open: usize) {
        if self.overall.is_none() {
            self.bar.set_position(self.ports);
            self.bar.set_message(describe(
                self.ports,
                self.ports,
                None,
                &format!("{open} open; waiting for the checks"),
            ));
        }
    }

    /// A check is about to run, or all are done.
    pub fn check(&self, step: CheckProgress) {
        if self.overall.is_some() {
            return;
        }
        let now = match step.running {
            Some(name) => format!("checking {name}"),
            None => "checks done".to_string(),
        };
        self.bar
            .set_message(describe(self.ports, self.ports, Some(step), &now));
    }
}

/// The progress line of one device: phase, ports probed, checks done.
pub fn describe(ports_done: u64, ports: u64, checks: Option<CheckProgress>, now: &str) -> String {
    let checks = match checks {
        Some(step) => format!("checks {}/{}", step.done, step.total),
        None => "checks -".to_string(),
    };
    format!("ports {ports_done}/{ports} | {checks} | {now}")
}

/// The progress of a whole run.
pub struct Progress {
    mode: Mode,
    multi: MultiProgress,
    devices: Vec<DeviceProgress>,
    overall: Option<ProgressBar>,
    started: Instant,
    finished: std::sync::atomic::AtomicUsize,
}

impl Progress {
    /// Progress for devices labelled `labels` (name and address), each probing `ports[i]` TCP
    /// ports, shown as `mode` says.
    pub fn new(mode: Mode, labels: &[String], ports: &[u64]) -> Progress {
        let multi = MultiProgress::with_draw_target(match mode {
            Mode::Bars => ProgressDrawTarget::stderr(),
            _ => ProgressDrawTarget::hidden(),
        });
        let width = labels.iter().map(|l| l.len()).max().unwrap_or(0).min(40);
        let overall = (labels.len() > MAX_DEVICE_LINES).then(|| {
            let bar = multi.add(ProgressBar::new(ports.iter().sum()));
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} {prefix} [{bar:30}] {pos}/{len} port probes, {msg} ({elapsed})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(format!("{} devices", labels.len()));
            bar.set_message(format!("0/{} devices done", labels.len()));
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let devices = labels
            .iter()
            .zip(ports)
            .map(|(label, &ports)| {
                let bar = if overall.is_some() {
                    ProgressBar::hidden()
                } else {
                    let bar = multi.add(ProgressBar::new(ports));
                    if let Ok(style) = ProgressStyle::with_template(&format!(
                        "{{spinner}} {{prefix:{width}}} [{{bar:20}}] {{msg}}"
                    )) {
                        bar.set_style(style.progress_chars("=> "));
                    }
                    bar.set_prefix(label.clone());
                    bar.set_message(describe(0, ports, None, "scanning ports"));
                    if mode == Mode::Bars {
                        bar.enable_steady_tick(Duration::from_millis(200));
                    }
                    bar
                };
                DeviceProgress {
                    label: label.clone(),
                    bar,
                    ports,
                    overall: overall.clone(),
                }
            })
            .collect();
        Progress {
            mode,
            multi,
            devices,
            overall,
            started: Instant::now(),
            finished: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Device `i`'s progress.
    pub fn device(&self, i: usize) -> Option<&DeviceProgress> {
        self.devices.get(i)
    }

    /// A bar for device `i`'s port probes (a hidden one for an unknown index).
    pub fn port_bar(&self, i: usize) -> ProgressBar {
        self.device(i)
            .map_or_else(ProgressBar::hidden, DeviceProgress::port_bar)
    }

    /// Device `i` is finished: its line says so; off a terminal, one line is printed.
    pub fn device_done(&self, i: usize, open: usize, findings: usize) {
        let Some(device) = self.device(i) else {
            return;
        };
        let done = 1 + self
            .finished
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let line = finished_line(
            done,
            self.devices.len(),
            &device.label,
            open,
            findings,
            self.started.elapsed(),
        );
        match self.mode {
            Mode::Hidden => {}
            Mode::Lines => eprintln!("{line}"),
            Mode::Bars => match &self.overall {
                Some(bar) => {
                    bar.set_message(format!("{done}/{} devices done", self.devices.len()));
                    let _ = self.multi.println(line);
                }
                None => device.bar.finish_with_message(format!(
                    "done: {open} open TCP port(s), {findings} finding(s)"
                )),
            },
        }
    }

    /// Prints a note on stderr without tearing the bars.
    pub fn note(&self, text: &str) {
        if self.mode == Mode::Bars {
            let _ = self.multi.println(text);
        } else {
            eprintln!("{text}");
        }
    }

    /// Removes the bars from the terminal.
    pub fn clear(&self) {
        for device in &self.devices {
            device.bar.finish_and_clear();
        }
        if let Some(bar) = &self.overall {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

/// The line printed when a device is finished (off a terminal).
pub fn finished_line(
    done: usize,
    total: usize,
    label: &str,
    open: usize,
    findings: usize,
    elapsed: Duration,
) -> String {
    format!(
        "jcstar: [{done}/{total}] {label}: done: {open} open TCP port(s), {findings} finding(s), {:.1} s into the run",
        elapsed.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_line_shows_ports_and_checks_and_the_finished_line_counts_devices() {
        assert_eq!(
            describe(3, 27, None, "scanning ports"),
            "ports 3/27 | checks - | scanning ports"
        );
        let step = CheckProgress {
            running: Some("crypto"),
            done: 1,
            total: 6,
        };
        assert_eq!(
            describe(27, 27, Some(step), "checking crypto"),
            "ports 27/27 | checks 1/6 | checking crypto"
        );
        assert_eq!(
            finished_line(2, 3, "cam (10.0.0.5)", 4, 17, Duration::from_millis(12_340)),
            "jcstar: [2/3] cam (10.0.0.5): done: 4 open TCP port(s), 17 finding(s), 12.3 s into the run"
        );
    }

    #[test]
    fn bars_follow_each_device_through_ports_and_checks() {
        // Hidden mode draws nothing but keeps the state the terminal would show.
        let labels = vec!["a (127.0.0.1)".to_string(), "b (127.0.0.2)".to_string()];
        let progress = Progress::new(Mode::Hidden, &labels, &[10, 12]);
        let bar = progress.port_bar(1);
        bar.inc(5);
        let device = progress.device(1).expect("device");
        assert_eq!(device.bar.position(), 5);
        device.ports_done(2);
        assert_eq!(device.bar.position(), 12);
        device.check(CheckProgress {
            running: Some("brute_force"),
            done: 5,
            total: 6,
        });
        assert_eq!(
            device.bar.message(),
            "ports 12/12 | checks 5/6 | checking brute_force"
        );
        progress.device_done(1, 2, 9);
        assert_eq!(
            progress.finished.load(std::sync::atomic::Ordering::SeqCst),
            1
        );
        // Many devices share one overall bar.
        let many: Vec<String> = (0..20).map(|i| format!("d{i}")).collect();
        let progress = Progress::new(Mode::Hidden, &many, &[3; 20]);
        progress.port_bar(0).inc(1);
        progress.port_bar(19).inc(2);
        assert_eq!(progress.overall.as_ref().expect("overall").position(), 3);
    }
}
