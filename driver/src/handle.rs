//! The application's side: a cloneable [`Handle`] for commands and the [`Events`] stream.

use crate::{lock, Shared};
use bytes::Bytes;
use sipxfer::msg::Uri;
use sipxfer::{
    CallId, CallOptions, Destination, Endpoint, Error, Event, Instant, Message, SipStr, Stats,
    Transfer, TransferId, TxId,
};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

/// Drops the last handle: shut down.
struct Alive {
    shared: Arc<Mutex<Shared>>,
    grace: Duration,
}

impl Drop for Alive {
    fn drop(&mut self) {
        lock(&self.shared).begin_shutdown(self.grace);
    }
}

/// Commands to a running endpoint. Cheap to clone; when the last clone is dropped the
/// endpoint shuts down gracefully.
///
/// Each command is the core's command of the same name (see [`sipxfer::Endpoint`]) with the
/// time filled in from the monotonic clock, and returns the core's typed result. After the
/// endpoint has stopped, commands return [`Error::InvalidState`].
#[derive(Clone)]
pub struct Handle {
    shared: Arc<Mutex<Shared>>,
    /// Its drop (with the last clone) starts the shutdown.
    _alive: Arc<Alive>,
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("local_addr", &self.local_addr())
            .finish_non_exhaustive()
    }
}

pub(crate) fn pair(shared: Arc<Mutex<Shared>>, grace: Duration) -> (Handle, Events) {
    let alive = Arc::new(Alive {
        shared: shared.clone(),
        grace,
    });
    (
        Handle {
            shared: shared.clone(),
            _alive: alive,
        },
        Events { shared },
    )
}

impl Handle {
    /// The address the sockets are bound to (also the endpoint's `Config::local_addr`).
    pub fn local_addr(&self) -> SocketAddr {
        lock(&self.shared).local_addr
    }

    /// The endpoint's counters.
    pub fn stats(&self) -> Stats {
        lock(&self.shared).ep.stats()
    }

    /// The endpoint has stopped (after a shutdown).
    pub fn is_closed(&self) -> bool {
        lock(&self.shared).finished
    }

    /// Runs `f` on the endpoint with the current time, then lets the driver send what it
    /// produced: for anything the named commands do not cover. Do not block in `f`.
    pub fn with<R>(&self, f: impl FnOnce(&mut Endpoint, Instant) -> R) -> R {
        let mut s = lock(&self.shared);
        let now = s.clock.now();
        let r = f(&mut s.ep, now);
        s.wake_driver();
        r
    }

    /// A command; refused once the endpoint has stopped.
    fn run<T>(
        &self,
        what: &'static str,
        call: Option<CallId>,
        f: impl FnOnce(&mut Endpoint, Instant) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut s = lock(&self.shared);
        if s.finished {
            return Err(Error::InvalidState);
        }
        let now = s.clock.now();
        let r = f(&mut s.ep, now);
        let local = s.local_addr;
        if let Some(call) = call {
            let ok = r.is_ok();
            s.spans
                .call(local, call)
                .in_scope(|| tracing::debug!(command = what, ok, "command"));
        } else {
            tracing::debug!(local = %local, command = what, ok = r.is_ok(), "command");
        }
        s.wake_driver();
        r
    }

    /// Places a call ([`Endpoint::call`]).
    pub async fn call(&self, target: Uri<SipStr>, options: CallOptions) -> Result<CallId, Error> {
        self.run("call", None, |ep, now| ep.call(now, target, options))
    }

    /// Answers an incoming call with 200 and `answer`, or the offer in the 2xx to a call
    /// placed without one, in its ACK ([`Endpoint::answer`]).
    pub async fn answer(&self, call: CallId, answer: Option<Bytes>) -> Result<(), Error> {
        self.run("answer", Some(call), |ep, now| ep.answer(now, call, answer))
    }

    /// Sends a provisional response to an incoming call ([`Endpoint::ring`]).
    pub async fn ring(&self, call: CallId, code: u16) -> Result<(), Error> {
        self.run("ring", Some(call), |ep, now| ep.ring(now, call, code))
    }

    /// Rejects an incoming call ([`Endpoint::reject`]).
    pub async fn reject(&self, call: CallId, code: u16) -> Result<(), Error> {
        self.run("reject", Some(call), |ep, now| ep.reject(now, call, code))
    }

    /// Redirects an incoming call with a 3xx naming `targets` ([`Endpoint::redirect_call`]).
    pub async fn redirect_call(
        &self,
        call: CallId,
        code: u16,
        targets: Vec<sipxfer::msg::NameAddr<sipxfer::SipStr>>,
    ) -> Result<(), Error> {
        self.run("redirect_call", Some(call), move |ep, now| {
            ep.redirect_call(now, call, code, targets)
        })
    }

    /// Ends a call in any state ([`Endpoint::hangup`]).
    pub async fn hangup(&self, call: CallId) -> Result<(), Error> {
        self.run("hangup", Some(call), |ep, now| ep.hangup(now, call))
    }

    /// Cancels an outgoing call not answered yet ([`Endpoint::cancel_call`]).
    pub async fn cancel_call(&self, call: CallId) -> Result<(), Error> {
        self.run("cancel_call", Some(call), |ep, now| {
            ep.cancel_call(now, call)
        })
    }

    /// Puts a call on hold ([`Endpoint::hold`]).
    pub async fn hold(&self, call: CallId) -> Result<(), Error> {
        self.run("hold", Some(call), |ep, now| ep.hold(now, call))
    }

