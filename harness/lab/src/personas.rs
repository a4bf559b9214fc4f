//! The simulated devices: one table row per persona. Add a persona by adding a row.

use super::auth::{Gate, Scheme};
use super::ftp::FtpServer;
use super::guarded::{Defence, Guarded};
use super::http::Site;
use super::mqtt::Broker;
use super::rtsp::Stream;
use super::snmp::Agent;
use super::ssh_login::SshLogin;
use super::telnet::Login;
use super::vnc::Desktop;
use super::Credential;
use super::{mdns::MdnsService, ssdp::Upnp, wsd::Onvif};

/// One simulated device model and how it behaves.
#[derive(Debug)]
pub(crate) struct Persona {
    /// Device name in the inventory (also the TLS DNS name, `<name>.lab`).
    pub name: &'static str,
    /// Last octet of its address `127.77.<subnet>.<host>`.
    pub host: u8,
    /// Vendor model name.
    pub model: &'static str,
    /// Everything that listens on the device.
    pub services: &'static [Service],
    /// Vendor evidence for the inventory's `[device.evidence]` table, in order.
    pub evidence: &'static [(&'static str, &'static str)],
}

/// One listening port of a persona.
#[derive(Debug)]
pub(crate) struct Service {
    /// TCP port on the device address.
    pub port: u16,
    /// Whether the vendor documents this port (undeclared ports should be flagged).
    pub declared: bool,
    /// The server listening there.
    pub protocol: Protocol,
}

