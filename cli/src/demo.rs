//! `sipxfer demo`: three user agents (alice, bob, carol) on 127.0.0.1 ephemeral ports in
//! this process, real sockets through the chosen adapter; a blind transfer among them; the
//! ladder of every message and one summary line per transfer. Exit 0 only if every transfer
//! reached its RFC outcome at all three parties and on the wire.

use sipxfer::Transport;
use sipxfer_driver::demo::{blind_transfer, check_blind_wire, shutdown, Party, Recorder, Report};
use sipxfer_driver::Builder;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

/// Which adapter runs the three user agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeKind {
    /// `sipxfer-tokio`.
    Tokio,
    /// `sipxfer-async-std` (async-io; here on async-std's executor).
    AsyncStd,
}

const NAMES: [&str; 3] = ["alice", "bob", "carol"];
/// The whole demo's bound (it takes well under a second on loopback).
const LIMIT: Duration = Duration::from_secs(20);

fn builder(rec: &Recorder) -> Builder {
    Builder::new("127.0.0.1:0".parse().expect("an address")).tap(rec.tap())
}

/// What one run saw.
struct Run {
    report: Result<Report, String>,
    addrs: Vec<std::net::SocketAddr>,
}

async fn run_parties(mut parties: [Party; 3], transport: Transport) -> Run {
    let addrs = parties.iter().map(|p| p.handle.local_addr()).collect();
    let report = blind_transfer(&mut parties, transport)
        .await
        .map_err(|e| format!("a command was refused: {e}"));
    shutdown(&parties, Duration::from_secs(5)).await;
    Run { report, addrs }
}

fn on_tokio(recs: &[Recorder; 3], transport: Transport) -> std::io::Result<Run> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut parties = Vec::new();
        for (name, rec) in NAMES.iter().zip(recs) {
            let (handle, events) = sipxfer_tokio::bind(builder(rec)).await?;
            let name = name.to_string();
            parties.push(Party {
                name,
                handle,
                events,
            });
        }
        let parties: [Party; 3] = parties.try_into().expect("three");
        match tokio::time::timeout(LIMIT, run_parties(parties, transport)).await {
            Ok(run) => Ok(run),
            Err(_) => Ok(Run {
                report: Err(format!("no outcome within {LIMIT:?}")),
                addrs: Vec::new(),
            }),
        }
    })
}

fn on_async_std(recs: &[Recorder; 3], transport: Transport) -> std::io::Result<Run> {
    use futures_lite::FutureExt;
    async_std::task::block_on(async {
        let mut parties = Vec::new();
        for (name, rec) in NAMES.iter().zip(recs) {
            let (handle, events, driver) = sipxfer_async_std::bind_driver(builder(rec))?;
            async_std::task::spawn(driver);
            let name = name.to_string();
            parties.push(Party {
                name,
                handle,
                events,
            });
        }
        let parties: [Party; 3] = parties.try_into().expect("three");
        let timeout = async {
            async_io::Timer::after(LIMIT).await;
            Run {
                report: Err(format!("no outcome within {LIMIT:?}")),
                addrs: Vec::new(),
            }
        };
        Ok(run_parties(parties, transport).or(timeout).await)
    })
}

/// Runs the demo; prints the ladder and the summary to `out`.
pub fn run(transport: Transport, runtime: RuntimeKind, out: &mut impl Write) -> ExitCode {
    let recs: [Recorder; 3] = Default::default();
    let run = match runtime {
        RuntimeKind::Tokio => on_tokio(&recs, transport),
        RuntimeKind::AsyncStd => on_async_std(&recs, transport),
    };
    let run = match run {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sipxfer demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sent = recs.each_ref().map(Recorder::sent);
    let tp = match transport {
        Transport::Tcp => "TCP",
        _ => "UDP",
    };
    let rt = match runtime {
        RuntimeKind::Tokio => "tokio",
        RuntimeKind::AsyncStd => "async-std",
    };
    let _ = writeln!(
        out,
        "sipxfer demo: blind transfer (RFC 5589 §6) over {tp} on 127.0.0.1, runtime {rt}\n"
    );
    if run.addrs.len() == 3 {
        let parties: Vec<(&str, std::net::SocketAddr)> = NAMES
            .iter()
            .copied()
            .zip(run.addrs.iter().copied())
            .collect();
        let _ = writeln!(out, "{}", crate::ladder::render(&parties, &sent));
    }
    let wire = check_blind_wire([&sent[0], &sent[1], &sent[2]], transport);
    let (ok, line) = match &run.report {
        Ok(report) => {
            let ok = report.succeeded() && wire.is_ok();
            let verdict = if ok { "succeeded" } else { "FAILED" };
            let mut line = format!(
                "blind transfer alice -> bob -> carol: {verdict} at all three parties\n{}",
                report.summary(NAMES)
            );
            if let Err(w) = &wire {
                line.push_str(&format!("\n  on the wire: expected that {w}"));
            }
            (ok, line)
        }
        Err(e) => (
            false,
            format!("blind transfer alice -> bob -> carol: FAILED: {e}"),
        ),
    };
    let _ = writeln!(out, "{line}");
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
