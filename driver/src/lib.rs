//! The runtime-neutral half of the sipxfer adapters, written once: it owns the
//! [`sipxfer::Endpoint`], routes each [`sipxfer::Transmit`] to the UDP socket or to a TCP
//! connection (opened on demand, reused per destination, closed when idle, RFC 3261 §18),
//! keeps the deadline, and carries commands in and events out.
//!
//! A runtime adapter (`sipxfer-tokio`, `sipxfer-async-std`) only supplies sockets and a timer
//! through the poll-based traits of [`io`], then runs the [`Driver`] future on its executor.
//! Applications use the adapter's `bind`, which returns a [`Handle`] (cloneable; every
//! command of the core, with the time filled in) and an [`Events`] stream.
//!
//! ## One task, one endpoint
//!
//! The [`Driver`] is a single future: it reads the UDP socket, accepts and reads TCP
//! connections, fires the endpoint's timers, writes what the endpoint sends and hands events
//! to [`Events`]. The endpoint itself sits behind a mutex shared with the [`Handle`]s: a
//! command locks it, runs, and wakes the driver, which sends what the command produced. The
//! lock is never held across an `.await`.
//!
//! ## When the application stops reading events
//!
//! Events wait in a queue of [`Options::event_capacity`]. While it is full the driver stops
//! reading the sockets (so nothing inside sipxfer grows): timers still fire, retransmissions
//! and commands still go out, and arriving datagrams wait in the kernel's socket buffer,
//! where the kernel drops them once it is full — the peer retransmits, as with any
//! overloaded user agent. Events that timers produce meanwhile are still queued (their
//! number is bounded by the endpoint's own limits). Dropping [`Events`] discards every later
//! event.
//!
//! ## Shutdown
//!
//! [`Handle::shutdown`] hangs up every live call, then lets the driver run until no call and
//! no pending transaction is left (or the grace period ends), and stops it. The same happens,
//! with [`Options::shutdown_grace`], when the last [`Handle`] is dropped.
#![deny(missing_docs)]

mod conn;
pub mod datagram;
pub mod demo;
mod handle;
pub mod io;
mod spans;

pub use handle::{Events, Handle};

use bytes::Bytes;
use conn::Conns;
use io::{ListenerIo, Runtime, TimerIo, UdpIo};
use sipxfer::{Config, Endpoint, Transport};
use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// Which transports to listen on (both on the same port).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transports {
    /// A UDP socket.
    pub udp: bool,
    /// A TCP listener (and outgoing TCP connections).
    pub tcp: bool,
}

impl Default for Transports {
    fn default() -> Self {
        Transports {
            udp: true,
            tcp: true,
        }
    }
}

/// A SIP message as it crossed the socket, for a [`Tap`].
#[derive(Clone, Debug)]
pub struct Captured {
    /// Wall-clock time of the send or the receive.
    pub at: std::time::SystemTime,
    /// Sent or received.
    pub direction: Direction,
    /// UDP or TCP.
    pub transport: Transport,
    /// Our end (for TCP the connection's own local address).
    pub local: SocketAddr,
    /// The other end.
    pub remote: SocketAddr,
    /// The bytes: one datagram, one whole message written to a connection, or one read from
    /// a connection (which may hold part of a message, or several).
    pub bytes: Bytes,
}

/// Whether a [`Captured`] message left or arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// We sent it.
    Sent,
    /// We received it.
    Received,
}

/// A callback that sees every message sent and received (for ladders, pcap files, logs).
/// It runs inside the driver: keep it short.
pub type Tap = Arc<dyn Fn(&Captured) + Send + Sync>;

