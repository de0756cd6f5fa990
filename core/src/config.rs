//! Everything an [`crate::Endpoint`] is configured with: timers, limits, identity, the seed.

use crate::msg::{MediaType, Method, Params};
use crate::parse::Limits;
use crate::text::SipStr;
use crate::transaction::Timers;
use alloc::vec;
use alloc::vec::Vec;
use core::net::SocketAddr;

/// Endpoint configuration. Build it with [`Config::new`] and adjust the public fields.
///
/// ```
/// use sipxfer::Config;
/// let mut config = Config::new("192.0.2.10:5060".parse().unwrap(), [7; 32]);
/// config.timers.t1 = core::time::Duration::from_millis(250);
/// config.max_transactions = 10_000;
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// T1, T2, T4 and the derived timers (RFC 3261 §17, Table 4).
    pub timers: Timers,
    /// Parser limits, applied to every received message.
    pub limits: Limits,
    /// Most live transactions. At the limit a server transaction that only lingers to absorb
    /// retransmissions (Completed, Confirmed) is ended early to make room (RFC 3261 §8.2.7:
    /// a retransmission then gets its answer again, as from a stateless UAS); with none to
    /// end, a new request is answered 503 statelessly and a new client request is refused
    /// with [`crate::Error::TooManyTransactions`]. Each transaction holds its request and
    /// last response: budget ~4 KiB apiece.
    pub max_transactions: usize,
    /// Most live calls (dialogs); a new INVITE over the limit gets 503, a new call is refused
    /// with [`crate::Error::TooManyDialogs`].
    pub max_dialogs: usize,
    /// Most live incoming calls from one remote IP address; a new INVITE over the limit gets
    /// 486 Busy Here.
    pub max_calls_per_remote: usize,
    /// Largest request body accepted; a larger one gets 413 Request Entity Too Large
    /// (RFC 3261 §21.4.11).
    pub max_body_size: usize,
    /// Most open stream connections the endpoint tracks; more are closed at once.
    pub max_connections: usize,
    /// The address this endpoint puts in its Via `sent-by` (and later Contact).
    pub local_addr: SocketAddr,
    /// 32 bytes of seed for branch ids, tags and Call-IDs (RFC 3261 §19.3). Runtimes take it
    /// from the operating system; tests fix it for reproducible runs.
    pub seed: [u8; 32],
    /// Methods the endpoint handles, sent in `Allow` (§20.5). Other known methods get 405,
    /// unknown ones 501 (§8.2.1).
    pub allow: Vec<Method<SipStr>>,
    /// Option tags the endpoint supports (§8.2.2.3), sent in `Supported`: a `Require` naming
    /// another gets 420. Default: `replaces` (RFC 3891: INVITEs that replace a dialog),
    /// `norefersub` (RFC 4488: REFER without a subscription), `tdialog` (RFC 4538: requests
    /// that name a dialog with `Target-Dialog`).
    pub supported: Vec<SipStr>,
    /// Body types the endpoint understands (§8.2.3): another gets 415, sent in `Accept`.
    pub accept: Vec<MediaType<SipStr>>,
    /// The outbound proxy (RFC 3261 §8.1.2): where a new call's INVITE goes (its
    /// Request-URI still the target) when [`crate::CallOptions::dest`] does not say, including
    /// the call a transferee places to the transfer target. `None`: the target URI's own
    /// address. In-dialog requests follow the dialog's route set either way.
    pub outbound_proxy: Option<crate::transport::Destination>,
    /// `User-Agent` / `Server` value, if any.
    pub user_agent: Option<SipStr>,
    /// How long a transferor waits for the final NOTIFY of a transfer before reporting
    /// it timed out (and taking the call back).
    pub transfer_timeout: core::time::Duration,
    /// How long a transferee waits, after a successful transfer, for the transferor's BYE
    /// before it ends the original call itself (RFC 5589 §6 allows both).
    pub transfer_bye_grace: core::time::Duration,
    /// Seconds a refer subscription lasts: the `expires` of the subscriptions we serve (and
    /// the most a refresh gets, RFC 6665 §4.2.1.2), and the `Expires` our refreshes ask for
    /// (RFC 3515 §2.4.4, RFC 6665 §4.1.2.2). Default 600, as pjsip's `PJSIP_XFER_EXPIRES`:
    /// a transfer ends long before (the call to the target gives up ringing after Timer C's
    /// three minutes, the transferor waits [`Config::transfer_timeout`]), so the transferor
    /// never has to refresh; with 60 it refreshed halfway, and each refresh is four more
    /// datagrams and four transactions left lingering 5 to 32 s at the two ends (RFC 3261
    /// §17: Timers J and K).
    pub refer_expires: u32,
    /// Accept every incoming transfer without asking the application.
    pub auto_accept_transfers: bool,
    /// A REFER outside any dialog and without `Target-Dialog` (RFC 4538) goes to the
    /// application as [`crate::Event::Request`] when set; otherwise it is refused 403 (RFC
    /// 3515 §2.4.2: the recipient decides whether to accept a REFER).
    pub refer_outside_dialog: bool,
    /// Most live transfers per call; one more REFER gets 503.
    pub max_transfers_per_dialog: usize,
    /// Bytes of the blocks that the messages a transaction repeats until it ends are cut
    /// from: a server transaction's final response (kept 64·T1 = 32 s on UDP by a non-INVITE
    /// transaction, Timer J, or until Timer H/I for an INVITE's non-2xx, RFC 3261 §17.2) and
    /// the ACK of a non-2xx final (Timer D, §17.1.1.2). Such a message has two owners — its
    /// transaction and the runtime that sends it — so in a buffer of its own it costs two
    /// allocations (the buffer, then its reference count); cut from a shared block, none
    /// while the block has room. A block is freed with the last message cut from it, so
    /// messages of like lifetimes share blocks: requests (a client transaction keeps its
    /// bytes until its answer, a round trip or at most 64·T1 unanswered, to send them again;
    /// an INVITE that gets a provisional response, and may then ring for minutes, moves its
    /// bytes to a buffer of their own) and stateless answers are cut from blocks of their
    /// own, reclaimed in place once what was cut from them is sent and answered, and so is
    /// a 2xx to an INVITE, which the call repeats until its ACK (a round trip, 64·T1 at
    /// most, §13.3.1.4); a provisional response (kept until the final one: minutes, for a
    /// ringing call) and the ACK of a 2xx (kept 64·T1 at most, but no longer than its call:
    /// a short call frees it early) get buffers of their own, as does a message over half a
    /// block. Default 8 KiB; 0: every
    /// message in a buffer of its own (the least memory, for a microcontroller's heap).
    pub send_block: usize,
    /// How many header lists of finished messages the endpoint keeps for the next ones (see
    /// `msg::pool`): every parsed or built message owns a list of its headers (3–4 KB for a
    /// dozen), most live for one input, and a list given back is the next message's, with
    /// no allocation. At most this many lists of at most 32 headers (9.5 KB each) are kept.
    /// Default 16; 0: every message allocates its own list.
    pub header_lists: usize,
    /// The largest request sent over UDP. RFC 3261 §18.1.1: "If a request is within 200
    /// bytes of the path MTU, or if it is larger than 1300 bytes and the path MTU is unknown,
    /// the request MUST be sent using an RFC 2914 congestion controlled transport protocol,
    /// such as TCP. If this causes a change in the transport protocol from the one indicated
    /// in the top Via, the value in the top Via MUST be changed." A larger request bound
    /// for UDP (an INVITE with many codecs or ICE candidates in its SDP, a request that grew
    /// credentials) goes over TCP to the same address and port — where §18.2.1 has every
    /// server listen — its top Via saying `SIP/2.0/TCP`; its CANCEL, or the ACK of its
    /// non-2xx final, goes the same way (§9.1, §17.1.1.3). That request only, as pjsip
    /// does: its Contact is unchanged, and the next request goes by the transport its
    /// destination names — UDP unless it too is larger, or the peer's Contact asks for TCP
    /// (a peer that received a request over TCP may answer with such a Contact, and the
    /// dialog's requests then follow it). If the runtime cannot open the connection
    /// ([`crate::Endpoint::handle_unreachable`]: refused, or not opened within the driver's
    /// connect timeout), or the connection closes before any answer
    /// ([`crate::Endpoint::handle_connection_closed`]), the request goes over UDP after all,
    /// in the same transaction ("the
    /// element SHOULD retry the request, using UDP"); a retry after a challenge starts from
    /// UDP again. An ACK ([`crate::Endpoint::send_ack`]) is not a transaction and has no such
    /// fallback. Default `Some(1300)`, the path MTU being unknown
    /// (with a known path MTU: 200 bytes less than it). `None`: every request goes by the
    /// transport its destination names, whatever its size — for a host without TCP, such
    /// as a microcontroller with a UDP stack only.
    pub udp_request_limit: Option<usize>,
    /// Digest credentials (RFC 3261 §22, RFC 8760) for the requests the endpoint sends on
    /// its own behalf: the first whose realm matches the challenge (or has none) is used.
    pub credentials: Vec<crate::auth::Credentials>,
    /// Most INVITEs a call we place sends to the targets 3xx responses name (RFC 3261
    /// §8.1.3.4: "clients SHOULD use the URI(s) in the Contact header field to formulate one
    /// or more new requests based on the redirected request"), the transferee's call to the
    /// transfer target included. A 300, 301 or 302 puts its Contacts in the call's target
    /// set (no URI twice, highest `q` first, at most eight); the next one is tried in a new
    /// INVITE, and a failure there (a final response from 400 to 599, none, or an unreachable
    /// target; a 6xx ends the call, §21.6) moves on to the next, until the set or this budget
    /// runs out ([`crate::Event::CallRedirected`] reports each). The new INVITE goes where
    /// its URI points, or through the same outbound proxy or [`crate::CallOptions::dest`]
    /// when the call's went that way. Default 3; 0: a 3xx ends the call
    /// ([`crate::EndReason::Rejected`]), as it does without the crate's `redirects` feature
    /// (on by default: ~3 KB of flash).
    pub max_redirects: u8,
}

