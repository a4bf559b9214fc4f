//! The simulated devices: one table row per persona. Add a persona by adding a row.

use super::guarded::{Defence, Guarded};
use super::http::Site;
use super::rtsp::Stream;
use super::telnet::Login;
use super::Credential;

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
    /// HTTP inside TLS 1.3, with a certificate minted at lab start.
    Https(Site),
    DebugConsole,
    /// Hand-crafted TLS 1.0/1.1 with 3DES/CBC and an RSA-1024 SHA-1 expired certificate.
    LegacyTls,
    /// HTTP inside TLS 1.2 and 1.3 (rustls, AEAD only), certificate minted at lab start.
    Https12(Site),
    /// An SSH banner and a KEXINIT with weak algorithms.
    WeakSsh,
    /// An admin page behind HTTP Basic with a brute-force defence (S1.1-04).
    Guarded(Guarded),
}

impl Protocol {
    /// The service kind reported in [`super::LabDevice::listening`].
    pub fn kind(&self) -> &'static str {
        match self {
            Protocol::Telnet(_) => "telnet",
            Protocol::Http(_) => "http",
            Protocol::Rtsp(_) => "rtsp",
            Protocol::Https(_) => "tls",
            Protocol::DebugConsole => "unknown",
            Protocol::LegacyTls | Protocol::Https12(_) => "tls",
            Protocol::WeakSsh => "ssh",
            Protocol::Guarded(_) => "http",
        }
    }
}

const BUSYBOX_BANNER: &str =
    "\r\n\r\nBusyBox v1.19.4 (2016-08-10 12:00:00 CST) built-in shell (ash)\r\n\
    Enter 'help' for a list of built-in commands.\r\n\r\n";

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
                    banner: BUSYBOX_BANNER,
                    max_attempts: 3,
                    greeting: "",
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
            protocol: Protocol::Https(Site {
                title: "JCS-HUB-200",
                model: "JCS-HUB-200",
                server: "jcs-httpd/2.0",
                protected: &["/admin"],
                admin: None,
                live_view_port: None,
                extra_headers: &[
                    ("Strict-Transport-Security", "max-age=31536000"),
                    ("X-Content-Type-Options", "nosniff"),
                ],
            }),
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
                    banner: BUSYBOX_BANNER,
                    max_attempts: 3,
                    // Prompt characters in a banner must not pass for a shell.
                    greeting: "JCS-CAM-300 # maintenance port $ \r\n# $ \r\n",
                }),
            },
            Service {
                port: 8080,
                declared: true,
                protocol: Protocol::Http(Site {
                    title: "JCS-CAM-300",
                    model: "JCS-CAM-300",
                    server: "jcs-httpd/3.0",
                    protected: &["/admin", "/cgi-bin/config", "/status.html"],
                    admin: Some(Credential {
                        user: "admin",
                        password: "Zt4-unit-90317",
                    }),
                    live_view_port: None,
                    extra_headers: &[],
                }),
            },
        ],
        evidence: &[],
    },
    // S1.1-04 personas: one guarded admin login each, hosts 16-19.
    Persona {
        name: "open-door-cam",
        host: 16,
        model: "JCS-BF-160",
        services: &[Service {
            port: 8080,
            declared: true,
            protocol: Protocol::Guarded(Guarded {
                model: "JCS-BF-160",
                credential: OPERATOR,
                defence: Defence::Nothing,
            }),
        }],
        evidence: &[],
    },
    Persona {
        name: "slow-login-hub",
        host: 17,
        model: "JCS-BF-170",
        services: &[Service {
            port: 8080,
            declared: true,
            protocol: Protocol::Guarded(Guarded {
                model: "JCS-BF-170",
                credential: OPERATOR,
                defence: Defence::GrowingDelay { step_ms: 250 },
            }),
        }],
        evidence: &[],
    },
    Persona {
        name: "lockout-nvr",
        host: 18,
        model: "JCS-BF-180",
        services: &[Service {
            port: 8080,
            declared: true,
            protocol: Protocol::Guarded(Guarded {
                model: "JCS-BF-180",
                credential: OPERATOR,
                defence: Defence::Lockout { after: 5 },
            }),
        }],
        evidence: &[],
    },
    Persona {
        name: "per-user-lock-cam",
        host: 19,
        model: "JCS-BF-190",
        services: &[Service {
            port: 8080,
            declared: true,
            protocol: Protocol::Guarded(Guarded {
                model: "JCS-BF-190",
                credential: OPERATOR,
                defence: Defence::PerUserLockout { after: 5 },
            }),
        }],
        evidence: &[],
    },
];