/// How the driver behaves (the endpoint's own settings are in [`sipxfer::Config`]).
#[derive(Clone)]
pub struct Options {
    /// Most events waiting for the application before the driver stops reading the sockets.
    pub event_capacity: usize,
    /// A TCP connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// A TCP connection not opened within this long counts as refused (a peer behind a
    /// firewall that drops the SYN answers nothing, and the system would try for minutes):
    /// what waits for it fails at once — a request goes over UDP after all when it was sent
    /// over TCP only for its size (RFC 3261 §18.1.1), others end with a 503 (§8.1.3.1).
    /// Default 5 s: well within Timer B's 32 s, leaving a request that falls back to UDP
    /// its retransmissions there.
    pub connect_timeout: Duration,
    /// Most datagrams waiting for the UDP socket to accept them; more are dropped (and
    /// logged): the transactions retransmit.
    pub max_udp_backlog: usize,
    /// How long a shutdown waits for calls and transactions to end, when the last
    /// [`Handle`] is dropped.
    pub shutdown_grace: Duration,
    /// Sees every message sent and received.
    pub tap: Option<Tap>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            event_capacity: 1024,
            idle_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(5),
            max_udp_backlog: 4096,
            shutdown_grace: Duration::from_secs(5),
            tap: None,
        }
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("event_capacity", &self.event_capacity)
            .field("idle_timeout", &self.idle_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("max_udp_backlog", &self.max_udp_backlog)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("tap", &self.tap.is_some())
            .finish()
    }
}

type Configure = Box<dyn FnOnce(&mut Config) + Send>;

/// What to bind and how to configure the endpoint; the adapters' `bind` consumes it.
///
/// ```
/// use sipxfer_driver::{Builder, Transports};
/// let b = Builder::new("127.0.0.1:0".parse().unwrap())
///     .transports(Transports { udp: true, tcp: false })
///     .configure(|c| c.auto_accept_transfers = true);
/// assert_eq!(b.addr().port(), 0); // an ephemeral port, picked at bind
/// ```
pub struct Builder {
    addr: SocketAddr,
    transports: Transports,
    configure: Option<Configure>,
    options: Options,
}

impl Builder {
    /// Listen on `addr` (port 0: an ephemeral port, the same for UDP and TCP).
    pub fn new(addr: SocketAddr) -> Self {
        Builder {
            addr,
            transports: Transports::default(),
            configure: None,
            options: Options::default(),
        }
    }

    /// The address to bind.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Which transports to listen on (default: both).
    pub fn transports(mut self, t: Transports) -> Self {
        self.transports = t;
        self
    }

    /// Adjusts the endpoint's [`Config`] after the sockets are bound (its `local_addr` is
    /// the bound address and its seed comes from the operating system).
    pub fn configure(mut self, f: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.configure = Some(Box::new(f));
        self
    }

    /// The driver's own options.
    pub fn options(mut self, options: Options) -> Self {
        self.options = options;
        self
    }

    /// Sees every message sent and received (see [`Tap`]).
    pub fn tap(mut self, tap: impl Fn(&Captured) + Send + Sync + 'static) -> Self {
        self.options.tap = Some(Arc::new(tap));
        self
    }

    /// Binds the standard-library sockets (non-blocking) the adapter will wrap.
    pub fn bind_std(&self) -> std::io::Result<StdSockets> {
        bind_std(self.addr, self.transports)
    }

    /// Builds the driver around sockets the adapter wrapped (from [`Builder::bind_std`]).
    pub fn build(
        self,
        local_addr: SocketAddr,
        udp: Option<Box<dyn UdpIo>>,
        tcp: Option<Box<dyn ListenerIo>>,
        runtime: Arc<dyn Runtime>,
    ) -> (Handle, Events, Driver) {
        let mut config = Config::new(local_addr, os_seed());
        if tcp.is_none() {
            // No TCP: a large request goes over UDP whatever its size (RFC 3261 §18.1.1's
            // switch needs a connection to switch to).
            config.udp_request_limit = None;
        }
        if let Some(f) = self.configure {
            f(&mut config);
        }
        config.local_addr = local_addr;
        let clock = Clock::new();
        let ep = Endpoint::new(config, clock.now());
        let shared = Arc::new(Mutex::new(Shared {
            ep,
            clock,
            local_addr,
            driver_waker: None,
            events: VecDeque::new(),
            events_open: true,
            event_waker: None,
            capacity: self.options.event_capacity.max(1),
            shutdown: None,
            finished: false,
            finish_wakers: Vec::new(),
            spans: spans::Spans::default(),
        }));
        let timer = runtime.timer(std::time::Instant::now() + Duration::from_secs(3600));
        let driver = Driver {
            inner: Box::new(State {
                shared: shared.clone(),
                udp,
                tcp,
                runtime,
                timer,
                udp_out: VecDeque::new(),
                conns: Conns::new(self.options.tap.clone()),
                buf: vec![0; 65_536].into_boxed_slice(),
                options: self.options.clone(),
                local_addr,
            }),
        };
        let (handle, events) = handle::pair(shared, self.options.shutdown_grace);
        (handle, events, driver)
    }
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("addr", &self.addr)
            .field("transports", &self.transports)
            .field("options", &self.options)
            .finish()
    }
}