impl Config {
    /// Defaults (T1 500 ms, T2 4 s, T4 5 s; 4096 transactions; the methods, option tags and
    /// body types the library implements) for an endpoint reachable at `local_addr`.
    pub fn new(local_addr: SocketAddr, seed: [u8; 32]) -> Self {
        let media = |ty: &'static str, sub: &'static str| MediaType {
            ty: SipStr::from_static(ty),
            subtype: SipStr::from_static(sub),
            params: Params::default(),
        };
        Config {
            timers: Timers::default(),
            limits: Limits::default(),
            max_transactions: 4096,
            max_connections: 1024,
            max_dialogs: 1024,
            max_calls_per_remote: 256,
            max_body_size: 16 * 1024,
            local_addr,
            seed,
            allow: vec![
                Method::Invite,
                Method::Ack,
                Method::Cancel,
                Method::Bye,
                Method::Options,
                Method::Refer,
                Method::Notify,
                Method::Subscribe,
            ],
            supported: vec![
                SipStr::from_static("replaces"),
                SipStr::from_static("norefersub"),
                SipStr::from_static("tdialog"),
            ],
            accept: vec![media("application", "sdp"), media("message", "sipfrag")],
            user_agent: None,
            outbound_proxy: None,
            udp_request_limit: Some(1300),
            credentials: Vec::new(),
            max_redirects: 3,
            transfer_timeout: core::time::Duration::from_secs(120),
            transfer_bye_grace: core::time::Duration::from_secs(2),
            refer_expires: 600,
            auto_accept_transfers: false,
            refer_outside_dialog: false,
            max_transfers_per_dialog: 8,
            send_block: 8 * 1024,
            header_lists: 16,
        }
    }
}