    /// Takes a call off hold ([`Endpoint::resume`]).
    pub async fn resume(&self, call: CallId) -> Result<(), Error> {
        self.run("resume", Some(call), |ep, now| ep.resume(now, call))
    }

    /// Sends a re-INVITE with a new offer ([`Endpoint::reinvite`]).
    pub async fn reinvite(&self, call: CallId, offer: Bytes) -> Result<(), Error> {
        self.run("reinvite", Some(call), |ep, now| {
            ep.reinvite(now, call, offer)
        })
    }

    /// Transfers a call ([`Endpoint::transfer`]).
    pub async fn transfer(&self, call: CallId, transfer: Transfer) -> Result<TransferId, Error> {
        let r = self.run("transfer", Some(call), |ep, now| {
            ep.transfer(now, call, transfer)
        });
        if let Ok(t) = r {
            let mut s = lock(&self.shared);
            let local = s.local_addr;
            s.spans
                .transfer(local, t, Some(call))
                .in_scope(|| tracing::info!("transfer started"));
        }
        r
    }

    /// Accepts an incoming transfer; returns the call to the target
    /// ([`Endpoint::accept_transfer`]).
    pub async fn accept_transfer(
        &self,
        transfer: TransferId,
        offer: Option<Bytes>,
    ) -> Result<CallId, Error> {
        self.run("accept_transfer", None, |ep, now| {
            ep.accept_transfer(now, transfer, offer)
        })
    }

    /// Rejects an incoming transfer ([`Endpoint::reject_transfer`]).
    pub async fn reject_transfer(&self, transfer: TransferId, code: u16) -> Result<(), Error> {
        self.run("reject_transfer", None, |ep, now| {
            ep.reject_transfer(now, transfer, code)
        })
    }

    /// Gives up a transfer we started ([`Endpoint::cancel_transfer`]).
    pub async fn cancel_transfer(&self, transfer: TransferId) -> Result<(), Error> {
        self.run("cancel_transfer", None, |ep, now| {
            ep.cancel_transfer(now, transfer)
        })
    }

    /// Sends a request in a new client transaction ([`Endpoint::send_request`]).
    pub async fn send_request(&self, dest: Destination, request: Message) -> Result<TxId, Error> {
        self.run("send_request", None, |ep, now| {
            ep.send_request(now, dest, request)
        })
    }

    /// A response to build for server transaction `tx` ([`Endpoint::response`]).
    pub async fn response(&self, tx: TxId, code: u16) -> Result<Message, Error> {
        self.run("response", None, |ep, _| ep.response(tx, code))
    }

    /// Sends a response on server transaction `tx` ([`Endpoint::respond`]).
    pub async fn respond(&self, tx: TxId, response: Message) -> Result<(), Error> {
        self.run("respond", None, |ep, now| ep.respond(now, tx, response))
    }

    /// Cancels a client INVITE transaction ([`Endpoint::cancel`]).
    pub async fn cancel(&self, tx: TxId) -> Result<(), Error> {
        self.run("cancel", None, |ep, now| ep.cancel(now, tx))
    }

    /// Sends an ACK for a 2xx outside the call machinery ([`Endpoint::send_ack`]).
    pub async fn send_ack(&self, dest: Destination, ack: Message) -> Result<(), Error> {
        self.run("send_ack", None, |ep, now| ep.send_ack(now, dest, ack))
    }

    /// Shuts down gracefully: hangs up every live call, waits until no call and no pending
    /// transaction is left or `grace` has passed, then stops the driver (the sockets close
    /// when it is dropped). Returns once it has stopped.
    pub async fn shutdown(&self, grace: Duration) {
        lock(&self.shared).begin_shutdown(grace);
        self.closed().await;
    }

    /// Waits until the endpoint has stopped.
    pub async fn closed(&self) {
        futures_lite::future::poll_fn(|cx| {
            let mut s = lock(&self.shared);
            if s.finished {
                return Poll::Ready(());
            }
            s.finish_wakers.push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

/// The endpoint's events, in order. Ends (`None`) once the endpoint has stopped and every
/// event has been read. See the crate docs for what happens when it is not read.
pub struct Events {
    shared: Arc<Mutex<Shared>>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

impl Events {
    /// The next event; `None` once the endpoint has stopped.
    pub async fn next(&mut self) -> Option<Event> {
        futures_lite::future::poll_fn(|cx| self.poll_event(cx)).await
    }

    /// The next event if one is waiting.
    pub fn try_next(&mut self) -> Option<Event> {
        let mut s = lock(&self.shared);
        let e = s.events.pop_front();
        if e.is_some() && s.events.len() + 1 == s.capacity {
            s.wake_driver();
        }
        e
    }

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        let mut s = lock(&self.shared);
        if let Some(e) = s.events.pop_front() {
            // The driver stops reading the sockets while the queue is full: it may go on.
            if s.events.len() + 1 == s.capacity {
                s.wake_driver();
            }
            return Poll::Ready(Some(e));
        }
        if s.finished {
            return Poll::Ready(None);
        }
        s.event_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl futures_lite::Stream for Events {
    type Item = Event;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Event>> {
        self.get_mut().poll_event(cx)
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        let mut s = lock(&self.shared);
        s.events_open = false;
        s.events.clear();
        s.wake_driver();
    }
}