/// The server behind a port.
#[derive(Debug)]
pub(crate) enum Protocol {
    Telnet(Login),
    Http(Site),
    Rtsp(Stream),
    DebugConsole,
    /// Hand-crafted TLS 1.0/1.1 with 3DES/CBC and an RSA-1024 SHA-1 expired certificate.
    LegacyTls,
    /// HTTP inside TLS 1.2 and 1.3 (rustls, AEAD only), certificate minted at lab start.
    Https12(Site),
    /// An SSH banner and a KEXINIT with weak algorithms.
    WeakSsh,
    /// FTP USER/PASS, optionally anonymous.
    Ftp(FtpServer),
    /// An MQTT 3.1.1 / 5 broker.
    Mqtt(Broker),
    /// An RFB 3.8 desktop (security type None or VNC authentication).
    Vnc(Desktop),
    /// An SNMP v1/v2c agent on UDP (the port is a UDP port).
    Snmp(Agent),
    /// HTTP whose protected paths sit behind Basic or Digest authentication.
    HttpAuth(Site, Gate),
    /// RTSP whose stream `DESCRIBE` sits behind Basic or Digest authentication.
    RtspAuth(Stream, Gate),
    /// Telnet that prints this banner and a root shell prompt without any login.
    OpenShell(&'static str),
    /// A real SSH handshake (russh) with password or public-key-only authentication.
    Ssh(SshLogin),
    /// An admin page behind HTTP Basic with a brute-force defence (S1.1-04).
    Guarded(Guarded),
    /// HTTP inside TLS 1.3 (certificate minted at lab start) with a brute-force defence on the
    /// Basic login of the protected paths.
    GuardedHttps(Site, Defence),
    /// An SSDP responder on UDP answering unicast M-SEARCH with a LOCATION.
    Ssdp(&'static Upnp),
    /// The HTTP server of a UPnP device: description and (IGD) control.
    UpnpHttp(&'static Upnp),
    /// A CoAP server on UDP with this `/.well-known/core` link-format document.
    Coap(&'static str),
    /// An mDNS responder on UDP answering unicast DNS-SD queries.
    Mdns(&'static [MdnsService]),
    /// A WS-Discovery target service on UDP.
    WsDiscovery(Onvif),
    /// A NAT-PMP server on UDP handing out this external address.
    NatPmp([u8; 4]),
    /// A bound UDP port that never answers.
    SilentUdp,
}

impl Protocol {
    /// The service kind reported in [`super::LabDevice::listening`].
    pub fn kind(&self) -> &'static str {
        match self {
            Protocol::Telnet(_) => "telnet",
            Protocol::Http(_) => "http",
            Protocol::Rtsp(_) => "rtsp",
            Protocol::DebugConsole => "unknown",
            Protocol::LegacyTls | Protocol::Https12(_) => "tls",
            Protocol::WeakSsh => "ssh",
            Protocol::Ftp(_) => "ftp",
            Protocol::Mqtt(_) => "mqtt",
            Protocol::Vnc(_) => "vnc",
            Protocol::Snmp(_) => "snmp",
            Protocol::HttpAuth(..) => "http",
            Protocol::RtspAuth(..) => "rtsp",
            Protocol::OpenShell(_) => "telnet",
            Protocol::Ssh(_) => "ssh",
            Protocol::Guarded(_) => "http",
            Protocol::GuardedHttps(..) => "tls",
            Protocol::Ssdp(_) => "ssdp",
            Protocol::UpnpHttp(_) => "http",
            Protocol::Coap(_) => "coap",
            Protocol::Mdns(_) => "mdns",
            Protocol::WsDiscovery(_) => "ws-discovery",
            Protocol::NatPmp(_) => "nat-pmp",
            Protocol::SilentUdp => "udp",
        }
    }

    /// Whether the service listens on UDP (its port is a UDP port).
    pub fn is_udp(&self) -> bool {
        matches!(
            self,
            Protocol::Snmp(_)
                | Protocol::Ssdp(_)
                | Protocol::Coap(_)
                | Protocol::Mdns(_)
                | Protocol::WsDiscovery(_)
                | Protocol::NatPmp(_)
                | Protocol::SilentUdp
        )
    }
}

const BUSYBOX_BANNER: &str =
    "\r\n\r\nBusyBox v1.19.4 (2016-08-10 12:00:00 CST) built-in shell (ash)\r\n\
    Enter 'help' for a list of built-in commands.\r\n\r\n";

/// The default pair the weak personas of hosts 7–15 accept.
const ADMIN_ADMIN: Credential = Credential {
    user: "admin",
    password: "admin",
};

/// A per-unit style password no default list contains.
const STRONG_ADMIN: Credential = Credential {
    user: "admin",
    password: "Kv9-unit-27754",
};

const fn gate(scheme: Scheme, realm: &'static str, credential: Credential) -> Gate {
    Gate {
        scheme,
        realm,
        credential,
        keep_alive: false,
    }
}

/// `gate` on a web server that keeps a connection alive for a client that asks.
const fn kept_alive(gate: Gate) -> Gate {
    Gate {
        keep_alive: true,
        ..gate
    }
}

/// An S1.1-04 persona: one declared admin login on 8080/tcp with `defence`.
macro_rules! guarded_persona {
    ($name:literal, $host:literal, $model:literal, $defence:expr) => {
        Persona {
            name: $name,
            host: $host,
            model: $model,
            services: &[Service {
                port: 8080,
                declared: true,
                protocol: Protocol::Guarded(Guarded {
                    model: $model,
                    credential: OPERATOR,
                    defence: $defence,
                }),
            }],
            evidence: &[],
        }
    };
}

const fn nvr_site(model: &'static str) -> Site {
    Site {
        title: model,
        model,
        server: "jcs-httpd/4.0",
        protected: &["/admin", "/cgi-bin/config"],
        admin: None,
        live_view_port: None,
        extra_headers: &[],
        pages: &[],
    }
}

const fn nvr_stream(model: &'static str) -> Stream {
    Stream {
        model,
        server: "jcs-rtspd/2.0",
        path: "/live",
    }
}

/// The access-control personas (hosts 7–15): weak and strong variants of every login surface.
pub(crate) const ACCESS_PERSONAS: &[Persona] = &[
    Persona {
        name: "weak-nas",
        host: 7,
        model: "JCS-NAS-700",
        services: &[Service {
            port: 2121,
            declared: true,
            protocol: Protocol::Ftp(FtpServer {
                greeting: "JCS-NAS-700 FTP server ready.",
                anonymous: true,
                account: ADMIN_ADMIN,
            }),
        }],
        evidence: &[],
    },
    Persona {
        name: "strong-nas",
        host: 8,
        model: "JCS-NAS-800",
        services: &[Service {
            port: 2121,
            declared: true,
            protocol: Protocol::Ftp(FtpServer {
                greeting: "JCS-NAS-800 FTP server ready.",
                anonymous: false,
                account: STRONG_ADMIN,
            }),
        }],
        evidence: &[],
    },
    Persona {
        name: "weak-broker",
        host: 9,
        model: "JCS-MQ-900",
        services: &[Service {
            port: 1883,
            declared: true,
            protocol: Protocol::Mqtt(Broker {
                anonymous: true,
                account: ADMIN_ADMIN,
                levels: &[4, 5],
                retained: &[("home/door/state", "open")],
            }),
        }],
        evidence: &[],
    },
    Persona {
        name: "strong-broker",
        host: 10,
        model: "JCS-MQ-1000",
        services: &[Service {
            port: 1883,
            declared: true,
            // MQTT 5 only: 3.1.1 clients are refused with "unacceptable protocol version".
            protocol: Protocol::Mqtt(Broker {
                anonymous: false,
                account: Credential {
                    user: "gw-27754",
                    password: "Kv9-unit-27754",
                },
                levels: &[5],
                retained: &[("home/door/state", "closed")],
            }),
        }],
        evidence: &[],
    },
    Persona {
        name: "weak-kvm",
        host: 11,
        model: "JCS-KVM-1100",
        services: &[
            Service {
                port: 5900,
                declared: true,
                protocol: Protocol::Vnc(Desktop::Open),
            },
            Service {
                port: 5901,
                declared: true,
                protocol: Protocol::Vnc(Desktop::Password("123456")),
            },
        ],
        evidence: &[],
    },
    Persona {
        name: "strong-kvm",
        host: 12,
        model: "JCS-KVM-1200",
        services: &[Service {
            port: 5900,
            declared: true,
            protocol: Protocol::Vnc(Desktop::Password("q7Vx-27754")),
        }],
        evidence: &[],
    },
    Persona {
        name: "weak-nvr",
        host: 13,
        model: "JCS-NVR-1300",
        services: &[
            Service {
                port: 2323,
                declared: true,
                protocol: Protocol::OpenShell(BUSYBOX_BANNER),
            },
            Service {
                port: 8080,
                declared: true,
                protocol: Protocol::HttpAuth(
                    nvr_site("JCS-NVR-1300"),
                    kept_alive(gate(Scheme::Digest("MD5"), "JCS-NVR-1300", ADMIN_ADMIN)),
                ),
            },
            Service {
                port: 8081,
                declared: true,
                protocol: Protocol::HttpAuth(
                    nvr_site("JCS-NVR-1300"),
                    gate(Scheme::Digest("SHA-256"), "JCS-NVR-1300", ADMIN_ADMIN),
                ),
            },
            Service {
                port: 8554,
                declared: true,
                protocol: Protocol::RtspAuth(
                    nvr_stream("JCS-NVR-1300"),
                    gate(Scheme::Basic, "JCS-NVR-1300", ADMIN_ADMIN),
                ),
            },
            Service {
                port: 8555,
                declared: true,
                protocol: Protocol::RtspAuth(
                    nvr_stream("JCS-NVR-1300"),
                    gate(Scheme::Digest("MD5"), "JCS-NVR-1300", ADMIN_ADMIN),
                ),
            },
            Service {
                port: 1161,
                declared: true,
                protocol: Protocol::Snmp(Agent {
                    community: "public",
                    descr: "JCS-NVR-1300 firmware 1.0",
                    writable: true,
                    sys_name: "weak-nvr",
                }),
            },
        ],
        evidence: &[],
    },
    Persona {
        name: "strong-nvr",
        host: 14,
        model: "JCS-NVR-1400",
        services: &[
            Service {
                port: 8080,
                declared: true,
                protocol: Protocol::HttpAuth(
                    nvr_site("JCS-NVR-1400"),
                    kept_alive(gate(Scheme::Digest("MD5"), "JCS-NVR-1400", STRONG_ADMIN)),
                ),
            },
            Service {
                port: 8081,
                declared: true,
                protocol: Protocol::HttpAuth(
                    nvr_site("JCS-NVR-1400"),
                    gate(Scheme::Digest("SHA-256"), "JCS-NVR-1400", STRONG_ADMIN),
                ),
            },
            Service {
                port: 8554,
                declared: true,
                protocol: Protocol::RtspAuth(
                    nvr_stream("JCS-NVR-1400"),
                    gate(Scheme::Basic, "JCS-NVR-1400", STRONG_ADMIN),
                ),
            },
            Service {
                port: 8555,
                declared: true,
                protocol: Protocol::RtspAuth(
                    nvr_stream("JCS-NVR-1400"),
                    gate(Scheme::Digest("MD5"), "JCS-NVR-1400", STRONG_ADMIN),
                ),
            },
            Service {
                port: 1161,
                declared: true,
                protocol: Protocol::Snmp(Agent {
                    community: "nvr-27754-ro",
                    descr: "JCS-NVR-1400 firmware 2.3",
                    writable: false,
                    sys_name: "strong-nvr",
                }),
            },
        ],
        evidence: &[],
    },
    Persona {
        name: "ssh-gateway",
        host: 15,
        model: "JCS-GW-1500",
        services: &[
            // Weak: password login with the default admin/admin.
            Service {
                port: 2222,
                declared: true,
                protocol: Protocol::Ssh(SshLogin::Password(ADMIN_ADMIN)),
            },
            // Strong: public keys only, no password method at all.
            Service {
                port: 2223,
                declared: true,
                protocol: Protocol::Ssh(SshLogin::KeyOnly),
            },
        ],
        evidence: &[],
    },
];

/// The operator credential of the S1.1-04 personas (declared in the demo inventory).
const OPERATOR: Credential = Credential {
    user: "admin",
    password: "Op-7731-demo",
};

/// Every persona a lab starts.
pub(crate) const PERSONAS: &[Persona] = &[
    Persona {
        name: "weak-camera",
        host: 1,
        model: "JCS-CAM-100",
        services: &[
            Service {
                port: 2323,
                declared: true,
                protocol: Protocol::Telnet(Login {
                    credential: Credential {
                        user: "root",
                        password: "xc3511",
                    },
                    // A second default account: S1.1-02 must report both, not the first.
                    also_accepts: &[Credential {
                        user: "admin",
                        password: "admin",
                    }],
                    banner: BUSYBOX_BANNER,
                    max_attempts: 3,
                    greeting: "",
                    echo: false,
                    failure_delay_ms: 0,
                }),
            },
            Service {
                port: 8080,
                declared: true,
                protocol: Protocol::Http(Site {
                    title: "JCS-CAM-100 Admin",
                    model: "JCS-CAM-100",
                    server: "jcs-httpd/1.0",
                    protected: &["/admin", "/cgi-bin/config"],
                    admin: Some(Credential {
                        user: "admin",
                        password: "admin",
                    }),
                    live_view_port: Some(8554),
                    extra_headers: &[],
                    pages: &[("/upgrade", UPGRADE_FORM)],
                }),
            },
            Service {
                port: 8554,
                declared: true,
                protocol: Protocol::Rtsp(Stream {
                    model: "JCS-CAM-100",
                    server: "jcs-rtspd/1.0",
                    path: "/live",
                }),
            },
            Service {
                port: 9527,
                declared: false,
                protocol: Protocol::DebugConsole,
            },
        ],
        evidence: &[],
    },
    Persona {
        name: "hardened-device",
        host: 2,
        model: "JCS-HUB-200",
        services: &[Service {
            port: 8443,
            declared: true,
            // The good example: its admin login locks after 5 failures, valid password too.
            protocol: Protocol::GuardedHttps(
                Site {
                    title: "JCS-HUB-200",
                    model: "JCS-HUB-200",
                    server: "jcs-httpd/2.0",
                    protected: &["/admin", "/system/upgrade"],
                    admin: Some(Credential {
                        user: "admin",
                        password: "Hub-5820-unit",
                    }),
                    live_view_port: None,
                    extra_headers: &[
                        ("Strict-Transport-Security", "max-age=31536000"),
                        ("X-Content-Type-Options", "nosniff"),
                    ],
                    pages: &[
                        ("/.well-known/security.txt", HUB_SECURITY_TXT),
                        ("/system/upgrade", UPGRADE_FORM),
                    ],
                },
                Defence::Lockout { after: 5 },
            ),
        }],
        evidence: &[
            ("vdp_url", "https://vendor.example/security/vdp"),
            ("support_end_date", "2031-03-31"),
            (
                "support_period_url",
                "https://vendor.example/support/period",
            ),
            (
                "update_procedure_url",
                "https://vendor.example/support/update",
            ),
            ("update_mode", "automatic"),
            (
                "update_verification",
                "RSA-3072 signed images, verified by the bootloader",
            ),
            (
                "password_scheme",
                "unique per-unit password printed on the label",
            ),
        ],
    },
    Persona {
        name: "legacy-nvr",
        host: 3,
        model: "JCS-NVR-300",
        services: &[Service {
            port: 8443,
            declared: true,
            protocol: Protocol::LegacyTls,
        }],
        evidence: &[],
    },
    Persona {
        name: "modern-gateway",
        host: 4,
        model: "JCS-GW-400",
        services: &[Service {
            port: 8443,
            declared: true,
            protocol: Protocol::Https12(Site {
                title: "JCS-GW-400",
                model: "JCS-GW-400",
                server: "jcs-httpd/2.1",
                protected: &["/admin"],
                admin: None,
                live_view_port: None,
                extra_headers: &[("Strict-Transport-Security", "max-age=31536000")],
                pages: &[],
            }),
        }],
        evidence: &[],
    },
    Persona {
        name: "old-router",
        host: 5,
        model: "JCS-RTR-500",
        services: &[Service {
            port: 8888,
            declared: true,
            protocol: Protocol::WeakSsh,
        }],
        evidence: &[],
    },
    Persona {
        name: "strong-camera",
        host: 6,
        model: "JCS-CAM-300",
        services: &[
            Service {
                port: 2323,
                declared: true,
                protocol: Protocol::Telnet(Login {
                    credential: Credential {
                        user: "root",
                        password: "Qm7-unit-48213",
                    },
                    also_accepts: &[],
                    banner: BUSYBOX_BANNER,
                    max_attempts: 3,
                    // Prompt characters in a banner must not pass for a shell.
                    greeting: "JCS-CAM-300 # maintenance port $ \r\n# $ \r\n",
                    echo: false,
                    failure_delay_ms: 0,
                }),
            },
            Service {
                port: 8080,
                declared: true,
                protocol: Protocol::Http(Site {
                    title: "JCS-CAM-300",
                    model: "JCS-CAM-300",
                    server: "jcs-httpd/3.0",
                    protected: &[
                        "/admin",
                        "/cgi-bin/config",
                        "/status.html",
                        "/system/upgrade",
                    ],
                    admin: Some(Credential {
                        user: "admin",
                        password: "Zt4-unit-90317",
                    }),
                    live_view_port: None,
                    extra_headers: &[],
                    pages: &[
                        ("/system/upgrade", UPGRADE_FORM),
                        ("/.well-known/security.txt", EXPIRED_SECURITY_TXT),
                    ],
                }),
            },
        ],
        evidence: &[],
    },
    // S1.1-04 personas: one guarded admin login each, hosts 16-20.
    guarded_persona!("open-door-cam", 16, "JCS-BF-160", Defence::Nothing),
    guarded_persona!(
        "slow-login-hub",
        17,
        "JCS-BF-170",
        Defence::GrowingDelay { step_ms: 250 }
    ),
    guarded_persona!(
        "lockout-nvr",
        18,
        "JCS-BF-180",
        Defence::Lockout { after: 5 }
    ),
    guarded_persona!(
        "per-user-lock-cam",
        19,
        "JCS-BF-190",
        Defence::PerUserLockout { after: 5 }
    ),
    // S1.1-04: slows down every new connection, but one kept-alive connection guesses at
    // full speed (bypass: several attempts per connection).
    guarded_persona!(
        "keepalive-gate-cam",
        20,
        "JCS-BF-200",
        Defence::ConnectionDelay { step_ms: 250 }
    ),
    // S1.1-04: locks like pam_faillock behind sshd, silently and briefly: after 5 failures
    // of a user name every login of it (the valid one too) is a plain 401 after 1.1 s, and
    // failures during the lock do not extend it. A late confirmation misses the lock.
    guarded_persona!(
        "short-lock-cam",
        30,
        "JCS-BF-300",
        Defence::QuietLockout {
            after: 5,
            delay_ms: 1100
        }
    ),
    // UDP IoT service personas (S1.1-13 UDP, UPnP IGD S1.1-01), hosts 21-25.
    Persona {
        name: "upnp-router",
        host: 21,
        model: "JCS-RTR-2100",
        services: &[
            Service {
                port: 1900,
                declared: false,
                protocol: Protocol::Ssdp(&ROUTER_UPNP),
            },
            // NAT-PMP on the gateway, undeclared: S1.1-13 warns, as for SSDP.
            Service {
                port: 5351,
                declared: false,
                protocol: Protocol::NatPmp([203, 0, 113, 7]),
            },
            Service {
                port: 49152,
                declared: true,
                protocol: Protocol::UpnpHttp(&ROUTER_UPNP),
            },
            Service {
                port: 1161,
                declared: false,
                protocol: Protocol::Snmp(Agent {
                    community: "public",
                    descr: "JCS-RTR-2100 firmware 3.1.4",
                    writable: false,
                    sys_name: "upnp-router",
                }),
            },
        ],
        evidence: &[],
    },
    Persona {
        name: "upnp-hub",
        host: 22,
        model: "JCS-HUB-2200",
        services: &[
            Service {
                port: 1900,
                declared: true,
                protocol: Protocol::Ssdp(&HUB_UPNP),
            },
            Service {
                port: 49153,
                declared: true,
                protocol: Protocol::UpnpHttp(&HUB_UPNP),
            },
            Service {
                port: 5353,
                declared: true,
                protocol: Protocol::Mdns(&[MdnsService {
                    service_type: "_http._tcp.local",
                    instance: "JCS-HUB-2200._http._tcp.local",
                    port: 49153,
                    txt: &["md=JCS-HUB-2200", "fw=2.2.0", "path=/"],
                }]),
            },
        ],
        evidence: &[],
    },
    Persona {
        name: "coap-sensor",
        host: 23,
        model: "JCS-SNS-2300",
        services: &[
            Service {
                port: 5683,
                declared: true,
                protocol: Protocol::Coap(
                    "</sensors/temp>;rt=\"temperature-c\";if=\"sensor\",</fw>;rt=\"firmware\"",
                ),
            },
            Service {
                port: 3702,
                declared: false,
                protocol: Protocol::SilentUdp,
            },
        ],
        evidence: &[],
    },
    Persona {
        name: "onvif-camera",
        host: 24,
        model: "JCS-CAM-2400",
        services: &[
            Service {
                port: 3702,
                declared: false,
                protocol: Protocol::WsDiscovery(Onvif {
                    hardware: "JCS-CAM-2400",
                    name: "front%20door",
                }),
            },
            Service {
                port: 5353,
                declared: false,
                protocol: Protocol::Mdns(&[MdnsService {
                    service_type: "_rtsp._tcp.local",
                    instance: "front door._rtsp._tcp.local",
                    port: 554,
                    txt: &["model=JCS-CAM-2400", "fwver=4.0.1"],
                }]),
            },
        ],
        evidence: &[],
    },
    Persona {
        name: "rogue-ssdp-plug",
        host: 25,
        model: "JCS-PLG-2500",
        services: &[Service {
            port: 1900,
            declared: true,
            protocol: Protocol::Ssdp(&ROGUE_UPNP),
        }],
        evidence: &[],
    },
];

/// The weak UPnP router: an IGD whose WANIPConnection control answers without authentication,
/// and a description that discloses the serial number.
const ROUTER_UPNP: Upnp = Upnp {
    manufacturer: "JCS",
    model_name: "JCS-RTR-2100",
    model_number: "2100-A",
    serial: Some("JCS2100-00042"),
    firmware: "3.1.4",
    server: "Linux/5.10 UPnP/1.0 jcs-upnpd/1.2",
    description_port: 49152,
    igd: true,
    location_host: None,
    answer_from_new_socket: false,
};

/// The well-configured hub: a basic device, no IGD, no serial number in the description. Its
/// SSDP stack answers from a fresh socket, as libupnp does.
const HUB_UPNP: Upnp = Upnp {
    manufacturer: "JCS",
    model_name: "JCS-HUB-2200",
    model_number: "2200",
    serial: None,
    firmware: "2.2.0",
    server: "Linux/6.1 UPnP/1.1 jcs-upnpd/2.0",
    description_port: 49153,
    igd: false,
    location_host: None,
    answer_from_new_socket: true,
};

/// A plug whose SSDP answer points at another device (host 21): never to be followed.
const ROGUE_UPNP: Upnp = Upnp {
    manufacturer: "JCS",
    model_name: "JCS-PLG-2500",
    model_number: "2500",
    serial: Some("JCS2500-0001"),
    firmware: "0.9",
    server: "RTOS/1.0 UPnP/1.0 jcs-plug/0.9",
    description_port: 49152,
    igd: false,
    location_host: Some(21),
    answer_from_new_socket: false,
};

/// Every persona a lab starts: [`PERSONAS`], then [`ACCESS_PERSONAS`], then
/// [`IDENTITY_PERSONAS`].
pub(crate) fn all() -> impl Iterator<Item = &'static Persona> {
    PERSONAS
        .iter()
        .chain(ACCESS_PERSONAS)
        .chain(IDENTITY_PERSONAS)
        .chain(VERDICT_PERSONAS)
}

/// Verdict personas (hosts 28 and up): devices that once misled a verdict.
pub(crate) const VERDICT_PERSONAS: &[Persona] = &[
    Persona {
        // A camera whose telnet echoes what is typed, the password included, and answers a wrong
        // password after 1.5 s: the echoed "jcs-wrong-…" must not read as an instant refusal.
        name: "echo-telnet-cam",
        host: 28,
        model: "JCS-CAM-280",
        services: &[Service {
            port: 2323,
            declared: true,
            protocol: Protocol::Telnet(Login {
                credential: Credential {
                    user: "root",
                    password: "Echo-4471-unit",
                },
                also_accepts: &[],
                banner: BUSYBOX_BANNER,
                max_attempts: 3,
                greeting: "",
                echo: true,
                failure_delay_ms: 1500,
            }),
        }],
        evidence: &[],
    },
    Persona {
        // An OEM camera with an ordinary form-login web UI: /admin and /update answer 200 with a
        // login form (one mentions firmware updates), and the page title names the OEM's board.
        // None of that is content served without authentication, an open update page or another
        // model of the declared family.
        name: "form-login-cam",
        host: 29,
        model: "JCS-CAM-290",
        services: &[Service {
            port: 8080,
            declared: true,
            protocol: Protocol::Http(Site {
                title: "NetSurveillance WEB (XM-510 board)",
                model: "JCS-CAM-290",
                server: "uc-httpd 1.0.0",
                protected: &[],
                admin: None,
                live_view_port: None,
                extra_headers: &[],
                pages: &[("/admin", LOGIN_FORM), ("/update", LOGIN_FORM)],
            }),
        }],
        evidence: &[],
    },
];

/// A form login page that mentions firmware updates, as many web UIs show before sign-in.
const LOGIN_FORM: &str = "<!DOCTYPE html>\n<html><head><title>Sign in</title></head>\n\
    <body><h1>Sign in</h1><p>Keep your firmware up to date: check for an update after signing \
    in.</p>\n<form method=\"post\" action=\"/login\">\n<input type=\"text\" name=\"user\">\n\
    <input type=\"password\" name=\"pass\">\n<input type=\"file\" name=\"avatar\" hidden>\n\
    <input type=\"submit\" value=\"Sign in\">\n</form>\n</body></html>\n";

/// A firmware-update form (S1.1-07): open on the weak camera, behind authentication elsewhere.
const UPGRADE_FORM: &str = "<!DOCTYPE html>\n<html><head><title>Firmware Upgrade</title></head>\n\
    <body><h1>Firmware upgrade</h1>\n<form method=\"post\" action=\"/cgi-bin/upgrade.cgi\" \
    enctype=\"multipart/form-data\">\n<input type=\"file\" name=\"firmware\">\n\
    <input type=\"submit\" value=\"Upgrade\">\n</form>\n</body></html>\n";

/// The hardened hub's security.txt (RFC 9116): valid, naming its declared VDP URL.
const HUB_SECURITY_TXT: &str = "# JCS security contact\nContact: mailto:psirt@vendor.example\n\
    Expires: 2099-12-31T23:59:59Z\nPolicy: https://vendor.example/security/vdp\n\
    Preferred-Languages: en, ja\n";

/// The strong camera's security.txt: expired, so S1.1-05 warns.
const EXPIRED_SECURITY_TXT: &str = "Contact: mailto:psirt@vendor.example\n\
    Expires: 2024-03-31T00:00:00Z\nPolicy: https://vendor.example/security/vdp\n";

/// Identity personas (hosts 26-27): the model on the web page versus the declared one (S1.1-10),
/// software headers versus the declared components (S1.1-06), declared update URLs (S1.1-08).
pub(crate) const IDENTITY_PERSONAS: &[Persona] = &[
    Persona {
        // An OEM camera sold as JCS-CAM-260 whose web page shows the OEM's model: S1.1-10 fails.
        name: "rebadged-cam",
        host: 26,
        model: "JCS-CAM-260",
        services: &[Service {
            port: 8080,
            declared: true,
            protocol: Protocol::Http(Site {
                title: "JCS-CAM-250 Web Admin",
                model: "JCS-CAM-250",
                server: "GoAhead-http/2.5.0",
                protected: &["/admin"],
                admin: None,
                live_view_port: None,
                extra_headers: &[("X-Powered-By", "PHP/5.6.40")],
                pages: &[],
            }),
        }],
        // PHP is not declared: S1.1-06 warns. The download URL is plain HTTP but the image is
        // declared signed: S1.1-08 warns.
        evidence: &[
            ("software_components", "GoAhead-http 2.5.0"),
            (
                "update_download_url",
                "http://dl.vendor.example/cam260/fw.bin",
            ),
            ("update_verification", "RSA-2048 signed images"),
        ],
    },
    Persona {
        // A sensor whose page names no model: S1.1-10 rests on the declared label photo.
        name: "plain-sensor",
        host: 27,
        model: "JCS-SNS-270",
        services: &[Service {
            port: 8080,
            declared: true,
            protocol: Protocol::Http(Site {
                title: "Sensor status",
                model: "Sensor",
                server: "lighttpd/1.4.69",
                protected: &["/admin"],
                admin: None,
                live_view_port: None,
                extra_headers: &[],
                pages: &[],
            }),
        }],
        // The update check URL is plain HTTP and nothing says the image is verified: S1.1-08
        // fails. The VDP URL is declared but no security.txt is served: S1.1-05 stays declared.
        evidence: &[
            ("label_photo", "evidence/jcs-sns-270-label.jpg"),
            ("software_components", "lighttpd 1.4.69"),
            ("vdp_url", "https://vendor.example/security/vdp"),
            (
                "update_check_url",
                "http://update.vendor.example/sns270/check",
            ),
        ],
    },
];
