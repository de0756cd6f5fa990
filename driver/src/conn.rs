//! The TCP connection table (RFC 3261 §18): connections accepted or opened on demand, one
//! reused per destination, each with its queue of whole messages to write; the endpoint
//! frames what they read. Idle ones are closed.

use crate::io::{Connecting, Runtime, StreamIo};
use crate::{Captured, Direction, Shared, Tap};
use bytes::Bytes;
use sipxfer::{ConnId, Transmit, Transport};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Most bytes queued for one connection; past that the peer is not reading and the
/// connection is closed.
const MAX_QUEUED: usize = 4 << 20;

enum Io {
    Connecting(Connecting),
    Open(Box<dyn StreamIo>),
}

struct Conn {
    remote: SocketAddr,
    local: Option<SocketAddr>,
    io: Io,
    out: VecDeque<Bytes>,
    queued: usize,
    /// How much of `out.front()` is written.
    offset: usize,
    /// The tap has seen `out.front()`.
    front_tapped: bool,
    close_after: bool,
    last_active: Instant,
}

pub(crate) struct Conns {
    map: BTreeMap<ConnId, Conn>,
    by_remote: HashMap<SocketAddr, ConnId>,
    next: u64,
    tap: Option<Tap>,
}

impl Conns {
    pub(crate) fn new(tap: Option<Tap>) -> Self {
        Conns {
            map: BTreeMap::new(),
            by_remote: HashMap::new(),
            next: 0,
            tap,
        }
    }

    fn insert(&mut self, remote: SocketAddr, local: Option<SocketAddr>, io: Io) -> ConnId {
        self.next += 1;
        let id = ConnId(self.next);
        self.map.insert(
            id,
            Conn {
                remote,
                local,
                io,
                out: VecDeque::new(),
                queued: 0,
                offset: 0,
                front_tapped: false,
                close_after: false,
                last_active: Instant::now(),
            },
        );
        self.by_remote.insert(remote, id);
        id
    }

    fn remove(&mut self, s: &mut Shared, id: ConnId, why: &str) {
        if let Some(c) = self.map.remove(&id) {
            tracing::debug!(conn = id.0, remote = %c.remote, why, "tcp connection closed");
            if self.by_remote.get(&c.remote) == Some(&id) {
                self.by_remote.remove(&c.remote);
            }
            if !c.out.is_empty() {
                tracing::debug!(
                    conn = id.0,
                    messages = c.out.len(),
                    "unsent messages dropped"
                );
            }
            let now = s.clock.now();
            s.ep.handle_connection_closed(now, id);
        }
    }

    /// A connection the listener accepted.
    pub(crate) fn accepted(
        &mut self,
        s: &mut Shared,
        stream: Box<dyn StreamIo>,
        remote: SocketAddr,
    ) {
        let local = stream.local_addr().unwrap_or(s.local_addr);
        let id = self.insert(remote, Some(local), Io::Open(stream));
        tracing::debug!(conn = id.0, remote = %remote, "tcp connection accepted");
        let now = s.clock.now();
        s.ep.handle_connection_opened(now, id, Transport::Tcp, local, remote);
    }

    /// A message (or a close) for a stream: on the connection named, else on any to the
    /// same address, else on a new one (RFC 3261 §18.1.1, §18.2.2).
    pub(crate) fn route(&mut self, s: &mut Shared, rt: &dyn Runtime, t: Transmit) {
        let id = t
            .conn
            .filter(|c| self.map.contains_key(c))
            .or_else(|| self.by_remote.get(&t.to).copied());
        let id = match id {
            Some(id) => id,
            None if t.bytes.is_empty() => return,
            None => {
                let id = self.insert(t.to, None, Io::Connecting(rt.connect(t.to)));
                tracing::debug!(conn = id.0, remote = %t.to, "tcp connecting");
                id
            }
        };
        let c = self.map.get_mut(&id).expect("found or inserted");
        if !t.bytes.is_empty() {
            c.queued += t.bytes.len();
            c.out.push_back(t.bytes);
        }
        c.close_after |= t.close_after;
        if c.queued > MAX_QUEUED {
            tracing::warn!(conn = id.0, "peer is not reading: connection closed");
            self.remove(s, id, "write queue full");
        }
    }

    /// Polls connections being opened.
    pub(crate) fn connect(&mut self, cx: &mut Context<'_>, s: &mut Shared) -> bool {
        let mut done = Vec::new();
        for (&id, c) in self.map.iter_mut() {
            let Io::Connecting(f) = &mut c.io else {
                continue;
            };
            match f.as_mut().poll(cx) {
                Poll::Ready(r) => done.push((id, r)),
                Poll::Pending => {}
            }
        }
        let progress = !done.is_empty();
        for (id, r) in done {
            match r {
                Ok(stream) => {
                    let c = self.map.get_mut(&id).expect("listed");
                    let local = stream.local_addr().unwrap_or(s.local_addr);
                    c.local = Some(local);
                    c.io = Io::Open(stream);
                    c.last_active = Instant::now();
                    let remote = c.remote;
                    tracing::debug!(conn = id.0, remote = %remote, local = %local, "tcp connected");
                    let now = s.clock.now();
                    s.ep.handle_connection_opened(now, id, Transport::Tcp, local, remote);
                }
                Err(e) => {
                    tracing::warn!(conn = id.0, error = %e, "tcp connect failed");
                    self.connect_failed(s, id);
                }
            }
        }
        progress
    }

