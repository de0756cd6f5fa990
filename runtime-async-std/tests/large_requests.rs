//! A request over 1 300 bytes bound for UDP goes over TCP (RFC 3261 §18.1.1) under this
//! adapter too: the INVITE of a call with a large offer, over TCP to a peer listening on both,
//! and over UDP after all to a peer without TCP (the connection refused).

use futures_lite::FutureExt;
use sipxfer::msg::Uri;
use sipxfer::{CallOptions, CallState, Event, Transport};
use sipxfer_async_std::demo::{invite_vias, large_sdp};
use sipxfer_async_std::{Builder, Captured, Direction, Events, Handle, Transports};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Log = Arc<Mutex<Vec<Captured>>>;

fn party(transports: Transports) -> (Handle, Events, Log) {
    let log: Log = Default::default();
    let tap = log.clone();
    let builder = Builder::new("127.0.0.1:0".parse().unwrap())
        .transports(transports)
        .tap(move |c: &Captured| tap.lock().unwrap().push(c.clone()));
    let (handle, events, driver) = sipxfer_async_std::bind_driver(builder).expect("bind");
    async_std::task::spawn(driver);
    (handle, events, log)
}

/// The INVITEs `log` holds that went `direction`: their transports and Vias.
fn invites(log: &Log, direction: Direction) -> Vec<(Transport, String)> {
    invite_vias(&log.lock().unwrap(), direction)
}

/// Alice calls bob with the large offer, bob answers, alice hangs up once the call is up.
async fn large_call(alice: &Handle, ae: &mut Events, bob: &Handle, be: &mut Events) {
    let target = Uri::parse(&format!("sip:bob@{}", bob.local_addr())).unwrap();
    let options = CallOptions {
        offer: Some(large_sdp("alice", alice.local_addr())),
        ..Default::default()
    };
    let call = alice.call(target, options).await.unwrap();
    let answered = async {
        while let Some(e) = be.next().await {
            if let Event::IncomingCall { call, .. } = e {
                bob.answer(call, None).await.unwrap();
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
    let timeout = async {
        async_io::Timer::after(Duration::from_secs(10)).await;
        panic!("the call is not up within 10 s")
    };
    futures_lite::future::zip(answered, up)
        .or(async {
            timeout.await;
            ((), ())
        })
        .await;
    alice.hangup(call).await.unwrap();
}

#[test]
fn a_large_invite_goes_over_tcp_or_over_udp_when_refused() {
    async_std::task::block_on(async {
        for (bob_tcp, want) in [(true, Transport::Tcp), (false, Transport::Udp)] {
            let (alice, mut ae, alog) = party(Transports::default());
            let (bob, mut be, blog) = party(Transports {
                udp: true,
                tcp: bob_tcp,
            });
            large_call(&alice, &mut ae, &bob, &mut be).await;
            let via = (want, format!("Via: SIP/2.0/{}", want.via_name()));
            for got in [
                invites(&alog, Direction::Sent),
                invites(&blog, Direction::Received),
            ] {
                assert!(!got.is_empty() && got.iter().all(|i| *i == via), "{got:?}");
            }
            let s = alice.stats();
            assert_eq!(
                (s.sized_to_tcp, s.back_to_udp),
                (1, u64::from(!bob_tcp)),
                "{s:?}"
            );
            alice.shutdown(Duration::from_secs(2)).await;
            bob.shutdown(Duration::from_secs(2)).await;
        }
    });
}
