//! A complete blind transfer among three endpoints over real loopback sockets (UDP, then
//! TCP), asserted on the wire and at all three parties, under the async-std executor and
//! under smol's.

use futures_lite::FutureExt;
use sipxfer::Transport;
use sipxfer_async_std::demo::{blind_transfer, check_blind_wire, shutdown, Party, Recorder};
use sipxfer_async_std::Builder;
use std::time::Duration;

/// How the driver runs: on async-io's own thread, or spawned on the test's executor.
type Spawn = fn(sipxfer_async_std::Driver);

async fn party(name: &str, recorder: &Recorder, spawn: Spawn) -> Party {
    let builder = Builder::new("127.0.0.1:0".parse().unwrap()).tap(recorder.tap());
    let (handle, events, driver) = sipxfer_async_std::bind_driver(builder).expect("bind");
    spawn(driver);
    let name = name.into();
    Party {
        name,
        handle,
        events,
    }
}

async fn transfer_over(transport: Transport, spawn: Spawn) {
    let rec: [Recorder; 3] = Default::default();
    let mut parties = [
        party("alice", &rec[0], spawn).await,
        party("bob", &rec[1], spawn).await,
        party("carol", &rec[2], spawn).await,
    ];
    let timeout = async {
        async_io::Timer::after(Duration::from_secs(20)).await;
        panic!("the transfer did not end in time")
    };
    let report = blind_transfer(&mut parties, transport)
        .or(timeout)
        .await
        .expect("no command refused");
    assert!(
        report.succeeded(),
        "{}",
        report.summary(["alice", "bob", "carol"])
    );
    assert_eq!(
        report.progress.first(),
        Some(&100),
        "NOTIFY 100 Trying first"
    );
    assert_eq!(report.progress.last(), Some(&200), "final NOTIFY 200");
    let sent = rec.each_ref().map(Recorder::sent);
    check_blind_wire([&sent[0], &sent[1], &sent[2]], transport).unwrap();
    shutdown(&parties, Duration::from_secs(5)).await;
    for p in &parties {
        assert!(p.handle.is_closed());
        let stats = p.handle.stats();
        assert_eq!(stats.dialogs, 0, "{}: no dialog left", p.name);
        assert_eq!(stats.parse_errors, 0, "{}: every message parsed", p.name);
    }
}

fn on_async_std(d: sipxfer_async_std::Driver) {
    async_std::task::spawn(d);
}

fn on_smol(d: sipxfer_async_std::Driver) {
    smol::spawn(d).detach();
}

#[test]
fn blind_transfer_async_std_udp() {
    async_std::task::block_on(transfer_over(Transport::Udp, on_async_std));
}

#[test]
fn blind_transfer_async_std_tcp() {
    async_std::task::block_on(transfer_over(Transport::Tcp, on_async_std));
}

#[test]
fn blind_transfer_smol_udp() {
    smol::block_on(transfer_over(Transport::Udp, on_smol));
}

#[test]
fn blind_transfer_smol_tcp() {
    smol::block_on(transfer_over(Transport::Tcp, on_smol));
}

/// `bind` runs the driver on a thread of its own: no executor needed.
#[test]
fn blind_transfer_on_the_drivers_own_thread() {
    async fn party(name: &str, recorder: &Recorder) -> Party {
        let builder = Builder::new("127.0.0.1:0".parse().unwrap()).tap(recorder.tap());
        let (handle, events) = sipxfer_async_std::bind(builder).await.expect("bind");
        let name = name.into();
        Party {
            name,
            handle,
            events,
        }
    }
    futures_lite::future::block_on(async {
        let rec: [Recorder; 3] = Default::default();
        let mut parties = [
            party("alice", &rec[0]).await,
            party("bob", &rec[1]).await,
            party("carol", &rec[2]).await,
        ];
        let report = blind_transfer(&mut parties, Transport::Udp).await.unwrap();
        assert!(
            report.succeeded(),
            "{}",
            report.summary(["alice", "bob", "carol"])
        );
        shutdown(&parties, Duration::from_secs(5)).await;
    });
}
