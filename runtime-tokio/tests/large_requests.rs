//! A request over 1 300 bytes bound for UDP goes over TCP (RFC 3261 §18.1.1), over real
//! loopback sockets: the INVITE of a call with a large offer, and its fallback to UDP when the
//! peer has no TCP listener.

use bytes::Bytes;
use sipxfer::msg::Uri;
use sipxfer::{CallOptions, CallState, Event, Transport};
use sipxfer_tokio::demo::{invite_vias, large_sdp};
use sipxfer_tokio::{Builder, Captured, Direction, Events, Handle, Transports};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const ANSWER: &[u8] =
    b"v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";

type Log = Arc<Mutex<Vec<Captured>>>;

async fn party(transports: Transports) -> (Handle, Events, Log) {
    let log: Log = Default::default();
    let tap = log.clone();
    let builder = Builder::new("127.0.0.1:0".parse().unwrap())
        .transports(transports)
        .tap(move |c: &Captured| tap.lock().unwrap().push(c.clone()));
    let (handle, events) = sipxfer_tokio::bind(builder).await.expect("bind");
    (handle, events, log)
}

/// The INVITEs `log` holds that went `direction`: their transports and Vias.
fn invites(log: &Log, direction: Direction) -> Vec<(Transport, String)> {
    invite_vias(&log.lock().unwrap(), direction)
}

/// Every INVITE `sender` sent and `receiver` received (at least one each) went over UDP,
/// its Via saying so.
fn all_over_udp(sender: &Log, receiver: &Log) {
    let via_udp = (Transport::Udp, "Via: SIP/2.0/UDP".to_string());
    for got in [
        invites(receiver, Direction::Received),
        invites(sender, Direction::Sent),
    ] {
        assert!(
            !got.is_empty() && got.iter().all(|i| *i == via_udp),
            "{got:?}"
        );
    }
}

/// Alice calls bob (his UDP URI) with the large offer; bob answers; alice waits for the call
/// to be up, then hangs up.
async fn large_call(alice: &Handle, ae: &mut Events, bob: &Handle, be: &mut Events) {
    let target = Uri::parse(&format!("sip:bob@{}", bob.local_addr())).unwrap();
    let options = CallOptions {
        offer: Some(large_sdp("alice", alice.local_addr())),
        ..Default::default()
    };
    let call = alice.call(target, options).await.unwrap();
    let answered = async {
        while let Some(e) = be.next().await {
            if let Event::IncomingCall { call, offer, .. } = e {
                assert_eq!(
                    offer.as_deref(),
                    Some(&large_sdp("alice", alice.local_addr())[..])
                );
                bob.answer(call, Some(Bytes::from_static(ANSWER)))
                    .await
                    .unwrap();
                return;
            }
        }
    };
    let up = async {
        while let Some(e) = ae.next().await {
            if let Event::CallState {
                state: CallState::Confirmed,
                ..
            } = e
            {
                return;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), async {
        tokio::join!(answered, up)
    })
    .await
    .expect("the call is up within 10 s");
    alice.hangup(call).await.unwrap();
}

#[tokio::test]
async fn a_large_invite_goes_over_tcp() {
    let (alice, mut ae, alog) = party(Transports::default()).await;
    let (bob, mut be, blog) = party(Transports::default()).await;
    large_call(&alice, &mut ae, &bob, &mut be).await;
    let via_tcp = (Transport::Tcp, "Via: SIP/2.0/TCP".to_string());
    assert_eq!(
        invites(&alog, Direction::Sent),
        std::slice::from_ref(&via_tcp)
    );
    // Bob reads it off the connection (a read may hold part of the message: at least its
    // head).
    assert_eq!(invites(&blog, Direction::Received).first(), Some(&via_tcp));
    assert_eq!(alice.stats().sized_to_tcp, 1);
    assert_eq!(bob.stats().parse_errors, 0);
    alice.shutdown(Duration::from_secs(2)).await;
    bob.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn with_no_tcp_listener_at_the_peer_it_goes_over_udp_after_all() {
    // Bob listens on UDP only: alice's connection to his port is refused (a TCP reset), and
    // the INVITE goes over UDP in the same transaction (§18.1.1: "the element SHOULD retry
    // the request, using UDP").
    let (alice, mut ae, alog) = party(Transports::default()).await;
    let (bob, mut be, blog) = party(Transports {
        udp: true,
        tcp: false,
    })
    .await;
    large_call(&alice, &mut ae, &bob, &mut be).await;
    // The refused connection wrote nothing: every INVITE on the wire went over UDP.
    all_over_udp(&alog, &blog);
    let s = alice.stats();
    assert_eq!((s.sized_to_tcp, s.back_to_udp, s.unreachable), (1, 1, 0));
    alice.shutdown(Duration::from_secs(2)).await;
    bob.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_party_without_tcp_sends_a_large_invite_over_udp() {
    // The driver turns the switch off where it has no TCP.
    let (alice, mut ae, alog) = party(Transports {
        udp: true,
        tcp: false,
    })
    .await;
    let (bob, mut be, _) = party(Transports::default()).await;
    large_call(&alice, &mut ae, &bob, &mut be).await;
    assert_eq!(
        invites(&alog, Direction::Sent),
        [(Transport::Udp, "Via: SIP/2.0/UDP".to_string())]
    );
    assert_eq!(alice.stats().sized_to_tcp, 0);
    alice.shutdown(Duration::from_secs(2)).await;
    bob.shutdown(Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_connection_never_answered_times_out_and_the_invite_goes_over_udp() {
    // Bob listens on UDP only, and on his port a TCP listener with a backlog of one that
    // nobody accepts from, its queue filled: the system drops every further SYN (as a
    // firewall that drops them does), so alice's connect is never answered. After the
    // driver's connect timeout the INVITE goes over UDP after all (RFC 3261 §18.1.1).
    let (bob, mut be, blog) = party(Transports {
        udp: true,
        tcp: false,
    })
    .await;
    let deaf = tokio::net::TcpSocket::new_v4().unwrap();
    deaf.bind(bob.local_addr()).unwrap();
    let deaf = deaf.listen(1).unwrap();
    let mut stuffing = Vec::new();
    for _ in 0..4 {
        let s = tokio::net::TcpStream::connect(bob.local_addr());
        if let Ok(Ok(s)) = tokio::time::timeout(Duration::from_millis(200), s).await {
            stuffing.push(s);
        }
    }
    let log: Log = Default::default();
    let tap = log.clone();
    let options = sipxfer_tokio::Options {
        connect_timeout: Duration::from_millis(500),
        ..Default::default()
    };
    let builder = Builder::new("127.0.0.1:0".parse().unwrap())
        .options(options)
        .tap(move |c: &Captured| tap.lock().unwrap().push(c.clone()));
    let (alice, mut ae) = sipxfer_tokio::bind(builder).await.expect("bind");
    let started = std::time::Instant::now();
    large_call(&alice, &mut ae, &bob, &mut be).await;
    // Every INVITE on the wire went over UDP (Timer A may have sent it again).
    all_over_udp(&log, &blog);
    let s = alice.stats();
    assert_eq!((s.sized_to_tcp, s.back_to_udp, s.unreachable), (1, 1, 0));
    // Up after the connect timeout, long before Timer B.
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(500) && took < Duration::from_secs(5),
        "{took:?}"
    );
    drop((deaf, stuffing));
    alice.shutdown(Duration::from_secs(2)).await;
    bob.shutdown(Duration::from_secs(2)).await;
}
