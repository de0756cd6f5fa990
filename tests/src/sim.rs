//! A deterministic network simulator: any number of [`Endpoint`]s joined by seeded lossy
//! links, on a virtual clock.
//!
//! The driver always jumps to the earliest deadline among the endpoints (`poll_timeout`) and
//! the packets in flight, so a 32 s Timer B costs microseconds. UDP links drop, duplicate,
//! delay (latency + jitter) and reorder datagrams with seeded randomness; stream links (TCP,
//! TLS) deliver in order after the latency, never lose, and open connections on first use.
//! The same seed and the same application behaviour give a byte-identical transmit log.
//!
//! ```
//! use sipxfer_tests::sim::{Link, Sim};
//! let mut sim = Sim::new(7);
//! let a = sim.add_endpoint("10.0.0.1:5060");
//! let b = sim.add_endpoint("10.0.0.2:5060");
//! sim.set_default_link(Link::lossy(0.3));
//! # let _ = (a, b);
//! ```

use bytes::Bytes;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use sipxfer::{Config, ConnId, Duration, Endpoint, Event, Instant, Transmit, Transport};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::net::SocketAddr;

/// How a link treats datagrams (stream transports only use `latency`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Link {
    /// One-way delay.
    pub latency: Duration,
    /// Extra delay, uniform in `[0, jitter]`, drawn per datagram (reorders them).
    pub jitter: Duration,
    /// Probability a datagram is lost.
    pub loss: f64,
    /// Probability a datagram is delivered twice (the copy with its own delay).
    pub duplicate: f64,
    /// Probability a datagram is held back by a further `4 × latency` (reordering).
    pub reorder: f64,
}

impl Default for Link {
    fn default() -> Self {
        Link {
            latency: Duration::from_millis(10),
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
        }
    }
}

impl Link {
    /// `loss` probability of loss, with as much duplication and reordering again as loss /
    /// 3, and 20 ms of jitter on a 10 ms latency.
    pub fn lossy(loss: f64) -> Self {
        Link {
            latency: Duration::from_millis(10),
            jitter: Duration::from_millis(20),
            loss,
            duplicate: loss / 3.0,
            reorder: loss / 3.0,
        }
    }
}

/// What happened to one transmit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fate {
    /// Delivered (once).
    Delivered,
    /// Delivered twice.
    Duplicated,
    /// Lost on the link.
    Lost,
    /// No endpoint has that address.
    NoRoute,
    /// Only a connection close, no bytes.
    Close,
    /// A stream to a node that refuses connections ([`Sim::refuse_tcp`]): the sender was
    /// told at once ([`sipxfer::Endpoint::handle_unreachable`]).
    Refused,
}

/// One entry of the transmit log.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Logged {
    /// When it was sent.
    pub at: Instant,
    /// The sending endpoint's address.
    pub from: SocketAddr,
    /// The destination.
    pub to: SocketAddr,
    /// The transport.
    pub transport: Transport,
    /// The message.
    pub bytes: Bytes,
    /// What the link did with it.
    pub fate: Fate,
}

impl Logged {
    /// The first line of the message (`INVITE sip:... SIP/2.0`, `SIP/2.0 200 OK`).
    pub fn first_line(&self) -> &str {
        let s = std::str::from_utf8(&self.bytes).unwrap_or("");
        s.split("\r\n").next().unwrap_or("")
    }

    /// Seconds since the origin, as a float (for readable assertions).
    pub fn secs(&self) -> f64 {
        self.at.as_micros() as f64 / 1e6
    }
}

/// A node of the simulation.
pub struct Node {
    /// The endpoint.
    pub ep: Endpoint,
    /// Its address.
    pub addr: SocketAddr,
    /// Accepts packets and connections but never answers (a black hole that is "up").
    pub sink: bool,
    /// A stateless record-routing proxy (UDP) instead of an endpoint; see [`Sim::add_proxy`].
    pub proxy: bool,
    /// Refuses stream connections ([`Sim::refuse_tcp`]).
    pub refuses_tcp: bool,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Delivery {
    to: usize,
    from: SocketAddr,
    transport: Transport,
    /// For streams: the receiver's connection.
    conn: Option<ConnId>,
    bytes: Bytes,
}

/// The simulator.
pub struct Sim {
    /// Virtual time.
    pub now: Instant,
    /// The endpoints.
    pub nodes: Vec<Node>,
    /// Every transmit, in order.
    pub log: Vec<Logged>,
    default_link: Link,
    links: BTreeMap<(usize, usize), Link>,
    inflight: BinaryHeap<Reverse<(Instant, u64, Delivery)>>,
    seq: u64,
    rng: ChaCha8Rng,
    /// Stream connections: (node, conn) → (peer node, peer conn).
    conns: BTreeMap<(usize, ConnId), (usize, ConnId)>,
    /// Open connection per (from, to) pair, from the opener's side.
    pairs: BTreeMap<(usize, usize), ConnId>,
    next_conn: u64,
    /// Last delivery time per stream direction (streams stay in order).
    stream_tail: BTreeMap<(usize, ConnId), Instant>,
}

impl Sim {
    /// An empty simulation whose randomness comes from `seed`.
    pub fn new(seed: u64) -> Self {
        Sim {
            now: Instant::ZERO,
            nodes: Vec::new(),
            log: Vec::new(),
            default_link: Link::default(),
            links: BTreeMap::new(),
            inflight: BinaryHeap::new(),
            seq: 0,
            rng: ChaCha8Rng::seed_from_u64(seed),
            conns: BTreeMap::new(),
            pairs: BTreeMap::new(),
            next_conn: 1,
            stream_tail: BTreeMap::new(),
        }
    }

