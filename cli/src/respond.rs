//! `sipxfer check --respond`: what a real [`Endpoint`] answers to a message received as one
//! UDP datagram.

use bytes::Bytes;
use sipxfer::{Config, Endpoint, Event, Instant, Transport};

/// The application behind the checker has nobody to take a call: whatever the endpoint hands
/// it (INVITE, BYE, REFER, ...) it answers 480 Temporarily Unavailable (RFC 3261 §21.4.18).
pub const APPLICATION_ANSWER: u16 = 480;

/// The status code the endpoint sends for `bytes` (its final answer), or `drop`.
///
/// ```ignore
/// assert_eq!(respond(b"SIP/2.0 200 OK\r\n\r\n"), "drop");
/// ```
pub fn respond(bytes: &[u8]) -> String {
    let local = "127.0.0.1:5060".parse().expect("address");
    let remote = "127.0.0.2:5060".parse().expect("address");
    let mut ep = Endpoint::new(Config::new(local, [0; 32]), Instant::ZERO);
    ep.handle_datagram(
        Instant::ZERO,
        Transport::Udp,
        remote,
        local,
        Bytes::copy_from_slice(bytes),
    );
    while let Some(e) = ep.poll_event() {
        match e {
            Event::Request { tx, .. } => {
                if let Ok(r) = ep.response(tx, APPLICATION_ANSWER) {
                    let _ = ep.respond(Instant::ZERO, tx, r);
                }
            }
            Event::IncomingCall { call, .. } => {
                let _ = ep.reject(Instant::ZERO, call, APPLICATION_ANSWER);
            }
            _ => {}
        }
    }
    let mut first = None;
    while let Some(t) = ep.poll_transmit() {
        let line = t.bytes.split(|&c| c == b'\r').next().unwrap_or_default();
        let code = std::str::from_utf8(line)
            .ok()
            .and_then(|l| l.strip_prefix("SIP/2.0 "))
            .and_then(|l| l.get(..3))
            .map(str::to_string);
        if let Some(code) = code {
            if !code.starts_with('1') {
                return code;
            }
            first.get_or_insert(code);
        }
    }
    first.unwrap_or_else(|| "drop".into())
}

#[cfg(test)]
mod tests {
    use super::respond;

    #[test]
    fn answers() {
        assert_eq!(respond(b"SIP/2.0 200 OK\r\n\r\n"), "drop");
        assert_eq!(respond(b"garbage"), "drop");
        let options = b"OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.2;branch=z9hG4bK1\r\n\
            From: <sip:b@x>;tag=1\r\nTo: <sip:a@y>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n\r\n";
        assert_eq!(respond(options), "200");
        let invite = String::from_utf8_lossy(options).replace("OPTIONS", "INVITE");
        assert_eq!(respond(invite.as_bytes()), "480");
        let bad = String::from_utf8_lossy(options).replace("CSeq: 1 OPTIONS", "CSeq: x OPTIONS");
        assert_eq!(respond(bad.as_bytes()), "400");
    }
}
