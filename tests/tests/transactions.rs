//! Transaction timers at the exact virtual times RFC 3261 §17 gives (T1 = 500 ms, T2 = 4 s,
//! T4 = 5 s), on UDP and TCP, in the deterministic simulator.

use sipxfer::msg::Method;
use sipxfer::{Destination, Endpoint, Event, Instant, Transport, TxId};
use sipxfer_tests::flows::{parse, request, response_to};
use sipxfer_tests::sim::{Logged, Sim};
use std::net::SocketAddr;

fn secs(s: f64) -> Instant {
    Instant::from_micros((s * 1e6).round() as u64)
}

fn dest(t: Transport, addr: SocketAddr) -> Destination {
    Destination {
        transport: t,
        addr,
        conn: None,
    }
}

/// Send times (s) of the log entries whose first line starts with `prefix`, sent by `node`.
fn times(sim: &Sim, node: usize, prefix: &str) -> Vec<f64> {
    sim.sent_by(node)
        .iter()
        .filter(|l| l.first_line().starts_with(prefix))
        .map(|l| l.secs())
        .collect()
}

/// The two addresses of the tests with one endpoint and a peer the test plays.
fn a_and_b() -> (SocketAddr, SocketAddr) {
    (
        "10.0.0.1:5060".parse().unwrap(),
        "10.0.0.2:5060".parse().unwrap(),
    )
}

fn assert_empty(ep: &Endpoint) {
    let s = ep.stats();
    assert_eq!((s.transactions, s.timers), (0, 0), "{s:?}");
    assert_eq!(ep.poll_timeout(), None);
}

/// A client sending `method` to a sink (a peer that never answers) over `t`: returns the
/// send times and the time of the timeout event.
fn unanswered(method: Method<sipxfer::SipStr>, t: Transport) -> (Vec<f64>, Vec<f64>) {
    let mut sim = Sim::new(1);
    let a = sim.add_endpoint("10.0.0.1:5060");
    let b = sim.add_sink("10.0.0.2:5060");
    let (aa, ba) = (sim.nodes[a].addr, sim.nodes[b].addr);
    let m = method.as_str().to_string();
    sim.ep(a)
        .send_request(Instant::ZERO, dest(t, ba), request(method, aa, ba, "c1", 1))
        .unwrap();
    let mut timeouts = vec![];
    sim.run_to_end(|_, _, now, e| {
        if let Event::Timeout { .. } = e {
            timeouts.push(now.as_micros() as f64 / 1e6)
        }
    });
    assert_empty(sim.ep(a));
    // §17.1.1.2, §17.1.2.2: every copy is the request as first sent, byte for byte (an
    // INVITE is emitted again from the message its transaction keeps, a non-INVITE sent
    // again from the bytes its transaction keeps).
    let copies: Vec<_> = sim
        .sent_by(a)
        .iter()
        .filter(|l| l.first_line().starts_with(&m))
        .map(|l| l.bytes.clone())
        .collect();
    assert!(copies.windows(2).all(|w| w[0] == w[1]), "{copies:?}");
    (times(&sim, a, &m), timeouts)
}

#[test]
fn invite_client_udp_timer_a_doubles_and_timer_b_fires_at_32s() {
    let (sent, timeouts) = unanswered(Method::Invite, Transport::Udp);
    assert_eq!(sent, [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]);
    assert_eq!(timeouts, [32.0]);
}

#[test]
fn invite_client_tcp_no_retransmission_timer_b_at_32s() {
    let (sent, timeouts) = unanswered(Method::Invite, Transport::Tcp);
    assert_eq!(sent, [0.0]);
    assert_eq!(timeouts, [32.0]);
}