    /// Adds an endpoint at `addr` with the default config (seed derived from the address).
    pub fn add_endpoint(&mut self, addr: &str) -> usize {
        self.add_endpoint_tuned(addr, |_| {})
    }

    /// [`Sim::add_endpoint`] with the default config adjusted by `tune` (the same seed).
    pub fn add_endpoint_tuned(&mut self, addr: &str, tune: impl FnOnce(&mut Config)) -> usize {
        let addr: SocketAddr = addr.parse().expect("address");
        let mut seed = [0u8; 32];
        self.rng.fill_bytes(&mut seed);
        let mut config = Config::new(addr, seed);
        tune(&mut config);
        self.add_endpoint_with(config)
    }

    /// Adds an endpoint with `config` (its address is `config.local_addr`).
    pub fn add_endpoint_with(&mut self, config: Config) -> usize {
        let addr = config.local_addr;
        self.nodes.push(Node {
            ep: Endpoint::new(config, self.now),
            addr,
            sink: false,
            proxy: false,
            refuses_tcp: false,
        });
        self.nodes.len() - 1
    }

    /// Adds an address that accepts everything and answers nothing.
    pub fn add_sink(&mut self, addr: &str) -> usize {
        let i = self.add_endpoint(addr);
        self.nodes[i].sink = true;
        i
    }

    /// Adds a stateless proxy at `addr` (UDP only), in the manner of RFC 3261 §16.11: a
    /// request loses its top Route when that names the proxy, gets a Record-Route
    /// `<sip:addr;lr>` when it is a dialog-creating INVITE, gets the proxy's Via (branch derived
    /// from the incoming one, so a CANCEL takes the INVITE's path), and goes to the next Route
    /// or else the Request-URI; a response loses the top Via and goes to the next one's
    /// received/rport or sent-by address.
    pub fn add_proxy(&mut self, addr: &str) -> usize {
        let i = self.add_endpoint(addr);
        self.nodes[i].proxy = true;
        i
    }

    /// Node `i` refuses stream connections (a UDP-only host, or one whose TCP port is
    /// closed): a stream transmit to it with no connection open is not delivered, and its
    /// sender is told at once, as a runtime whose connect failed tells its endpoint.
    pub fn refuse_tcp(&mut self, i: usize) {
        self.nodes[i].refuses_tcp = true;
    }

    /// The link every pair uses unless [`Sim::set_link`] says otherwise.
    pub fn set_default_link(&mut self, link: Link) {
        self.default_link = link;
    }

    /// The link from `a` to `b` (one direction).
    pub fn set_link(&mut self, a: usize, b: usize, link: Link) {
        self.links.insert((a, b), link);
    }

    /// Endpoint `i`.
    pub fn ep(&mut self, i: usize) -> &mut Endpoint {
        &mut self.nodes[i].ep
    }

