//! One `tracing` span per call and per transfer: every event of a call or transfer is logged
//! inside its span, which ends when the call or transfer does.

use sipxfer::{CallId, CallState, Event, TransferId};
use std::collections::HashMap;
use std::net::SocketAddr;
use tracing::Span;

#[derive(Default)]
pub(crate) struct Spans {
    calls: HashMap<CallId, Span>,
    transfers: HashMap<TransferId, Span>,
}

impl Spans {
    pub(crate) fn call(&mut self, local: SocketAddr, call: CallId) -> &Span {
        self.calls.entry(call).or_insert_with(
            || tracing::info_span!(parent: None, "call", id = call.get(), local = %local),
        )
    }

    pub(crate) fn transfer(
        &mut self,
        local: SocketAddr,
        transfer: TransferId,
        call: Option<CallId>,
    ) -> &Span {
        self.transfers.entry(transfer).or_insert_with(|| {
            tracing::info_span!(parent: None, "transfer", id = transfer.get(), call = call.map(CallId::get), local = %local)
        })
    }

    /// Logs `e` in its span; ends spans whose call or transfer ended.
    pub(crate) fn record(&mut self, local: SocketAddr, e: &Event) {
        match e {
            Event::IncomingCall {
                call, referred_by, source, ..
            } => self.call(local, *call).in_scope(|| {
                tracing::info!(from = %source.remote, transferred = referred_by.is_some(), "incoming call")
            }),
            Event::CallState {
                call,
                state,
                status,
            } => {
                self.call(local, *call)
                    .in_scope(|| tracing::info!(?state, ?status, "call state"));
                if matches!(state, CallState::Terminated { .. }) {
                    self.calls.remove(call);
                }
            }
            Event::RemoteSdp {
                call,
                kind,
                status,
                sdp,
            } => self.call(local, *call).in_scope(|| {
                tracing::info!(?kind, ?status, bytes = sdp.len(), "remote sdp")
            }),
            Event::IncomingTransfer {
                transfer,
                call,
                target,
                replaces,
                ..
            } => self.transfer(local, *transfer, Some(*call)).in_scope(|| {
                tracing::info!(target = %target.uri, attended = replaces.is_some(), "incoming transfer")
            }),
            Event::TransferProgress {
                transfer, status, ..
            } => self
                .transfer(local, *transfer, None)
                .in_scope(|| tracing::info!(status, "transfer progress")),
            Event::TransferOutcome { transfer, outcome } => {
                self.transfer(local, *transfer, None)
                    .in_scope(|| tracing::info!(?outcome, "transfer outcome"));
                self.transfers.remove(transfer);
            }
            other => tracing::debug!(local = %local, event = event_name(other), "event"),
        }
    }
}

fn event_name(e: &Event) -> &'static str {
    match e {
        Event::Request { .. } => "request",
        Event::Ack { .. } => "ack",
        Event::Response { .. } => "response",
        Event::Timeout { .. } => "timeout",
        Event::InviteCancelled { .. } => "invite cancelled",
        Event::NoAck { .. } => "no ack",
        Event::AuthFailed { .. } => "auth failed",
        Event::Cancelled { .. } => "cancelled",
        _ => "other",
    }
}