#[test]
fn non_invite_client_udp_timer_e_caps_at_t2_and_timer_f_at_32s() {
    let (sent, timeouts) = unanswered(Method::Bye, Transport::Udp);
    assert_eq!(
        sent,
        [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    );
    assert_eq!(timeouts, [32.0]);
}

#[test]
fn non_invite_client_tcp_no_retransmission_timer_f_at_32s() {
    let (sent, timeouts) = unanswered(Method::Bye, Transport::Tcp);
    assert_eq!(sent, [0.0]);
    assert_eq!(timeouts, [32.0]);
}

/// A client transaction towards a sink; the test injects the responses itself.
struct Client {
    sim: Sim,
    a: usize,
    b: usize,
    t: Transport,
    events: Vec<(Instant, Event)>,
}

impl Client {
    fn new(method: Method<sipxfer::SipStr>, t: Transport) -> Self {
        let mut sim = Sim::new(2);
        let a = sim.add_endpoint("10.0.0.1:5060");
        let b = sim.add_sink("10.0.0.2:5060");
        let (aa, ba) = (sim.nodes[a].addr, sim.nodes[b].addr);
        sim.ep(a)
            .send_request(Instant::ZERO, dest(t, ba), request(method, aa, ba, "c1", 1))
            .unwrap();
        let mut c = Client {
            sim,
            a,
            b,
            t,
            events: vec![],
        };
        c.run(0.0);
        c
    }

    fn run(&mut self, at: f64) {
        let ev = &mut self.events;
        self.sim.run(secs(at), |_, _, now, e| ev.push((now, e)));
    }

    fn run_to_end(&mut self) {
        let ev = &mut self.events;
        self.sim.run_to_end(|_, _, now, e| ev.push((now, e)));
    }

    fn request_bytes(&self) -> bytes::Bytes {
        self.sim.sent_by(self.a)[0].bytes.clone()
    }

    /// The peer answers `code` at `at` (s).
    fn inject(&mut self, at: f64, code: u16) {
        self.run(at);
        let bytes = response_to(&self.request_bytes(), code, "btag");
        let (ba, aa) = (self.sim.nodes[self.b].addr, self.sim.nodes[self.a].addr);
        let ep = self.sim.ep(self.a);
        match self.t {
            Transport::Udp => ep.handle_datagram(secs(at), Transport::Udp, ba, aa, bytes),
            _ => ep.handle_stream_bytes(secs(at), sipxfer::ConnId(1), &bytes),
        }
        self.run(at);
    }
}

#[test]
fn invite_client_non_2xx_acks_and_timer_d() {
    for (t, d) in [(Transport::Udp, 32.0), (Transport::Tcp, 0.0)] {
        let mut c = Client::new(Method::Invite, t);
        c.inject(0.2, 100);
        c.inject(1.0, 486);
        let events: Vec<&Event> = c.events.iter().map(|(_, e)| e).collect();
        assert!(
            matches!(&events[..], [Event::Response { response: r1, .. }, Event::Response { response: r2, .. }]
            if r1.status() == Some(100) && r2.status() == Some(486))
        );
        // §17.1.1.3: the ACK carries the INVITE's branch and the response's To tag.
        let acks: Vec<&Logged> = c
            .sim
            .sent_by(c.a)
            .into_iter()
            .filter(|l| l.first_line().starts_with("ACK"))
            .collect();
        assert_eq!(acks.len(), 1);
        let (ack, inv) = (parse(&acks[0].bytes), parse(&c.request_bytes()));
        assert_eq!(
            ack.top_via().unwrap().branch(),
            inv.top_via().unwrap().branch()
        );
        assert_eq!(ack.to().unwrap().tag(), Some("btag"));
        assert_eq!(ack.cseq().unwrap().seq, inv.cseq().unwrap().seq);
        assert_eq!(ack.request_uri(), inv.request_uri());
        if t == Transport::Udp {
            // A retransmitted 486 gets the ACK again, the TU hears nothing.
            c.inject(2.0, 486);
            assert_eq!(c.events.len(), 2);
            assert_eq!(times(&c.sim, c.a, "ACK"), [1.0, 2.0]);
        }
        assert_eq!(
            c.sim.ep(c.a).poll_timeout(),
            if d > 0.0 { Some(secs(1.0 + d)) } else { None }
        );
        // No INVITE retransmission after the 100 (Timer A stops in Proceeding).
        if t == Transport::Udp {
            assert_eq!(times(&c.sim, c.a, "INVITE"), [0.0]);
        }
        c.run_to_end();
        assert_empty(c.sim.ep(c.a));
    }
}

#[test]
fn invite_client_2xx_enters_accepted_until_timer_m() {
    let mut c = Client::new(Method::Invite, Transport::Udp);
    c.inject(0.7, 200);
    // RFC 6026 §8.4: Accepted; a retransmitted 2xx is passed to the TU again.
    c.inject(1.7, 200);
    let oks: Vec<(Instant, Option<u16>)> = c
        .events
        .iter()
        .filter_map(|(t, e)| match e {
            Event::Response { response, .. } => Some((*t, response.status())),
            _ => None,
        })
        .collect();
    assert_eq!(oks, [(secs(0.7), Some(200)), (secs(1.7), Some(200))]);
    assert_eq!(times(&c.sim, c.a, "INVITE"), [0.0, 0.5]);
    assert_eq!(c.sim.ep(c.a).poll_timeout(), Some(secs(0.7 + 32.0)));
    c.sim.run_to_end(|_, _, _, _| {});
    assert_empty(c.sim.ep(c.a));
}

#[test]
fn non_invite_client_proceeding_retransmits_every_t2_then_timer_k() {
    for (t, k) in [(Transport::Udp, 5.0), (Transport::Tcp, 0.0)] {
        let mut c = Client::new(Method::Bye, t);
        c.inject(0.1, 100);
        c.inject(10.0, 200);
        if t == Transport::Udp {
            assert_eq!(times(&c.sim, c.a, "BYE"), [0.0, 0.5, 4.5, 8.5]);
        }
        assert_eq!(
            c.sim.ep(c.a).poll_timeout(),
            if k > 0.0 { Some(secs(10.0 + k)) } else { None }
        );
        c.run_to_end();
        assert_empty(c.sim.ep(c.a));
    }
}

#[test]
fn invite_client_timer_c_cancels_after_180s_in_proceeding() {
    let mut c = Client::new(Method::Invite, Transport::Udp);
    c.inject(1.0, 180);
    c.run_to_end();
    let events: Vec<(Instant, Event)> = c.events.drain(1..).collect();
    assert_eq!(
        times(&c.sim, c.a, "CANCEL"),
        [181.0, 181.5, 182.5, 184.5, 188.5, 192.5, 196.5, 200.5, 204.5, 208.5, 212.5]
    );
    assert!(
        matches!(events[..], [(t1, Event::InviteCancelled { .. }), .., (t2, Event::Timeout { .. })]
        if t1 == secs(181.0) && t2 == secs(213.0))
    );
    assert_empty(c.sim.ep(c.a));
}

/// A server transaction whose client is a sink: the test injects the requests.
struct Server {
    sim: Sim,
    a: usize,
    b: usize,
    t: Transport,
    req: bytes::Bytes,
    tx: Option<TxId>,
    call: Option<sipxfer::CallId>,
}

impl Server {
    fn new(method: Method<sipxfer::SipStr>, t: Transport) -> Self {
        let mut sim = Sim::new(3);
        let a = sim.add_sink("10.0.0.1:5060");
        // Its application answers requests outside dialogs itself, REFER included (by default
        // the core refuses an out-of-dialog REFER without Target-Dialog, RFC 4538).
        let mut config = sipxfer::Config::new("10.0.0.2:5060".parse().unwrap(), [2; 32]);
        config.refer_outside_dialog = true;
        let b = sim.add_endpoint_with(config);
        let (aa, ba) = (sim.nodes[a].addr, sim.nodes[b].addr);
        // The request as the sink's endpoint would send it (Via with a branch).
        sim.ep(a)
            .send_request(Instant::ZERO, dest(t, ba), request(method, aa, ba, "c1", 1))
            .unwrap();
        let req = sim.ep(a).poll_transmit().unwrap().bytes;
        if t != Transport::Udp {
            sim.ep(b)
                .handle_connection_opened(Instant::ZERO, sipxfer::ConnId(99), t, ba, aa);
        }
        let mut s = Server {
            sim,
            a,
            b,
            t,
            req,
            tx: None,
            call: None,
        };
        s.deliver(0.0, None);
        s
    }

    /// Delivers the request again (or `other`) at `at`.
    fn deliver(&mut self, at: f64, other: Option<bytes::Bytes>) {
        let mut tx = None;
        let mut call = None;
        self.sim.run(secs(at), |_, _, _, e| match e {
            Event::Request { tx: id, .. } => tx = Some(id),
            Event::IncomingCall { call: c, .. } => call = Some(c),
            _ => {}
        });
        let bytes = other.unwrap_or_else(|| self.req.clone());
        let (aa, ba) = (self.sim.nodes[self.a].addr, self.sim.nodes[self.b].addr);
        let ep = self.sim.ep(self.b);
        match self.t {
            Transport::Udp => ep.handle_datagram(secs(at), Transport::Udp, aa, ba, bytes),
            _ => ep.handle_stream_bytes(secs(at), sipxfer::ConnId(99), &bytes),
        }
        self.sim.run(secs(at), |_, _, _, e| match e {
            Event::Request { tx: id, .. } => tx = Some(id),
            Event::IncomingCall { call: c, .. } => call = Some(c),
            _ => {}
        });
        self.tx = self.tx.or(tx);
        self.call = self.call.or(call);
    }

    fn respond(&mut self, at: f64, code: u16) {
        self.sim.run(secs(at), |_, _, _, _| {});
        let ep = self.sim.ep(self.b);
        // An INVITE is a call: answered through the call commands, on the same transaction.
        match (self.call, code) {
            (Some(call), 200) => ep.answer(secs(at), call, None).unwrap(),
            (Some(call), 300..) => ep.reject(secs(at), call, code).unwrap(),
            _ => {
                let r = ep.response(self.tx.unwrap(), code).unwrap();
                ep.respond(secs(at), self.tx.unwrap(), r).unwrap();
            }
        }
        self.sim.run(secs(at), |_, _, _, _| {});
    }

    fn ack(&self) -> bytes::Bytes {
        let last_final = self
            .sim
            .sent_by(self.b)
            .into_iter()
            .rev()
            .find(|l| !l.first_line().contains(" 100 "))
            .unwrap();
        let inv = parse(&self.req);
        let resp = parse(&last_final.bytes);
        let mut ack = inv.clone();
        ack.start = sipxfer::msg::StartLine::Request {
            method: Method::Ack,
            uri: inv.request_uri().unwrap().clone(),
        };
        for h in &mut ack.headers {
            match h {
                sipxfer::msg::Header::CSeq(c) => c.method = Method::Ack,
                sipxfer::msg::Header::To(to) => *to = resp.to().unwrap().clone(),
                _ => {}
            }
        }
        ack.to_bytes()
    }
}

#[test]
fn invite_server_100_trying_at_200ms_then_timer_g_and_h() {
    for (t, g) in [(Transport::Udp, true), (Transport::Tcp, false)] {
        let mut s = Server::new(Method::Invite, t);
        assert!(s.call.is_some());
        s.sim.run(secs(0.4), |_, _, _, _| {});
        assert_eq!(times(&s.sim, s.b, "SIP/2.0 100"), [0.2]);
        // A retransmitted INVITE in Proceeding gets the 100 again.
        s.deliver(0.5, None);
        assert_eq!(times(&s.sim, s.b, "SIP/2.0 100"), [0.2, 0.5]);
        s.respond(1.0, 486);
        let mut noack = vec![];
        s.sim.run_to_end(|_, _, now, e| {
            if let Event::NoAck { .. } = e {
                noack.push(now)
            }
        });
        let expected: Vec<f64> = if g {
            vec![1.0, 1.5, 2.5, 4.5, 8.5, 12.5, 16.5, 20.5, 24.5, 28.5, 32.5]
        } else {
            vec![1.0]
        };
        assert_eq!(times(&s.sim, s.b, "SIP/2.0 486"), expected);
        assert_eq!(noack, [secs(33.0)]);
        assert_empty(s.sim.ep(s.b));
    }
}

#[test]
fn invite_server_ack_confirms_and_timer_i() {
    for (t, i) in [(Transport::Udp, 5.0), (Transport::Tcp, 0.0)] {
        let mut s = Server::new(Method::Invite, t);
        s.respond(0.1, 603);
        // A retransmitted INVITE in Completed gets the final again.
        s.deliver(0.3, None);
        let ack = s.ack();
        s.deliver(2.0, Some(ack.clone()));
        let finals = times(&s.sim, s.b, "SIP/2.0 603");
        assert_eq!(
            finals,
            if t == Transport::Udp {
                vec![0.1, 0.3, 0.6, 1.6]
            } else {
                vec![0.1, 0.3]
            }
        );
        assert_eq!(
            s.sim.ep(s.b).poll_timeout(),
            if i > 0.0 { Some(secs(2.0 + i)) } else { None }
        );
        // ACK retransmissions are absorbed in Confirmed, not passed up.
        if t == Transport::Udp {
            let mut n = 0;
            s.deliver(3.0, Some(ack));
            s.sim.run(secs(3.0), |_, _, _, _| n += 1);
            assert_eq!(n, 0);
        }
        s.sim.run_to_end(|_, _, _, _| {});
        assert_eq!(
            times(&s.sim, s.b, "SIP/2.0 603").len(),
            if t == Transport::Udp { 4 } else { 2 }
        );
        assert_empty(s.sim.ep(s.b));
    }
}

#[test]
fn invite_server_2xx_enters_accepted_until_timer_l() {
    let mut s = Server::new(Method::Invite, Transport::Udp);
    s.respond(0.05, 200);
    // Before 200 ms: no 100 Trying.
    assert_eq!(times(&s.sim, s.b, "SIP/2.0 100"), Vec::<f64>::new());
    // RFC 6026 §7.1: a retransmitted INVITE in Accepted is absorbed (the UA core
    // retransmits the 2xx, not the transaction).
    s.deliver(0.5, None);
    assert_eq!(times(&s.sim, s.b, "SIP/2.0 200"), [0.05]);
    // The ACK of the 2xx is for the TU.
    let mut ack = parse(&s.ack());
    if let Some(sipxfer::msg::Header::Via(v)) = ack.headers.first_mut() {
        v[0].params.remove("branch");
        v[0].params.push("branch", Some("z9hG4bKack2xx"));
    }
    let mut acks = 0;
    s.deliver(0.6, Some(ack.to_bytes()));
    s.sim.run(secs(0.6), |_, _, _, e| {
        if let Event::Ack { .. } = e {
            acks += 1
        }
    });
    assert_eq!(s.sim.ep(s.b).poll_timeout(), Some(secs(0.05 + 32.0)));
    s.sim.run_to_end(|_, _, _, _| {});
    assert_empty(s.sim.ep(s.b));
}

#[test]
fn non_invite_server_repeats_last_response_and_timer_j() {
    for (t, j) in [(Transport::Udp, 32.0), (Transport::Tcp, 0.0)] {
        // OPTIONS: the endpoint answers 200 itself.
        let mut s = Server::new(Method::Options, t);
        assert_eq!(times(&s.sim, s.b, "SIP/2.0 200"), [0.0]);
        assert!(s.tx.is_none(), "OPTIONS is not handed to the application");
        if t == Transport::Udp {
            assert_eq!(s.sim.ep(s.b).poll_timeout(), Some(secs(j)));
            s.deliver(4.0, None);
            assert_eq!(times(&s.sim, s.b, "SIP/2.0 200"), [0.0, 4.0]);
        } else {
            assert_empty(s.sim.ep(s.b));
        }
        s.sim.run_to_end(|_, _, _, _| {});
        assert_empty(s.sim.ep(s.b));
        // A REFER answered by the application: 100 then 200, each repeated to
        // retransmissions.
        let mut s = Server::new(Method::Refer, t);
        s.respond(0.1, 100);
        s.deliver(0.5, None);
        s.respond(1.0, 200);
        assert_eq!(times(&s.sim, s.b, "SIP/2.0 100"), [0.1, 0.5]);
        if t == Transport::Udp {
            s.deliver(1.5, None);
            assert_eq!(times(&s.sim, s.b, "SIP/2.0 200"), [1.0, 1.5]);
            assert_eq!(s.sim.ep(s.b).poll_timeout(), Some(secs(1.0 + j)));
        } else {
            // Timer J is zero on reliable transports: the transaction is gone at once.
            assert_empty(s.sim.ep(s.b));
        }
        s.sim.run_to_end(|_, _, _, _| {});
        assert_empty(s.sim.ep(s.b));
    }
}

#[test]
fn cancel_after_provisional_gets_200_and_487_and_the_487_is_acked() {
    let mut sim = Sim::new(4);
    let a = sim.add_endpoint("10.0.0.1:5060");
    let b = sim.add_endpoint("10.0.0.2:5060");
    let (aa, ba) = (sim.nodes[a].addr, sim.nodes[b].addr);
    // CANCEL asked for at once: held back until the 100 Trying (RFC 3261 §9.1).
    let tx = sim
        .ep(a)
        .send_request(
            Instant::ZERO,
            Destination::udp(ba),
            request(Method::Invite, aa, ba, "c1", 1),
        )
        .unwrap();
    sim.ep(a).cancel(Instant::ZERO, tx).unwrap();
    let mut events = vec![];
    sim.run_to_end(|_, i, _, e| events.push((i, e)));
    let lines: Vec<(String, String)> = sim
        .log
        .iter()
        .map(|l| (l.from.to_string(), l.first_line().to_string()))
        .collect();
    let want = [
        ("10.0.0.1:5060", "INVITE sip:peer@10.0.0.2:5060 SIP/2.0"),
        ("10.0.0.2:5060", "SIP/2.0 100 Trying"),
        ("10.0.0.1:5060", "CANCEL sip:peer@10.0.0.2:5060 SIP/2.0"),
        ("10.0.0.2:5060", "SIP/2.0 200 OK"),
        ("10.0.0.2:5060", "SIP/2.0 487 Request Terminated"),
        ("10.0.0.1:5060", "ACK sip:peer@10.0.0.2:5060 SIP/2.0"),
    ];
    let got: Vec<(&str, &str)> = lines
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(got, want);
    // The INVITE was a call: it ends as cancelled, with the 487 that ended it.
    assert!(events.iter().any(|(i, e)| *i == b
        && matches!(
            e,
            Event::CallState {
                state: sipxfer::CallState::Terminated {
                    reason: sipxfer::EndReason::Cancelled
                },
                status: Some(487),
                ..
            }
        )));
    assert!(events.iter().any(|(i, e)| *i == a
        && matches!(e, Event::Response { response, .. } if response.status() == Some(487))));
    // The 200 to the CANCEL and the 487 carry the same To tag.
    let tags: Vec<String> = sim.log[3..5]
        .iter()
        .map(|l| parse(&l.bytes).to().unwrap().tag().unwrap().to_string())
        .collect();
    assert_eq!(tags[0], tags[1]);
    assert_empty(sim.ep(a));
    assert_empty(sim.ep(b));
    let _ = tx;
}

#[test]
fn cancel_for_nothing_gets_481() {
    let mut sim = Sim::new(5);
    let b = sim.add_endpoint("10.0.0.2:5060");
    let raw = b"CANCEL sip:b@10.0.0.2 SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnothing\r\nFrom: <sip:a@10.0.0.1>;tag=1\r\nTo: <sip:b@10.0.0.2>\r\nCall-ID: x\r\nCSeq: 1 CANCEL\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
    sim.ep(b).handle_datagram(
        Instant::ZERO,
        Transport::Udp,
        "10.0.0.1:5060".parse().unwrap(),
        "10.0.0.2:5060".parse().unwrap(),
        bytes::Bytes::from_static(raw),
    );
    let t = sim.ep(b).poll_transmit().unwrap();
    assert!(t.bytes.starts_with(b"SIP/2.0 481 "));
}

#[test]
fn same_seed_same_transmit_log() {
    let run = |seed| {
        let mut sim = Sim::new(seed);
        sim.set_default_link(sipxfer_tests::sim::Link::lossy(0.3));
        let a = sim.add_endpoint("10.0.0.1:5060");
        let b = sim.add_endpoint("10.0.0.2:5060");
        let (aa, ba) = (sim.nodes[a].addr, sim.nodes[b].addr);
        for i in 0..20 {
            let m = if i % 2 == 0 {
                Method::Options
            } else {
                Method::Invite
            };
            sim.ep(a)
                .send_request(
                    Instant::ZERO,
                    Destination::udp(ba),
                    request(m, aa, ba, &format!("c{i}"), 1),
                )
                .unwrap();
        }
        sim.run_to_end(|ep, _, now, e| {
            if let Event::IncomingCall { call, .. } = e {
                ep.reject(now, call, 486).unwrap();
            }
        });
        sim.log
    };
    let (x, y, z) = (run(9), run(9), run(10));
    assert!(x.len() > 40);
    assert_eq!(x, y);
    assert_ne!(x, z);
}

/// RFC 3261 §17.2.3's fallback for requests without the magic cookie (RFC 2543 peers):
/// retransmissions match on Request-URI, tags, Call-ID, CSeq and top Via; the ACK matches
/// when its To tag is the one of the response.
#[test]
fn rfc2543_request_matching() {
    let local: SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let remote: SocketAddr = "192.0.2.1:5060".parse().unwrap();
    let mut ep = Endpoint::new(sipxfer::Config::new(local, [5; 32]), Instant::ZERO);
    let invite = bytes::Bytes::from(sipxfer_tests::rfc4475("inv2543.dat"));
    let deliver = |ep: &mut Endpoint, at: f64, b: bytes::Bytes| {
        ep.handle_datagram(secs(at), Transport::Udp, remote, local, b)
    };
    deliver(&mut ep, 0.0, invite.clone());
    let Some(Event::IncomingCall { call, .. }) = ep.poll_event() else {
        panic!("the INVITE reaches the application")
    };
    ep.reject(secs(0.01), call, 486).unwrap();
    assert!(matches!(ep.poll_event(), Some(Event::CallState { .. })));
    let busy = ep.poll_transmit().unwrap().bytes;
    // The retransmitted INVITE gets the 486 again and is not a new request.
    deliver(&mut ep, 0.3, invite.clone());
    assert_eq!(ep.poll_transmit().unwrap().bytes, busy);
    assert!(ep.poll_event().is_none());
    // An ACK whose To tag is not ours belongs to no transaction: it goes up.
    let ack = |tag: &str| {
        let s = std::str::from_utf8(&invite).unwrap();
        let head = s.split("\r\n\r\n").next().unwrap();
        let head = head
            .replacen("INVITE sip:", "ACK sip:", 1)
            .replace("CSeq: 56 INVITE", "CSeq: 56 ACK")
            .replace("Content-Type: application/sdp", "Content-Length: 0")
            .replace(
                ";user=phone\r\nCall-ID",
                &format!(";user=phone;tag={tag}\r\nCall-ID"),
            );
        bytes::Bytes::from(format!("{head}\r\n\r\n"))
    };
    deliver(&mut ep, 0.4, ack("other"));
    assert!(matches!(ep.poll_event(), Some(Event::Ack { .. })));
    // The ACK with the 486's tag confirms the transaction: no more 486 retransmissions.
    let tag = parse(&busy).to().unwrap().tag().unwrap().to_string();
    deliver(&mut ep, 0.45, ack(&tag));
    assert!(ep.poll_event().is_none());
    ep.handle_timeout(secs(0.51));
    assert!(
        ep.poll_transmit().is_none(),
        "Timer G was stopped by the ACK"
    );
    ep.handle_timeout(secs(0.45 + 5.0));
    assert_empty(&ep);
}

/// Found by the flow properties: an INVITE cancelled while Proceeding, whose CANCEL gets no
/// answer, got a second CANCEL when Timer C fired minutes later. RFC 3261 §9.1: one CANCEL,
/// and without a final response the INVITE transaction ends 64·T1 after it.
#[test]
fn a_cancelled_invite_is_cancelled_once_and_ends_64_t1_later() {
    let mut sim = Sim::new(21);
    let a = sim.add_endpoint("10.0.0.1:5060");
    let b = sim.add_sink("10.0.0.2:5060");
    let (aa, ba) = (sim.nodes[a].addr, sim.nodes[b].addr);
    let tx = sim
        .ep(a)
        .send_request(
            Instant::ZERO,
            Destination::udp(ba),
            request(Method::Invite, aa, ba, "cancel-once", 1),
        )
        .unwrap();
    let invite = sim.ep(a).poll_transmit().unwrap();
    // A 180 from the sink's side puts the INVITE in Proceeding.
    let ringing = sipxfer_tests::flows::response_to(&invite.bytes, 180, "b");
    sim.ep(a)
        .handle_datagram(Instant::from_millis(10), Transport::Udp, ba, aa, ringing);
    sim.ep(a).cancel(Instant::from_millis(20), tx).unwrap();
    let mut timeout = None;
    sim.run_to_end(|_, _, now, e| {
        if let Event::Timeout { tx: t } = e {
            assert_eq!(t, tx);
            timeout = Some(now);
        }
    });
    let cancels: Vec<f64> = times(&sim, a, "CANCEL ");
    // One CANCEL transaction: its first copy and retransmissions (Timer E, at most 11 over
    // 64·T1), nothing when Timer C (3 min) would have fired.
    assert!(!cancels.is_empty() && cancels.len() <= 11, "{cancels:?}");
    assert!(
        cancels.iter().all(|&t| t - cancels[0] <= 32.0),
        "{cancels:?}"
    );
    assert_eq!(
        timeout,
        Some(Instant::from_millis(20) + sipxfer::Duration::from_secs(32))
    );
    assert_empty(sim.ep(a));
}

/// A stream connection that cannot be opened (RFC 3261 §17.1.4, §8.1.3.1): the client
/// transactions to that address still waiting for a first response end at once with a 503 the
/// endpoint made from each request — no ACK for it, no retransmission, no timer left — while
/// one that already heard a 1xx and one over UDP to the same address carry on.
#[test]
fn unreachable_stream_destination_ends_waiting_client_transactions_with_503() {
    let (aa, ba) = a_and_b();
    let mut ep = Endpoint::new(sipxfer::Config::new(aa, [1; 32]), Instant::ZERO);
    let mut send = |t: Transport, m: Method<sipxfer::SipStr>, call_id: &str| {
        let r = request(m, aa, ba, call_id, 1);
        ep.send_request(Instant::ZERO, dest(t, ba), r).unwrap()
    };
    let invite = send(Transport::Tcp, Method::Invite, "u1");
    let bye = send(Transport::Tcp, Method::Bye, "u2");
    let proceeding = send(Transport::Tcp, Method::Invite, "u3");
    let udp = send(Transport::Udp, Method::Options, "u4");
    let mut wire = vec![];
    while let Some(t) = ep.poll_transmit() {
        wire.push(t.bytes);
    }
    let sent: Vec<_> = wire.iter().map(parse).collect();
    assert_eq!(sent.len(), 4);
    // u3 hears a 180 over a connection that was up then.
    let conn = sipxfer::ConnId(7);
    ep.handle_connection_opened(secs(0.05), conn, Transport::Tcp, aa, ba);
    ep.handle_stream_bytes(secs(0.05), conn, &response_to(&wire[2], 180, "b1"));
    ep.handle_connection_closed(secs(0.05), conn);
    while ep.poll_event().is_some() {}

    ep.handle_unreachable(secs(0.1), Transport::Tcp, ba);
    let mut failed = vec![];
    while let Some(e) = ep.poll_event() {
        match e {
            Event::Response { tx, response } => {
                let req = if tx == invite { &sent[0] } else { &sent[1] };
                // Made from the request (§8.2.6 fields): the TU matches it like any other.
                assert_eq!(response.call_id(), req.call_id());
                assert_eq!(response.cseq(), req.cseq());
                assert_eq!(
                    response.top_via().and_then(|v| v.branch()),
                    req.top_via().and_then(|v| v.branch())
                );
                failed.push((tx, response.status()));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(failed, [(invite, Some(503)), (bye, Some(503))]);
    assert!(ep.poll_transmit().is_none(), "no ACK for a 503 nobody sent");
    assert_eq!(ep.stats().unreachable, 2);
    // Left: u3 (Proceeding) and u4 (UDP), both still waiting.
    assert_eq!((ep.stats().transactions, ep.pending_transactions()), (2, 2));
    let _ = (proceeding, udp);
}

/// A call to a TCP destination that refuses the connection fails at once: terminated with
/// 503, not 32 s later with 408.
#[test]
fn call_to_unreachable_tcp_destination_fails_with_503_at_once() {
    let (aa, ba) = a_and_b();
    let mut ep = Endpoint::new(sipxfer::Config::new(aa, [1; 32]), Instant::ZERO);
    let target = sipxfer::msg::Uri::parse("sip:bob@10.0.0.2:5060;transport=tcp").unwrap();
    let call = ep
        .call(Instant::ZERO, target, sipxfer::CallOptions::default())
        .unwrap();
    let first = ep.poll_transmit().expect("the INVITE");
    assert_eq!((first.transport, first.to), (Transport::Tcp, ba));
    while ep.poll_event().is_some() {}
    ep.handle_unreachable(secs(0.2), Transport::Tcp, ba);
    let mut states = vec![];
    while let Some(e) = ep.poll_event() {
        if let Event::CallState {
            call: c,
            state,
            status,
        } = e
        {
            assert_eq!(c, call);
            states.push((state, status));
        }
    }
    assert_eq!(
        states,
        [(
            sipxfer::CallState::Terminated {
                reason: sipxfer::EndReason::Rejected
            },
            Some(503)
        )]
    );
    assert!(ep.poll_transmit().is_none());
}

/// Each server transaction answers from its own request, also after the requests it holds
/// moved to other slots: 400 MESSAGEs held at once, answered in a shuffled order, so that the
/// table of requests (`crate::slots`) is compacted as it drains (below a quarter full) while
/// a hundred of them still wait for their answer; every response carries its own request's
/// Call-ID, branch and CSeq, over UDP (the request is given up at the final response) and TCP.
#[test]
fn answers_come_from_their_own_requests_while_the_requests_move() {
    use sipxfer::Config;
    let local: SocketAddr = "127.0.0.1:5060".parse().unwrap();
    let remote: SocketAddr = "192.0.2.1:40000".parse().unwrap();
    let mut config = Config::new(local, [7; 32]);
    config.allow.push(Method::Message);
    let mut ep = Endpoint::new(config, Instant::ZERO);
    let n = 400usize;
    let mut held = Vec::new();
    for i in 0..n {
        // A third over TCP, the rest over UDP.
        let transport = if i % 3 == 0 {
            Transport::Tcp
        } else {
            Transport::Udp
        };
        let name = if transport == Transport::Tcp {
            "TCP"
        } else {
            "UDP"
        };
        let bytes = bytes::Bytes::from(format!(
            "MESSAGE sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/{name} 192.0.2.1:40000;branch=z9hG4bKm{i}x\r\n\
             From: <sip:b@x>;tag=f{i}\r\nTo: <sip:a@y>\r\nCall-ID: call-{i}\r\nCSeq: {} MESSAGE\r\n\
             Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
            1000 + i
        ));
        ep.handle_datagram(Instant::ZERO, transport, remote, local, bytes);
        match ep.poll_event() {
            Some(Event::Request { tx, .. }) => held.push((tx, i)),
            e => panic!("{e:?}"),
        }
        while ep.poll_transmit().is_some() {}
    }
    // A fixed shuffle (xorshift).
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for k in (1..held.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        held.swap(k, (seed % (k as u64 + 1)) as usize);
    }
    for (k, &(tx, i)) in held.iter().enumerate() {
        // Built from the request where the transaction holds it.
        let r = ep.response(tx, 200).unwrap();
        ep.respond(Instant::ZERO, tx, r).unwrap();
        let t = ep.poll_transmit().expect("the response");
        let text = String::from_utf8(t.bytes.to_vec()).unwrap();
        assert!(text.starts_with("SIP/2.0 200 OK\r\n"), "{text}");
        assert!(
            text.contains(&format!("\r\nCall-ID: call-{i}\r\n")),
            "{k}: {text}"
        );
        assert!(
            text.contains(&format!(";branch=z9hG4bKm{i}x")),
            "{k}: {text}"
        );
        assert!(
            text.contains(&format!("\r\nCSeq: {} MESSAGE\r\n", 1000 + i)),
            "{k}: {text}"
        );
        assert!(
            text.contains(&format!("From: <sip:b@x>;tag=f{i}\r\n")),
            "{k}: {text}"
        );
        assert!(ep.poll_transmit().is_none());
    }
}

/// RFC 3261 §8.1.1: a request without From or To, or whose CSeq names another method, is
/// refused before it goes out (a peer would answer 400). One our parser would refuse from a
/// peer — a singleton field twice, which the application's own message may hold — still goes;
/// if its peer cannot be reached, its TU gets the 503 made from it (§8.1.3.1), read back from
/// the bytes sent as they were written.
#[test]
fn send_request_refuses_what_no_response_could_be_made_from() {
    use sipxfer::msg::{CSeq, Header};
    let (aa, ba) = a_and_b();
    let mut ep = Endpoint::new(sipxfer::Config::new(aa, [1; 32]), Instant::ZERO);
    let refused = |ep: &mut Endpoint, r| {
        matches!(
            ep.send_request(Instant::ZERO, dest(Transport::Tcp, ba), r),
            Err(sipxfer::Error::InvalidMessage(_))
        )
    };
    let mut r = request(Method::Bye, aa, ba, "v1", 1);
    r.headers.retain(|h| !matches!(h, Header::From(_)));
    assert!(refused(&mut ep, r));
    let mut r = request(Method::Bye, aa, ba, "v1", 1);
    r.headers.retain(|h| !matches!(h, Header::To(_)));
    assert!(refused(&mut ep, r));
    let mut r = request(Method::Bye, aa, ba, "v1", 1);
    for h in r.headers.iter_mut() {
        if let Header::CSeq(c) = h {
            *c = CSeq {
                seq: 1,
                method: Method::Options,
            };
        }
    }
    assert!(refused(&mut ep, r));
    assert!(ep.poll_transmit().is_none());
    // Two Max-Forwards: sent as the application built it.
    let mut r = request(Method::Bye, aa, ba, "v2", 1);
    r.headers.push(Header::MaxForwards(70));
    r.headers.push(Header::MaxForwards(69));
    let tx = ep
        .send_request(Instant::ZERO, dest(Transport::Tcp, ba), r)
        .unwrap();
    assert!(ep.poll_transmit().is_some());
    ep.handle_unreachable(secs(0.1), Transport::Tcp, ba);
    let events: Vec<Event> = std::iter::from_fn(|| ep.poll_event()).collect();
    assert!(
        matches!(&events[..], [Event::Response { tx: t, response }]
            if *t == tx && response.status() == Some(503)
                && response.call_id() == Some("v2")),
        "{events:?}"
    );
    assert_empty(&ep);
}

/// An INVITE whose Request-URI (the application's) our parser would refuse cannot be read
/// back for its CANCEL: cancelling it sends nothing, and the transaction still ends, 64·T1
/// later (Timer B, RFC 3261 §9.1), its TU told `Timeout`.
#[test]
fn an_invite_that_does_not_read_back_still_ends_when_cancelled() {
    let (aa, ba) = a_and_b();
    let mut ep = Endpoint::new(sipxfer::Config::new(aa, [1; 32]), Instant::ZERO);
    let mut r = request(Method::Invite, aa, ba, "odd", 1);
    if let sipxfer::msg::StartLine::Request { uri, .. } = &mut r.start {
        *uri = sipxfer::msg::Uri::Other {
            scheme: "x".into(),
            opaque: "a b".into(),
        };
    }
    let tx = ep
        .send_request(Instant::ZERO, Destination::udp(ba), r)
        .unwrap();
    let invite = String::from_utf8(ep.poll_transmit().unwrap().bytes.to_vec()).unwrap();
    assert!(invite.starts_with("INVITE x:a b SIP/2.0\r\n"), "{invite}");
    let line = |name: &str| invite.split("\r\n").find(|l| l.starts_with(name)).unwrap();
    let ringing = format!(
        "SIP/2.0 180 Ringing\r\n{}\r\n{}\r\n{};tag=b\r\n{}\r\n{}\r\nContent-Length: 0\r\n\r\n",
        line("Via: "),
        line("From: "),
        line("To: "),
        line("Call-ID: "),
        line("CSeq: ")
    );
    ep.handle_datagram(secs(0.1), Transport::Udp, ba, aa, ringing.into());
    ep.cancel(secs(0.2), tx).unwrap();
    assert!(ep.poll_transmit().is_none());
    let mut timeouts = vec![];
    while let Some(at) = ep.poll_timeout() {
        ep.handle_timeout(at);
        while let Some(e) = ep.poll_event() {
            if let Event::Timeout { tx: t } = e {
                timeouts.push((t, at));
            }
        }
    }
    assert_eq!(timeouts, [(tx, secs(32.2))]);
    assert!(ep.poll_transmit().is_none());
    assert_empty(&ep);
}