    fn unit(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn node_at(&self, addr: SocketAddr) -> Option<usize> {
        self.nodes.iter().position(|n| n.addr == addr)
    }

    fn schedule(&mut self, at: Instant, d: Delivery) {
        self.seq += 1;
        self.inflight.push(Reverse((at, self.seq, d)));
    }

    /// Moves everything the endpoints want to send onto the links.
    fn collect_transmits(&mut self) {
        for from in 0..self.nodes.len() {
            while let Some(t) = self.nodes[from].ep.poll_transmit() {
                self.transmit(from, t);
            }
        }
    }

    /// What proxy `at` does with a datagram (see [`Sim::add_proxy`]); malformed input and
    /// messages with nowhere to go are dropped.
    fn proxy(&mut self, at: usize, bytes: Bytes) {
        use sipxfer::msg::{Header, Host, Message, NameAddr, Uri, Values, Via};
        let me = self.nodes[at].addr;
        let Ok(mut m) = Message::parse(bytes, &sipxfer::Limits::default()) else {
            return;
        };
        let names_me = |u: &Uri<sipxfer::SipStr>| {
            sipxfer::dialog::uri_destination(u, Transport::Udp).is_some_and(|d| d.addr == me)
        };
        let next = if m.is_request() {
            // §16.4: our own Route entry goes.
            if let Some(i) = m.headers.iter().position(|h| matches!(h, Header::Route(_))) {
                if let Header::Route(r) = &mut m.headers[i] {
                    if r.first().is_some_and(|n| names_me(&n.uri)) {
                        r.remove(0);
                        if r.is_empty() {
                            m.headers.remove(i);
                        }
                    }
                }
            }
            let creates_dialog = m.method() == Some(&sipxfer::msg::Method::Invite)
                && m.to().and_then(|t| t.tag()).is_none();
            let next = match m.routes().next() {
                Some(r) => r.uri.clone(),
                None => m.request_uri().cloned().expect("request"),
            };
            if creates_dialog {
                let rr = Uri::parse(&format!("sip:{me};lr")).expect("uri");
                let mut v = Values::new();
                v.push(NameAddr::new(rr));
                m.headers.insert(0, Header::RecordRoute(v));
            }
            let branch = format!(
                "z9hG4bKp{}",
                m.top_via().and_then(|v| v.branch()).unwrap_or("x")
            );
            let host = match me.ip() {
                std::net::IpAddr::V4(a) => Host::Ipv4(a),
                std::net::IpAddr::V6(a) => Host::Ipv6(a),
            };
            let mut v = Values::new();
            v.push(Via::new("UDP", host, Some(me.port()), &branch));
            m.headers.insert(0, Header::Via(v));
            sipxfer::dialog::uri_destination(&next, Transport::Udp).map(|d| d.addr)
        } else {
            let i = m.headers.iter().position(|h| matches!(h, Header::Via(_)));
            let Some(i) = i else { return };
            if let Header::Via(v) = &mut m.headers[i] {
                v.remove(0);
                if v.is_empty() {
                    m.headers.remove(i);
                }
            }
            m.top_via().and_then(|v| {
                let ip = v.received().and_then(|r| r.parse().ok()).or(match v.host {
                    Host::Ipv4(a) => Some(std::net::IpAddr::V4(a)),
                    Host::Ipv6(a) => Some(std::net::IpAddr::V6(a)),
                    Host::Domain(_) => None,
                })?;
                let port = v.rport().flatten().or(v.port).unwrap_or(5060);
                Some(SocketAddr::new(ip, port))
            })
        };
        if let Some(to) = next {
            let t = Transmit {
                transport: Transport::Udp,
                local: Some(me),
                to,
                conn: None,
                bytes: m.to_bytes(),
                close_after: false,
            };
            self.transmit(at, t);
        }
    }

    /// Puts one transmit of node `from` on its link.
    fn transmit(&mut self, from: usize, t: Transmit) {
        {
            {
                let src = self.nodes[from].addr;
                let to = self.node_at(t.to);
                let mut fate = if t.bytes.is_empty() {
                    Fate::Close
                } else {
                    Fate::Delivered
                };
                match to {
                    None => fate = Fate::NoRoute,
                    Some(_) if t.bytes.is_empty() => {}
                    Some(to)
                        if t.transport.is_stream()
                            && self.nodes[to].refuses_tcp
                            && !self.pairs.contains_key(&(from, to)) =>
                    {
                        fate = Fate::Refused;
                        let now = self.now;
                        self.nodes[from]
                            .ep
                            .handle_unreachable(now, t.transport, t.to);
                    }
                    Some(to) => {
                        let link = *self.links.get(&(from, to)).unwrap_or(&self.default_link);
                        if t.transport.is_stream() {
                            let peer_conn = self.stream_conn(from, to, t.conn);
                            let tail = self.stream_tail.get(&(to, peer_conn)).copied();
                            let at = (self.now + link.latency).max(tail.unwrap_or(Instant::ZERO));
                            self.stream_tail.insert((to, peer_conn), at);
                            self.schedule(
                                at,
                                Delivery {
                                    to,
                                    from: src,
                                    transport: t.transport,
                                    conn: Some(peer_conn),
                                    bytes: t.bytes.clone(),
                                },
                            );
                        } else if self.unit() < link.loss {
                            fate = Fate::Lost;
                        } else {
                            let copies = if self.unit() < link.duplicate {
                                fate = Fate::Duplicated;
                                2
                            } else {
                                1
                            };
                            for _ in 0..copies {
                                let mut delay = link.latency + link.jitter.mul_f64(self.unit());
                                if self.unit() < link.reorder {
                                    delay += link.latency * 4;
                                }
                                self.schedule(
                                    self.now + delay,
                                    Delivery {
                                        to,
                                        from: src,
                                        transport: t.transport,
                                        conn: None,
                                        bytes: t.bytes.clone(),
                                    },
                                );
                            }
                        }
                    }
                }
                self.log.push(Logged {
                    at: self.now,
                    from: src,
                    to: t.to,
                    transport: t.transport,
                    bytes: t.bytes,
                    fate,
                });
            }
        }
    }

    /// The receiver's connection for a stream transmit from `from` to `to`, opening one (and
    /// telling both endpoints) on first use.
    fn stream_conn(&mut self, from: usize, to: usize, conn: Option<ConnId>) -> ConnId {
        if let Some(c) = conn {
            if let Some(&(_, peer)) = self.conns.get(&(from, c)) {
                return peer;
            }
        }
        if let Some(&c) = self.pairs.get(&(from, to)) {
            return self.conns[&(from, c)].1;
        }
        let (ca, cb) = (ConnId(self.next_conn), ConnId(self.next_conn + 1));
        self.next_conn += 2;
        self.conns.insert((from, ca), (to, cb));
        self.conns.insert((to, cb), (from, ca));
        self.pairs.insert((from, to), ca);
        self.pairs.insert((to, from), cb);
        let (a, b) = (self.nodes[from].addr, self.nodes[to].addr);
        let now = self.now;
        self.nodes[from]
            .ep
            .handle_connection_opened(now, ca, Transport::Tcp, a, b);
        self.nodes[to]
            .ep
            .handle_connection_opened(now, cb, Transport::Tcp, b, a);
        cb
    }

    /// The earliest deadline among endpoints and packets in flight.
    pub fn next_deadline(&self) -> Option<Instant> {
        let packets = self.inflight.peek().map(|Reverse((at, _, _))| *at);
        let timers = self
            .nodes
            .iter()
            .filter(|n| !n.sink && !n.proxy)
            .filter_map(|n| n.ep.poll_timeout())
            .min();
        match (packets, timers) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs until `until` (the clock ends there); `app` sees every event with the endpoint
    /// it came from, and may issue commands on it.
    pub fn run(&mut self, until: Instant, app: impl FnMut(&mut Endpoint, usize, Instant, Event)) {
        self.run_inner(Some(until), app)
    }

    fn run_inner(
        &mut self,
        until: Option<Instant>,
        mut app: impl FnMut(&mut Endpoint, usize, Instant, Event),
    ) {
        loop {
            self.drain(&mut app);
            let Some(next) = self.next_deadline() else {
                if let Some(until) = until {
                    self.now = self.now.max(until);
                }
                break;
            };
            let until = until.unwrap_or(Instant::from_micros(u64::MAX));
            if next > until {
                self.now = self.now.max(until);
                break;
            }
            self.now = next;
            while let Some(Reverse((at, _, _))) = self.inflight.peek() {
                if *at > self.now {
                    break;
                }
                let Reverse((_, _, d)) = self.inflight.pop().expect("peeked");
                if self.nodes[d.to].sink {
                    continue;
                }
                if self.nodes[d.to].proxy {
                    self.proxy(d.to, d.bytes);
                    continue;
                }
                let (now, local) = (self.now, self.nodes[d.to].addr);
                let ep = &mut self.nodes[d.to].ep;
                match d.conn {
                    Some(c) => ep.handle_stream_bytes(now, c, &d.bytes),
                    None => ep.handle_datagram(now, d.transport, d.from, local, d.bytes),
                }
                self.drain(&mut app);
            }
            for i in 0..self.nodes.len() {
                if self.nodes[i].sink || self.nodes[i].proxy {
                    continue;
                }
                if self.nodes[i]
                    .ep
                    .poll_timeout()
                    .is_some_and(|t| t <= self.now)
                {
                    let now = self.now;
                    self.nodes[i].ep.handle_timeout(now);
                }
            }
        }
        self.drain(&mut app);
    }

    /// Runs until everything has settled (no packet in flight, no timer armed); the clock
    /// stops at the last thing that happened.
    pub fn run_to_end(&mut self, app: impl FnMut(&mut Endpoint, usize, Instant, Event)) {
        self.run_inner(None, app)
    }

    /// Hands events to `app` and transmits to the links until both are quiet.
    fn drain(&mut self, app: &mut impl FnMut(&mut Endpoint, usize, Instant, Event)) {
        loop {
            let mut any = false;
            for i in 0..self.nodes.len() {
                while let Some(e) = self.nodes[i].ep.poll_event() {
                    any = true;
                    if !self.nodes[i].sink {
                        app(&mut self.nodes[i].ep, i, self.now, e);
                    }
                }
            }
            let before = self.log.len();
            self.collect_transmits();
            if !any && self.log.len() == before {
                break;
            }
        }
    }

    /// The log entries sent by node `i`.
    pub fn sent_by(&self, i: usize) -> Vec<&Logged> {
        let a = self.nodes[i].addr;
        self.log.iter().filter(|l| l.from == a).collect()
    }
}