/// The sockets [`Builder::bind_std`] bound, non-blocking.
#[derive(Debug)]
pub struct StdSockets {
    /// The UDP socket, if asked for.
    pub udp: Option<std::net::UdpSocket>,
    /// The TCP listener, if asked for.
    pub tcp: Option<std::net::TcpListener>,
    /// The address both are bound to (the ephemeral port resolved).
    pub local_addr: SocketAddr,
}

/// Binds UDP and TCP on the same address; with port 0, finds a port free for both.
fn bind_std(addr: SocketAddr, t: Transports) -> std::io::Result<StdSockets> {
    use std::io::{Error, ErrorKind};
    if !t.udp && !t.tcp {
        return Err(Error::new(ErrorKind::InvalidInput, "no transport to bind"));
    }
    let what =
        |proto: &str, e: Error| Error::new(e.kind(), format!("cannot bind {addr} ({proto}): {e}"));
    for _ in 0..16 {
        let udp = if t.udp {
            Some(std::net::UdpSocket::bind(addr).map_err(|e| what("udp", e))?)
        } else {
            None
        };
        let at = match &udp {
            Some(u) => u.local_addr()?,
            None => addr,
        };
        let tcp = if t.tcp {
            match std::net::TcpListener::bind(at) {
                Ok(l) => Some(l),
                // The port UDP picked is taken for TCP: pick another.
                Err(e) if addr.port() == 0 && udp.is_some() && e.kind() == ErrorKind::AddrInUse => {
                    continue
                }
                Err(e) => return Err(what("tcp", e)),
            }
        } else {
            None
        };
        let local_addr = match (&udp, &tcp) {
            (Some(u), _) => u.local_addr()?,
            (None, Some(l)) => l.local_addr()?,
            (None, None) => unreachable!("checked above"),
        };
        if let Some(u) = &udp {
            u.set_nonblocking(true)?;
        }
        if let Some(l) = &tcp {
            l.set_nonblocking(true)?;
        }
        return Ok(StdSockets {
            udp,
            tcp,
            local_addr,
        });
    }
    Err(Error::new(
        ErrorKind::AddrInUse,
        format!("cannot bind {addr}: no port free for both UDP and TCP"),
    ))
}

/// 32 bytes from the operating system's randomness, the seed of the endpoint's ids.
pub fn os_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    if getrandom::fill(&mut seed).is_err() {
        // No OS randomness (should not happen on a hosted target): fall back to the clock
        // and the process id, still unique per run.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        seed[..16].copy_from_slice(&t.to_le_bytes());
        seed[16..20].copy_from_slice(&std::process::id().to_le_bytes());
    }
    seed
}

/// The monotonic clock mapped onto the core's [`sipxfer::Instant`].
#[derive(Clone, Copy, Debug)]
struct Clock {
    origin: std::time::Instant,
}

impl Clock {
    fn new() -> Self {
        Clock {
            origin: std::time::Instant::now(),
        }
    }

    fn now(&self) -> sipxfer::Instant {
        self.at(std::time::Instant::now())
    }

    fn at(&self, t: std::time::Instant) -> sipxfer::Instant {
        let us = t.saturating_duration_since(self.origin).as_micros();
        sipxfer::Instant::from_micros(u64::try_from(us).unwrap_or(u64::MAX))
    }

    fn std_at(&self, t: sipxfer::Instant) -> std::time::Instant {
        self.origin + Duration::from_micros(t.as_micros())
    }
}

/// What the driver and the handles share.
struct Shared {
    ep: Endpoint,
    clock: Clock,
    local_addr: SocketAddr,
    driver_waker: Option<Waker>,
    events: VecDeque<sipxfer::Event>,
    events_open: bool,
    event_waker: Option<Waker>,
    capacity: usize,
    /// Shutting down: stop by this time at the latest.
    shutdown: Option<std::time::Instant>,
    finished: bool,
    finish_wakers: Vec<Waker>,
    spans: spans::Spans,
}

impl Shared {
    fn wake_driver(&mut self) {
        if let Some(w) = &self.driver_waker {
            w.wake_by_ref();
        }
    }

