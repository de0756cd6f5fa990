//! # sipxfer — SIP call transfer, Sans-IO
//!
//! A `#![no_std]` + `alloc` SIP core: bytes, timer ticks and commands go in; datagrams,
//! deadlines and events come out. No sockets, no clock, no threads, no randomness of its own:
//! time, bytes and a 32-byte seed are given to it.
//!
//! - [`Endpoint`]: the one entry point of the state machines. Inputs (`handle_datagram`,
//!   `handle_stream_bytes`, `handle_connection_*`, `handle_unreachable`, `handle_timeout`),
//!   commands (`send_request`, `respond`, `cancel`, ...), outputs (`poll_transmit`,
//!   `poll_event`, `poll_timeout`) and [`Endpoint::stats`].
//! - [`transaction`]: RFC 3261 §17 client and server transactions with RFC 6026's Accepted
//!   state; [`time`], [`rand`], [`config`], [`transport`], [`error`].
//! - [`parse`]: framing + header index ([`parse::RawMessage`], [`parse::StreamDecoder`]) and
//!   the full typed parse ([`parse::parse_message`]), bounded by [`parse::Limits`];
//! - [`msg`]: the message model, typed headers (each parsed field with the line it came in
//!   while unchanged, [`msg::Headers`]), URIs, emission and builders;
//!   [`msg::Received`] keeps a datagram and its zero-copy view together as one owned value;
//! - [`text`]: the string storage that makes the model zero-copy.
//!
//! ## The run loop
//!
//! Invariants:
//! - After any input or command, drain [`Endpoint::poll_transmit`] and
//!   [`Endpoint::poll_event`] until `None`, then sleep until [`Endpoint::poll_timeout`] and
//!   call [`Endpoint::handle_timeout`]. The core never reads a clock; time moves only when the
//!   caller says so and must not go backwards (an earlier `now` counts as the latest seen).
//! - Bad input is never a panic and never an `Err`: a malformed request gets its 4xx/5xx, a
//!   malformed response is dropped, both are counted in [`Stats`].
//! - Every transaction ends; when the last timer has fired the endpoint is empty again.
//! - Same seed and same inputs give byte-identical outputs.
//!
//! ```
//! use sipxfer::msg::{builder::RequestBuilder, Method, NameAddr, Uri};
//! use sipxfer::{Config, Destination, Endpoint, Event, Instant};
//!
//! let (alice, bob) = ("192.0.2.1:5060".parse().unwrap(), "192.0.2.2:5060".parse().unwrap());
//! let mut a = Endpoint::new(Config::new(alice, [1; 32]), Instant::ZERO);
//! let mut b = Endpoint::new(Config::new(bob, [2; 32]), Instant::ZERO);
//!
//! // A command: send a request in a client transaction (the endpoint adds Via and branch).
//! let to = Uri::parse("sip:bob@192.0.2.2").unwrap();
//! let options = RequestBuilder::new(Method::Options, to.clone())
//!     .from(NameAddr::new(Uri::parse("sip:alice@192.0.2.1").unwrap()), "a1")
//!     .to(NameAddr::new(to))
//!     .call_id("run-loop-1")
//!     .cseq(1)
//!     .build();
//! let mut now = Instant::ZERO;
//! let tx = a.send_request(now, Destination::udp(bob), options).unwrap();
//!
//! // The run loop, here with a perfect network between two endpoints in one thread. A runtime
//! // does the same with sockets: after every input or command, drain poll_transmit and
//! // poll_event until None, then sleep until poll_timeout (or until a packet arrives).
//! let mut answer = None;
//! for _ in 0..10 {
//!     while let Some(t) = a.poll_transmit() {
//!         b.handle_datagram(now, t.transport, alice, t.to, t.bytes);
//!     }
//!     while let Some(t) = b.poll_transmit() {
//!         a.handle_datagram(now, t.transport, bob, t.to, t.bytes);
//!     }
//!     while let Some(e) = a.poll_event() {
//!         if let Event::Response { tx: id, response } = e {
//!             assert_eq!(id, tx);
//!             answer = response.status();
//!         }
//!     }
//!     // Time only moves when the caller says so: jump to the earliest deadline.
//!     match [a.poll_timeout(), b.poll_timeout()].into_iter().flatten().min() {
//!         Some(deadline) => {
//!             now = deadline;
//!             a.handle_timeout(now);
//!             b.handle_timeout(now);
//!         }
//!         None => break,
//!     }
//! }
//! assert_eq!(answer, Some(200)); // OPTIONS is answered by the endpoint itself (RFC 3261 §11.2)
//! assert_eq!(a.stats().transactions + b.stats().transactions, 0); // Timers K and J have run out
//! ```
//!
//! ## Parsing
//!
//! ```
//! use sipxfer::msg::Message;
//! use sipxfer::parse::Limits;
//!
//! let wire = bytes::Bytes::from_static(b"REFER sip:bob@192.0.2.4 SIP/2.0\r\n\
//! Via: SIP/2.0/UDP alice.example.com;branch=z9hG4bKnashds9\r\n\
//! From: <sip:alice@example.com>;tag=1928301774\r\nTo: <sip:bob@example.com>;tag=a6c85cf\r\n\
//! Call-ID: a84b4c76e66710\r\nCSeq: 314160 REFER\r\nMax-Forwards: 70\r\n\
//! Refer-To: <sip:carol@example.com?Replaces=425928%40bobster.example.org%3Bto-tag%3D7743%3Bfrom-tag%3D6472>\r\n\
//! Referred-By: <sip:alice@example.com>\r\nContent-Length: 0\r\n\r\n");
//! let refer = Message::parse(wire, &Limits::default()).unwrap();
//! let replaces = refer.refer_to().unwrap().embedded_replaces().unwrap().unwrap();
//! assert_eq!(&*replaces.call_id, "425928@bobster.example.org");
//! assert_eq!((replaces.to_tag(), replaces.from_tag()), ("7743", "6472"));
//! ```
#![no_std]
#![deny(missing_docs)]
// One audited exception: `text::SipStr::as_str` (UTF-8 checked once, at construction).
#![deny(unsafe_code)]

extern crate alloc;

pub mod auth;
pub mod config;
pub mod dialog;
pub mod endpoint;
pub mod error;
mod hashed;
pub mod msg;
pub mod parse;
pub mod rand;
pub mod sdp;
mod slab;
mod slots;
pub mod subscription;
pub mod text;
pub mod time;
pub mod transaction;
pub mod transport;

#[cfg(any(fuzzing, feature = "fuzzing"))]
pub mod fuzzing;

pub use config::Config;
pub use endpoint::{
    AttendedOptions, BlindOptions, ByeBy, CallId, CallOptions, CallState, EndReason, Endpoint,
    Event, SdpKind, Stats, Transfer, TransferId, TransferOutcome,
};
pub use error::Error;
pub use msg::Message;
pub use parse::{Limits, ParseError};
pub use text::SipStr;
pub use time::{Duration, Instant};
pub use transaction::{Timers, TxId};
pub use transport::{ConnId, Destination, Source, Transmit, Transport};
