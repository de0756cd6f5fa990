//! # sipxfer — SIP call transfer, Sans-IO
//!
//! A `#![no_std]` + `alloc` SIP core: bytes, timer ticks and commands go in; datagrams,
//! deadlines and events come out. This release holds the message layer:
//!
//! - [`parse`]: framing + header index ([`parse::RawMessage`], [`parse::StreamDecoder`]) and
//!   the full typed parse ([`parse::parse_message`]), bounded by [`parse::Limits`];
//! - [`msg`]: the message model, typed headers, URIs, canonical emission and builders;
//! - [`text`]: the string storage that makes the model zero-copy.
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
#![forbid(unsafe_code)]

extern crate alloc;

pub mod config;
pub mod endpoint;
pub mod error;
pub mod msg;
pub mod parse;
pub mod rand;
pub mod text;
pub mod time;
pub mod transaction;
pub mod transport;

#[cfg(any(fuzzing, feature = "fuzzing"))]
pub mod fuzzing;

pub use config::Config;
pub use endpoint::{Endpoint, Event, Stats};
pub use error::Error;
pub use msg::Message;
pub use time::{Duration, Instant};
pub use transaction::{Timers, TxId};
pub use transport::{ConnId, Destination, Source, Transmit, Transport};
pub use parse::{Limits, ParseError};
pub use text::SipStr;
