//! The `jcstar` command.

use clap::Parser;
use jcstar::cli::{normalise_args, utf8_args, Cli};

fn main() {
    limit_malloc_arenas();
    let args = match utf8_args(std::env::args_os()) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("jcstar: {message}");
            std::process::exit(jcstar_model::error::ExitStatus::BadInput as i32);
        }
    };
    let cli = Cli::parse_from(normalise_args(args));
    let filter = match cli.verbose {
        0 | 1 => "warn",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("jcstar: run failed: cannot start the async runtime: {e}");
            std::process::exit(jcstar_model::error::ExitStatus::RunFailed as i32);
        }
    };
    let status = runtime.block_on(jcstar::app::run(cli));
    std::process::exit(status as i32);
}

/// glibc gives every thread that contends for the heap an arena of its own, up to eight per
/// core, and each keeps its freed pages: a 2,000-device run's peak RSS was a quarter higher for
/// it. One arena per core is enough for the runtime's one worker per core.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only sets a tuning parameter; it is called before any thread starts.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}