    /// Starts a graceful shutdown: hang up every call, stop by `grace` from now.
    fn begin_shutdown(&mut self, grace: Duration) {
        if self.shutdown.is_some() || self.finished {
            return;
        }
        tracing::debug!(local = %self.local_addr, "shutting down");
        self.shutdown = Some(std::time::Instant::now() + grace);
        let now = self.clock.now();
        let calls: Vec<_> = self.ep.calls().collect();
        for call in calls {
            let _ = self.ep.hangup(now, call);
        }
        self.wake_driver();
    }

    fn finish(&mut self) {
        self.finished = true;
        if let Some(w) = self.event_waker.take() {
            w.wake();
        }
        for w in self.finish_wakers.drain(..) {
            w.wake();
        }
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic while the lock was held (in an application callback) leaves the endpoint as
    // it was between two inputs: still consistent, so keep going.
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

/// The future that runs an endpoint over real sockets. Spawn it on the executor (the
/// adapters' `bind` does); it completes after a shutdown.
#[must_use = "the driver does nothing unless polled"]
pub struct Driver {
    inner: Box<State>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("local_addr", &self.inner.local_addr)
            .finish_non_exhaustive()
    }
}

struct State {
    shared: Arc<Mutex<Shared>>,
    udp: Option<Box<dyn UdpIo>>,
    tcp: Option<Box<dyn ListenerIo>>,
    runtime: Arc<dyn Runtime>,
    timer: Box<dyn TimerIo>,
    udp_out: VecDeque<(SocketAddr, Bytes)>,
    conns: Conns,
    buf: Box<[u8]>,
    options: Options,
    local_addr: SocketAddr,
}

/// Inputs handled per poll before the driver yields to other tasks.
const BUDGET: usize = 256;

impl Future for Driver {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let st = &mut *self.inner;
        let shared = st.shared.clone();
        let mut s = lock(&shared);
        if !s
            .driver_waker
            .as_ref()
            .is_some_and(|w| w.will_wake(cx.waker()))
        {
            s.driver_waker = Some(cx.waker().clone());
        }
        let mut budget = BUDGET;
        loop {
            let now_std = std::time::Instant::now();
            let now = s.clock.at(now_std);
            let mut progress = false;
            if s.ep.poll_timeout().is_some_and(|t| t <= now) {
                s.ep.handle_timeout(now);
                progress = true;
            }
            if s.events.len() < s.capacity {
                progress |= st.recv_udp(cx, &mut s, &mut budget);
                progress |= st.accept(cx, &mut s);
                let tap = st.options.tap.as_ref();
                progress |= st.conns.read(cx, &mut s, &mut st.buf, &mut budget, tap);
            }
            progress |= st.conns.connect(cx, &mut s);
            progress |= st.drain(&mut s);
            progress |= st.send_udp(cx);
            progress |= st.conns.write(cx, &mut s);
            st.conns
                .close_idle(&mut s, now_std, st.options.idle_timeout);
            st.conns
                .give_up_connects(&mut s, now_std, st.options.connect_timeout);
            if let Some(deadline) = s.shutdown {
                let idle = s.ep.calls().next().is_none()
                    && s.ep.pending_transactions() == 0
                    && st.udp_out.is_empty()
                    && st.conns.flushed();
                if idle || now_std >= deadline {
                    tracing::debug!(local = %st.local_addr, clean = idle, "driver stopped");
                    s.finish();
                    return Poll::Ready(());
                }
            }
            if !progress {
                break;
            }
            if budget == 0 {
                // Fairness: let other tasks run, then come back.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        let mut deadline = std::time::Instant::now() + Duration::from_secs(3600);
        if let Some(t) = s.ep.poll_timeout() {
            deadline = deadline.min(s.clock.std_at(t));
        }
        if let Some(t) = st
            .conns
            .next_idle(st.options.idle_timeout, st.options.connect_timeout)
        {
            deadline = deadline.min(t);
        }
        if let Some(t) = s.shutdown {
            deadline = deadline.min(t);
        }
        st.timer.reset(deadline);
        if st.timer.poll_fire(cx).is_ready() {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

impl State {
    fn tap(
        &self,
        direction: Direction,
        transport: Transport,
        local: SocketAddr,
        remote: SocketAddr,
        bytes: &Bytes,
    ) {
        if let Some(tap) = &self.options.tap {
            tap(&Captured {
                at: std::time::SystemTime::now(),
                direction,
                transport,
                local,
                remote,
                bytes: bytes.clone(),
            });
        }
    }

    fn recv_udp(&mut self, cx: &mut Context<'_>, s: &mut Shared, budget: &mut usize) -> bool {
        let Some(udp) = &self.udp else {
            return false;
        };
        let mut progress = false;
        while *budget > 0 {
            match udp.poll_recv_from(cx, &mut self.buf) {
                Poll::Ready(Ok((n, from))) => {
                    *budget -= 1;
                    progress = true;
                    let bytes = datagram::copy(&self.buf[..n]);
                    self.tap(
                        Direction::Received,
                        Transport::Udp,
                        self.local_addr,
                        from,
                        &bytes,
                    );
                    tracing::trace!(from = %from, len = n, "udp in");
                    let now = s.clock.now();
                    s.ep.handle_datagram(now, Transport::Udp, from, self.local_addr, bytes);
                }
                // Linux reports an ICMP port-unreachable for an earlier send on the next
                // receive (ECONNREFUSED): not fatal for a connectionless socket.
                Poll::Ready(Err(e)) => {
                    *budget -= 1;
                    tracing::debug!(error = %e, "udp receive error");
                }
                Poll::Pending => break,
            }
        }
        progress
    }

    fn accept(&mut self, cx: &mut Context<'_>, s: &mut Shared) -> bool {
        let Some(l) = &self.tcp else {
            return false;
        };
        let mut progress = false;
        for _ in 0..16 {
            match l.poll_accept(cx) {
                Poll::Ready(Ok((stream, remote))) => {
                    progress = true;
                    self.conns.accepted(s, stream, remote);
                }
                Poll::Ready(Err(e)) => {
                    // Out of descriptors and the like: try again on the next wake-up.
                    tracing::warn!(error = %e, "tcp accept failed");
                    break;
                }
                Poll::Pending => break,
            }
        }
        progress
    }

    /// Moves what the endpoint produced to the socket queues and the event queue.
    fn drain(&mut self, s: &mut Shared) -> bool {
        let mut progress = false;
        while let Some(t) = s.ep.poll_transmit() {
            progress = true;
            match t.transport {
                Transport::Udp => {
                    if self.udp.is_none() {
                        tracing::warn!(to = %t.to, "no UDP socket: message dropped");
                        continue;
                    }
                    if self.udp_out.len() >= self.options.max_udp_backlog {
                        tracing::warn!(to = %t.to, "UDP backlog full: message dropped");
                        continue;
                    }
                    self.tap(
                        Direction::Sent,
                        Transport::Udp,
                        self.local_addr,
                        t.to,
                        &t.bytes,
                    );
                    self.udp_out.push_back((t.to, t.bytes));
                }
                Transport::Tcp => {
                    if self.tcp.is_none() {
                        // As for a connection that could not be opened: a request sent over
                        // TCP for its size goes over UDP after all, any other fails (503).
                        tracing::warn!(to = %t.to, "TCP not enabled: message dropped");
                        let now = s.clock.now();
                        s.ep.handle_unreachable(now, Transport::Tcp, t.to);
                        continue;
                    }
                    self.conns.route(s, &*self.runtime, t);
                }
                _ => {
                    tracing::warn!(to = %t.to, transport = ?t.transport, "transport not supported by this runtime: message dropped")
                }
            }
        }
        while let Some(e) = s.ep.poll_event() {
            progress = true;
            let local = s.local_addr;
            s.spans.record(local, &e);
            if s.events_open {
                s.events.push_back(e);
                if let Some(w) = s.event_waker.take() {
                    w.wake();
                }
            }
        }
        progress
    }

    fn send_udp(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(udp) = &self.udp else {
            return false;
        };
        let mut progress = false;
        while let Some((to, bytes)) = self.udp_out.front() {
            match udp.poll_send_to(cx, bytes, *to) {
                Poll::Ready(r) => {
                    if let Err(e) = r {
                        tracing::debug!(to = %to, error = %e, "udp send failed");
                    }
                    self.udp_out.pop_front();
                    progress = true;
                }
                Poll::Pending => break,
            }
        }
        progress
    }
}
