//! A fleet: many cheap simulated devices (`jcstar demo --devices N`) for scale runs.
//!
//! Device `i` (from 0) lives at `127.<block>.<i / 254>.<i % 254 + 1>` and plays one of a few
//! single-port personas in turn. Devices of a persona share that persona's connection handler;
//! each device costs one listening socket and one accept task, no thread and no TLS identity
//! of its own (the legacy TLS persona's certificate is a fixture, so the fleet reuses one key,
//! as a fleet of one model often does).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::task::JoinSet;

use super::personas::{self, Persona, Protocol};
use super::{run_listener, DemoLab, Handler, LabDevice, LabError, Limits};

/// The personas a fleet cycles through: one TCP port each, no per-device state or key.
const FLEET_PERSONAS: [&str; 6] = [
    "weak-nas",
    "strong-nas",
    "weak-broker",
    "old-router",
    "legacy-nvr",
    "strong-kvm",
];

/// Most devices one fleet serves: the addresses of one `127.<block>.0.0/16`, 254 per `/24`.
pub const MAX_FLEET_DEVICES: usize = 254 * 256;

/// Open files kept free for the runtime, reports and logs besides the fleet's listeners.
const FD_RESERVE: u64 = 256;

/// How to start a fleet.
#[derive(Debug, Clone, Copy)]
pub struct FleetOptions {
    /// Number of devices, 1 to [`MAX_FLEET_DEVICES`].
    pub devices: usize,
    /// Second octet of every device address, `127.<block>.x.y` (keeps fleets of parallel runs
    /// apart, and apart from the persona lab's `127.77.x.y`).
    pub block: u8,
    /// Open files the caller needs besides the fleet's listeners (e.g. an in-process scan's
    /// sockets); counted when checking that the fleet fits under RLIMIT_NOFILE.
    pub spare_files: u64,
}

/// The address of fleet device `index` (from 0) in `block`.
pub fn fleet_address(block: u8, index: usize) -> IpAddr {
    let high = u8::try_from(index / 254).unwrap_or(u8::MAX);
    let low = (index % 254) as u8 + 1;
    IpAddr::V4(Ipv4Addr::new(127, block, high, low))
}

/// Open files a fleet of `devices` needs: one listener per device plus a reserve.
pub fn fleet_files(devices: usize) -> u64 {
    devices as u64 + FD_RESERVE
}

/// Raises the soft RLIMIT_NOFILE to the hard limit and returns the soft limit now in force.
pub fn raise_open_files() -> u64 {
    use rlimit::Resource;
    let Ok((soft, hard)) = rlimit::getrlimit(Resource::NOFILE) else {
        return 1024;
    };
    let target = hard.min(1 << 20);
    if soft < target && rlimit::setrlimit(Resource::NOFILE, target, hard).is_ok() {
        return target;
    }
    soft
}

impl DemoLab {
    /// Starts a fleet of `options.devices` cheap devices (see the module documentation).
    ///
    /// Fails with [`LabError::OpenFiles`] before binding anything when the listeners and
    /// `options.spare_files` do not fit under the open-file limit, even once the soft limit is
    /// raised to the hard one.
    pub async fn start_fleet(options: FleetOptions, limits: Limits) -> Result<DemoLab, LabError> {
        if options.devices == 0 || options.devices > MAX_FLEET_DEVICES {
            return Err(LabError::FleetSize {
                requested: options.devices,
                max: MAX_FLEET_DEVICES,
            });
        }
        let needed = fleet_files(options.devices) + options.spare_files;
        let soft = raise_open_files();
        if needed > soft {
            return Err(LabError::OpenFiles {
                devices: options.devices,
                needed,
                limit: soft,
            });
        }
        let cast: Vec<(&'static Persona, Arc<Handler>)> = FLEET_PERSONAS
            .iter()
            .filter_map(|name| personas::all().find(|p| p.name == *name))
            .filter_map(|persona| {
                let [service] = persona.services else {
                    return None;
                };
                plain_handler(&service.protocol).map(|handler| (persona, Arc::new(handler)))
            })
            .collect();
        let limits = Arc::new(limits);
        let mut devices = Vec::with_capacity(options.devices);
        let mut roles = Vec::with_capacity(options.devices);
        let mut tasks = JoinSet::new();
        for index in 0..options.devices {
            let (persona, handler) = &cast[index % cast.len()];
            let address = fleet_address(options.block, index);
            let service = &persona.services[0];
            let socket = SocketAddr::new(address, service.port);
            let listener = TcpListener::bind(socket)
                .await
                .map_err(|source| LabError::Bind {
                    device: persona.name.to_owned(),
                    address: socket,
                    source,
                })?;
            tasks.spawn(run_listener(listener, handler.clone(), limits.clone()));
            devices.push(LabDevice {
                name: format!("{}-{:05}", persona.name, index + 1),
                persona: persona.name.to_owned(),
                address,
                model: persona.model.to_owned(),
                listening: vec![(service.port, service.protocol.kind())],
                declared: if service.declared {
                    vec![service.port]
                } else {
                    Vec::new()
                },
            });
            roles.push(*persona);
        }
        tracing::debug!(devices = options.devices, "fleet started");
        Ok(DemoLab {
            devices,
            lockout_window: limits.lockout_window,
            personas: roles,
            certificates: Vec::new(),
            tasks,
        })
    }
}

/// The shared handler of a fleet persona's only service: plain TCP servers only.
fn plain_handler(protocol: &'static Protocol) -> Option<Handler> {
    match protocol {
        Protocol::Ftp(_)
        | Protocol::Mqtt(_)
        | Protocol::WeakSsh
        | Protocol::LegacyTls
        | Protocol::Vnc(_) => Some(Handler::Plain(protocol)),
        _ => None,
    }
}