    /// Connection `id` could not be opened: what was queued for it is lost, and its
    /// transactions fail now (503, RFC 3261 §8.1.3.1; or over UDP after all, §18.1.1)
    /// rather than at Timer B or F.
    fn connect_failed(&mut self, s: &mut Shared, id: ConnId) {
        let Some(remote) = self.map.get(&id).map(|c| c.remote) else {
            return;
        };
        self.remove(s, id, "connect failed");
        let now = s.clock.now();
        s.ep.handle_unreachable(now, Transport::Tcp, remote);
    }

    /// Connections still being opened `timeout` after they were asked for fail as refused
    /// ones do ([`crate::Options::connect_timeout`]).
    pub(crate) fn give_up_connects(&mut self, s: &mut Shared, now: Instant, timeout: Duration) {
        let slow: Vec<ConnId> = self
            .map
            .iter()
            .filter(|(_, c)| matches!(c.io, Io::Connecting(_)) && c.last_active + timeout <= now)
            .map(|(&id, _)| id)
            .collect();
        for id in slow {
            tracing::warn!(conn = id.0, "tcp connect timed out");
            self.connect_failed(s, id);
        }
    }

    /// Reads what arrived on every open connection into the endpoint.
    pub(crate) fn read(
        &mut self,
        cx: &mut Context<'_>,
        s: &mut Shared,
        buf: &mut [u8],
        budget: &mut usize,
        tap: Option<&Tap>,
    ) -> bool {
        let mut progress = false;
        let mut closed = Vec::new();
        for (&id, c) in self.map.iter_mut() {
            let Io::Open(stream) = &mut c.io else {
                continue;
            };
            while *budget > 0 {
                match stream.poll_read(cx, buf) {
                    Poll::Ready(Ok(0)) => {
                        closed.push((id, "closed by peer"));
                        break;
                    }
                    Poll::Ready(Ok(n)) => {
                        *budget -= 1;
                        progress = true;
                        c.last_active = Instant::now();
                        if let Some(tap) = tap {
                            tap(&Captured {
                                at: std::time::SystemTime::now(),
                                direction: Direction::Received,
                                transport: Transport::Tcp,
                                local: c.local.unwrap_or(s.local_addr),
                                remote: c.remote,
                                bytes: Bytes::copy_from_slice(&buf[..n]),
                            });
                        }
                        let now = s.clock.now();
                        s.ep.handle_stream_bytes(now, id, &buf[..n]);
                    }
                    Poll::Ready(Err(e)) => {
                        tracing::debug!(conn = id.0, error = %e, "tcp read failed");
                        closed.push((id, "read error"));
                        break;
                    }
                    Poll::Pending => break,
                }
            }
        }
        progress |= !closed.is_empty();
        for (id, why) in closed {
            self.remove(s, id, why);
        }
        progress
    }

    /// Writes queued messages; closes connections the endpoint asked to close once written.
    pub(crate) fn write(&mut self, cx: &mut Context<'_>, s: &mut Shared) -> bool {
        let mut progress = false;
        let mut closed = Vec::new();
        for (&id, c) in self.map.iter_mut() {
            let Io::Open(stream) = &mut c.io else {
                continue;
            };
            while let Some(front) = c.out.front() {
                if !c.front_tapped {
                    c.front_tapped = true;
                    if let Some(tap) = &self.tap {
                        tap(&Captured {
                            at: std::time::SystemTime::now(),
                            direction: Direction::Sent,
                            transport: Transport::Tcp,
                            local: c.local.unwrap_or(s.local_addr),
                            remote: c.remote,
                            bytes: front.clone(),
                        });
                    }
                }
                match stream.poll_write(cx, &front[c.offset..]) {
                    Poll::Ready(Ok(n)) if n > 0 => {
                        progress = true;
                        c.last_active = Instant::now();
                        c.offset += n;
                        if c.offset == front.len() {
                            c.queued -= front.len();
                            c.out.pop_front();
                            c.offset = 0;
                            c.front_tapped = false;
                        }
                    }
                    Poll::Ready(Ok(_)) | Poll::Ready(Err(_)) => {
                        closed.push((id, "write failed"));
                        break;
                    }
                    Poll::Pending => break,
                }
            }
            if c.out.is_empty() && c.close_after {
                closed.push((id, "closed after a framing error"));
            }
        }
        progress |= !closed.is_empty();
        for (id, why) in closed {
            self.remove(s, id, why);
        }
        progress
    }

    /// Closes connections idle for `idle`.
    pub(crate) fn close_idle(&mut self, s: &mut Shared, now: Instant, idle: Duration) {
        let stale: Vec<ConnId> = self
            .map
            .iter()
            .filter(|(_, c)| c.out.is_empty() && c.last_active + idle <= now)
            .map(|(&id, _)| id)
            .collect();
        for id in stale {
            self.remove(s, id, "idle");
        }
    }

    /// When the next connection becomes idle, or the next one being opened times out.
    pub(crate) fn next_idle(&self, idle: Duration, connect: Duration) -> Option<Instant> {
        self.map
            .values()
            .map(|c| match c.io {
                Io::Connecting(_) => c.last_active + connect,
                Io::Open(_) => c.last_active + idle,
            })
            .min()
    }

    /// Nothing waits to be written.
    pub(crate) fn flushed(&self) -> bool {
        self.map.values().all(|c| c.out.is_empty())
    }
}
