//! Helpers for flow tests: requests between simulated endpoints, reading the transmit log.

use bytes::Bytes;
use sipxfer::msg::builder::RequestBuilder;
use sipxfer::msg::{builder, Message, Method, NameAddr, Uri};
use sipxfer::Limits;
use std::net::SocketAddr;

/// A request from `from` to `to` (no Via: the endpoint adds it), CSeq `cseq`.
pub fn request(
    method: Method<sipxfer::SipStr>,
    from: SocketAddr,
    to: SocketAddr,
    call_id: &str,
    cseq: u32,
) -> Message {
    let target = Uri::parse(&format!("sip:peer@{to}")).expect("uri");
    let me = Uri::parse(&format!("sip:me@{from}")).expect("uri");
    RequestBuilder::new(method, target.clone())
        .from(NameAddr::new(me), "ftag")
        .to(NameAddr::new(target))
        .call_id(call_id)
        .cseq(cseq)
        .build()
}

/// Parses logged bytes.
pub fn parse(bytes: &Bytes) -> Message {
    Message::parse(bytes.clone(), &Limits::default()).expect("the endpoint sent a valid message")
}

/// The response `code` to the request in `bytes`, with To tag `tag`, as wire bytes.
pub fn response_to(bytes: &Bytes, code: u16, tag: &str) -> Bytes {
    builder::response(&parse(bytes), code, Some(tag)).to_bytes()
}

/// Drives one endpoint by hand: what it sends, and answers crafted by the test.
pub struct Manual {
    /// The endpoint.
    pub ep: sipxfer::Endpoint,
    /// Its clock (each `recv` moves it 10 ms).
    pub now: sipxfer::Instant,
    /// Its address (10.0.0.1:5060).
    pub me: std::net::SocketAddr,
}

impl Manual {
    /// An endpoint at 10.0.0.1:5060, its config adjusted by `config`.
    pub fn new(seed: u8, config: impl FnOnce(&mut sipxfer::Config)) -> Manual {
        let me: std::net::SocketAddr = "10.0.0.1:5060".parse().unwrap();
        let mut c = sipxfer::Config::new(me, [seed; 32]);
        config(&mut c);
        Manual {
            ep: sipxfer::Endpoint::new(c, sipxfer::Instant::ZERO),
            now: sipxfer::Instant::ZERO,
            me,
        }
    }

    /// What it sent since the last call, parsed.
    pub fn sent(&mut self) -> Vec<sipxfer::Message> {
        std::iter::from_fn(|| self.ep.poll_transmit())
            .map(|t| parse(&t.bytes))
            .collect()
    }

    /// Its events since the last call.
    pub fn events(&mut self) -> Vec<sipxfer::Event> {
        std::iter::from_fn(|| self.ep.poll_event()).collect()
    }

    /// Lets virtual time run to `until`, firing the endpoint's timers on the way.
    pub fn wait_until(&mut self, until: sipxfer::Instant) {
        while let Some(t) = self.ep.poll_timeout().filter(|&t| t <= until) {
            self.now = self.now.max(t);
            self.ep.handle_timeout(self.now);
        }
        self.now = self.now.max(until);
        self.ep.handle_timeout(self.now);
    }

    /// A message from `from` arrives.
    pub fn recv(&mut self, from: &str, m: &sipxfer::Message) {
        self.now += sipxfer::Duration::from_millis(10);
        self.ep.handle_datagram(
            self.now,
            sipxfer::Transport::Udp,
            from.parse().unwrap(),
            self.me,
            m.to_bytes(),
        );
    }
}

/// A response `code` to `req` with To tag `tag` and, optionally, a Contact.
pub fn reply(
    req: &sipxfer::Message,
    code: u16,
    tag: &str,
    contact: Option<&str>,
) -> sipxfer::Message {
    let mut r = sipxfer::msg::builder::response(req, code, Some(tag));
    if let Some(c) = contact {
        let mut v = sipxfer::msg::Values::new();
        v.push(sipxfer::msg::NameAddr::new(
            sipxfer::msg::Uri::parse(c).unwrap(),
        ));
        r.headers
            .push(sipxfer::msg::Header::Contact(sipxfer::msg::Contact::Addrs(
                v,
            )));
    }
    r
}

/// The `CallState` events (state, status) among `events`, in order.
pub fn call_states(
    events: &[(sipxfer::Instant, sipxfer::Event)],
) -> Vec<(sipxfer::CallState, Option<u16>)> {
    events
        .iter()
        .filter_map(|(_, e)| match e {
            sipxfer::Event::CallState { state, status, .. } => Some((*state, *status)),
            _ => None,
        })
        .collect()
}

/// Events of one endpoint, with when they came.
pub type Events = Vec<(sipxfer::Instant, sipxfer::Event)>;

/// A (node 0) calls B (node 1) at `target` with `offer`; B answers with `answer`; then node
/// `holder` holds, resumes, and node `hanger` hangs up. Each step is taken when the previous
/// one is reported at the side that took it. The events of A and of B.
pub fn hold_resume(
    sim: &mut crate::sim::Sim,
    target: Uri<sipxfer::SipStr>,
    offer: &'static [u8],
    answer: &'static [u8],
    holder: usize,
    hanger: usize,
) -> (Events, Events) {
    use sipxfer::{CallOptions, CallState, Event, Instant};
    let options = CallOptions {
        offer: Some(Bytes::from_static(offer)),
        ..Default::default()
    };
    sim.ep(0).call(Instant::ZERO, target, options).unwrap();
    let (mut ea, mut eb) = (vec![], vec![]);
    let mut resumed = false;
    sim.run_to_end(|ep, n, now, e| {
        match &e {
            Event::IncomingCall { call, .. } => {
                ep.answer(now, *call, Some(Bytes::from_static(answer)))
                    .unwrap();
            }
            Event::CallState { call, state, .. } => match state {
                CallState::Confirmed if n == holder => ep.hold(now, *call).unwrap(),
                CallState::Held if n == holder => ep.resume(now, *call).unwrap(),
                CallState::Resumed => {
                    if n == holder {
                        resumed = true;
                    }
                    if n == hanger && (n == holder || resumed) {
                        ep.hangup(now, *call).unwrap();
                    }
                }
                _ => {}
            },
            _ => {}
        }
        if n == 0 {
            ea.push((now, e))
        } else {
            eb.push((now, e))
        }
    });
    (ea, eb)
}
