//! `sipxfer demo`: three user agents (alice, bob, carol) on 127.0.0.1 ephemeral ports in
//! this process, real sockets through the chosen adapter; a blind transfer among them, then
//! an attended one; the ladder of every message and one summary per transfer. Exit 0 only if
//! every transfer reached its RFC outcome at all three parties and on the wire.

use sipxfer::Transport;
use sipxfer_driver::demo::{
    check_attended_wire, check_blind_wire, shutdown, transfer, Kind, Party, Recorder, Report,
};
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

/// The two transfers, in order.
const KINDS: [Kind; 2] = [Kind::Blind, Kind::Attended];

/// What one run saw: per transfer, the report and how many messages each party had sent
/// when it ended.
struct Run {
    reports: Vec<(Result<Report, String>, [usize; 3])>,
    addrs: Vec<std::net::SocketAddr>,
}

async fn run_parties(mut parties: [Party; 3], transport: Transport, recs: &[Recorder; 3]) -> Run {
    let addrs = parties.iter().map(|p| p.handle.local_addr()).collect();
    let mut reports = Vec::new();
    for kind in KINDS {
        let report = transfer(&mut parties, transport, kind)
            .await
            .map_err(|e| format!("a command was refused: {e}"));
        let ok = report.as_ref().is_ok_and(Report::succeeded);
        reports.push((report, recs.each_ref().map(|r| r.sent().len())));
        if !ok {
            break;
        }
    }
    shutdown(&parties, Duration::from_secs(5)).await;
    Run { reports, addrs }
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
        match tokio::time::timeout(LIMIT, run_parties(parties, transport, recs)).await {
            Ok(run) => Ok(run),
            Err(_) => Ok(Run {
                reports: vec![(Err(format!("no outcome within {LIMIT:?}")), [0; 3])],
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
                reports: vec![(Err(format!("no outcome within {LIMIT:?}")), [0; 3])],
                addrs: Vec::new(),
            }
        };
        Ok(run_parties(parties, transport, recs).or(timeout).await)
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
    let mut ok = run.reports.len() == KINDS.len();
    let mut from = [0usize; 3];
    for (kind, (report, upto)) in KINDS.iter().zip(&run.reports) {
        let (name, rfc) = match kind {
            Kind::Blind => ("blind", "RFC 5589 §6"),
            Kind::Attended => ("attended", "RFC 5589 §7, RFC 3891"),
        };
        let _ = writeln!(
            out,
            "sipxfer demo: {name} transfer ({rfc}) over {tp} on 127.0.0.1, runtime {rt}\n"
        );
        // This transfer's messages: what each party sent since the previous one ended.
        let slice: [&[sipxfer_driver::Captured]; 3] =
            std::array::from_fn(|i| &sent[i][from[i].min(upto[i])..upto[i]]);
        if run.addrs.len() == 3 {
            let parties: Vec<(&str, std::net::SocketAddr)> = NAMES
                .iter()
                .copied()
                .zip(run.addrs.iter().copied())
                .collect();
            let lanes: Vec<Vec<sipxfer_driver::Captured>> =
                slice.iter().map(|s| s.to_vec()).collect();
            let _ = writeln!(out, "{}", crate::ladder::render(&parties, &lanes));
        }
        let wire = match kind {
            Kind::Blind => check_blind_wire(slice, transport),
            Kind::Attended => check_attended_wire(slice, transport),
        };
        let line = match report {
            Ok(report) => {
                let good = report.succeeded() && wire.is_ok();
                ok &= good;
                let verdict = if good { "succeeded" } else { "FAILED" };
                let mut line = format!(
                    "{name} transfer alice -> bob -> carol: {verdict} at all three parties\n{}",
                    report.summary(NAMES)
                );
                if let Err(w) = &wire {
                    line.push_str(&format!("\n  on the wire: expected that {w}"));
                }
                line
            }
            Err(e) => {
                ok = false;
                format!("{name} transfer alice -> bob -> carol: FAILED: {e}")
            }
        };
        let _ = writeln!(out, "{line}\n");
        from = *upto;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
