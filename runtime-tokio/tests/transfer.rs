//! A complete blind transfer among three endpoints over real loopback sockets (UDP, then
//! TCP), asserted on the wire and at all three parties.

use sipxfer::Transport;
use sipxfer_tokio::demo::{blind_transfer, check_blind_wire, shutdown, Party, Recorder};
use sipxfer_tokio::Builder;
use std::time::Duration;

async fn party(name: &str, recorder: &Recorder) -> Party {
    let builder = Builder::new("127.0.0.1:0".parse().unwrap()).tap(recorder.tap());
    let (handle, events) = sipxfer_tokio::bind(builder).await.expect("bind");
    let name = name.into();
    Party {
        name,
        handle,
        events,
    }
}

async fn transfer_over(transport: Transport) {
    let rec: [Recorder; 3] = Default::default();
    let mut parties = [
        party("alice", &rec[0]).await,
        party("bob", &rec[1]).await,
        party("carol", &rec[2]).await,
    ];
    let run = blind_transfer(&mut parties, transport);
    let report = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("the transfer ends in time")
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
    let bounded = tokio::time::timeout(
        Duration::from_secs(10),
        shutdown(&parties, Duration::from_secs(5)),
    );
    bounded.await.expect("shutdown ends");
    for p in &parties {
        assert!(p.handle.is_closed());
        let stats = p.handle.stats();
        assert_eq!(stats.dialogs, 0, "{}: no dialog left", p.name);
        assert_eq!(stats.parse_errors, 0, "{}: every message parsed", p.name);
    }
}

#[tokio::test]
async fn blind_transfer_over_udp() {
    transfer_over(Transport::Udp).await;
}

#[tokio::test]
async fn blind_transfer_over_tcp() {
    transfer_over(Transport::Tcp).await;
}

/// TCP connections are opened on demand, reused for the same destination (RFC 3261 §18) and
/// closed once idle.
#[tokio::test]
async fn tcp_connections_are_reused_then_closed_when_idle() {
    let options = sipxfer_tokio::Options {
        idle_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    let mut parties = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let builder = Builder::new("127.0.0.1:0".parse().unwrap()).options(options.clone());
        let (handle, events) = sipxfer_tokio::bind(builder).await.expect("bind");
        parties.push(Party {
            name: name.into(),
            handle,
            events,
        });
    }
    let mut parties: [Party; 3] = parties.try_into().unwrap();
    let report = tokio::time::timeout(
        Duration::from_secs(20),
        blind_transfer(&mut parties, Transport::Tcp),
    )
    .await
    .expect("in time")
    .expect("no command refused");
    assert!(
        report.succeeded(),
        "{}",
        report.summary(["alice", "bob", "carol"])
    );
    // alice-bob and bob-carol: at most one connection each way per pair (requests go to the
    // peer's listener, responses back on the connection they came in), however many
    // messages: alice 2, bob 4, carol 2 at most.
    let open: Vec<usize> = parties
        .iter()
        .map(|p| p.handle.stats().connections)
        .collect();
    assert!(
        open[0] <= 2 && open[1] <= 4 && open[2] <= 2 && open[1] >= 2,
        "{open:?}"
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let open: Vec<usize> = parties
        .iter()
        .map(|p| p.handle.stats().connections)
        .collect();
    assert_eq!(open, [0, 0, 0], "idle connections closed");
    shutdown(&parties, Duration::from_secs(5)).await;
}

/// A call to a TCP address where nothing listens fails as soon as the connection is refused:
/// the runtime reports the failed connect and the core answers the INVITE with a 503 of its
/// own (RFC 3261 §8.1.3.1) — not 32 s later with Timer B's 408.
#[tokio::test]
async fn call_to_a_refused_tcp_connection_fails_at_once_with_503() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let (handle, mut events) = sipxfer_tokio::bind(Builder::new("127.0.0.1:0".parse().unwrap()))
        .await
        .expect("bind");
    let target = format!("sip:bob@127.0.0.1:{port};transport=tcp");
    let target = sipxfer::msg::Uri::parse(&target).unwrap();
    let call = handle
        .call(target, sipxfer::CallOptions::default())
        .await
        .unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(e) = events.next().await {
            if let sipxfer::Event::CallState {
                call: c,
                state: sipxfer::CallState::Terminated { reason },
                status,
            } = e
            {
                return Some((c, reason, status));
            }
        }
        None
    })
    .await
    .expect("the call ends within 5 s");
    assert_eq!(ended, Some((call, sipxfer::EndReason::Rejected, Some(503))));
    assert_eq!(handle.stats().unreachable, 1);
    handle.shutdown(Duration::from_secs(1)).await;
}
