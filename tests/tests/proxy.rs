//! A blind transfer with every party behind a record-routing outbound proxy (RFC 3261 §8.1.2,
//! §12.1, §16.12): the simulated twin of the Kamailio interop scenario. Every new call goes
//! to the proxy (`Config::outbound_proxy`), every in-dialog request — re-INVITE, REFER,
//! NOTIFY, BYE — follows the route set, so nothing travels directly between the parties.

use sipxfer::msg::Uri;
use sipxfer::{CallState, Config, Destination, Event, Instant, Transfer, TransferOutcome};
use sipxfer_tests::flows::parse;
use sipxfer_tests::sim::Sim;

const PROXY: &str = "10.0.0.9:5060";
const SDP: &[u8] = b"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

#[test]
fn blind_transfer_through_a_record_routing_outbound_proxy() {
    let mut sim = Sim::new(5);
    let proxy = sim.add_proxy(PROXY);
    let addrs = ["10.0.0.1:5060", "10.0.0.2:5060", "10.0.0.3:5060"];
    for (i, a) in addrs.iter().enumerate() {
        let mut c = Config::new(a.parse().unwrap(), [i as u8 + 1; 32]);
        c.outbound_proxy = Some(Destination::udp(PROXY.parse().unwrap()));
        sim.add_endpoint_with(c);
    }
    let (a, b, c) = (1, 2, 3);
    let ab = sim
        .ep(a)
        .call(
            Instant::ZERO,
            Uri::parse("sip:bob@10.0.0.2").unwrap(),
            sipxfer::CallOptions {
                offer: Some(bytes::Bytes::from_static(SDP)),
                ..Default::default()
            },
        )
        .unwrap();
    let mut outcome = None;
    let mut transferred = false;
    sim.run_to_end(|ep, n, now, e| match (n, e) {
        (2 | 3, Event::IncomingCall { call, .. }) => ep
            .answer(now, call, Some(bytes::Bytes::from_static(SDP)))
            .unwrap(),
        (
            1,
            Event::CallState {
                call,
                state: CallState::Confirmed,
                ..
            },
        ) if !transferred => {
            transferred = true;
            let target = Uri::parse("sip:carol@10.0.0.3").unwrap();
            let transfer = Transfer::Blind {
                target,
                options: Default::default(),
            };
            ep.transfer(now, call, transfer).unwrap();
        }
        (2, Event::IncomingTransfer { transfer, .. }) => {
            ep.accept_transfer(now, transfer, None).unwrap();
        }
        (1, Event::TransferOutcome { outcome: o, .. }) => outcome = Some(o),
        (
            2,
            Event::CallState {
                call,
                state: CallState::Confirmed,
                ..
            },
        ) if call.get() == 2 => {
            ep.hangup(now, call).unwrap();
        }
        _ => {}
    });
    assert_eq!(outcome, Some(TransferOutcome::Succeeded));
    assert!(!sim.ep(a).call_is_live(ab));
    let proxy_addr: std::net::SocketAddr = PROXY.parse().unwrap();
    let mut seen = Vec::new();
    for n in [a, b, c] {
        for l in sim.sent_by(n) {
            assert_eq!(
                l.to,
                proxy_addr,
                "{} sent straight to {}",
                l.first_line(),
                l.to
            );
            let m = parse(&l.bytes);
            if let Some(method) = m.method().map(|m| m.as_str().to_string()) {
                let in_dialog = m.to().and_then(|t| t.tag()).is_some();
                if in_dialog && method != "ACK" || method == "ACK" && m.routes().next().is_some() {
                    // §12.2.1.1: the route set (the proxy's Record-Route) heads the request.
                    let route = m
                        .routes()
                        .next()
                        .unwrap_or_else(|| panic!("no Route: {}", l.first_line()));
                    assert_eq!(route.uri.to_string(), format!("sip:{PROXY};lr"));
                }
                seen.push(method);
            }
        }
    }
    for m in ["INVITE", "REFER", "NOTIFY", "BYE", "ACK"] {
        assert!(seen.iter().any(|s| s == m), "no {m} in {seen:?}");
    }
    assert!(sim.sent_by(proxy).len() >= seen.len());
    for n in [a, b, c] {
        let s = sim.ep(n).stats();
        assert_eq!((s.transactions, s.timers, s.dialogs), (0, 0, 0), "{s:?}");
    }
}
