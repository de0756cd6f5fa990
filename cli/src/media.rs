//! The SDP `sipxfer ua` offers and answers (it sends no media): one audio stream, PCMU and
//! PCMA, and an answer that picks from what the offer lists (RFC 3264 §6).

use bytes::Bytes;
use std::net::SocketAddr;

/// Our offer.
pub fn offer(user: &str, addr: SocketAddr) -> Bytes {
    sipxfer_driver::demo::sdp(user, addr)
}

/// An answer to `offer`: its first audio format we know (PCMU, PCMA; else its first), plus
/// telephone-event when offered, and the direction mirrored (RFC 3264 §6.1).
pub fn answer(offer: &[u8], user: &str, addr: SocketAddr) -> Bytes {
    let text = String::from_utf8_lossy(offer);
    let mut formats: Vec<&str> = Vec::new();
    let mut rtpmaps: Vec<(&str, &str)> = Vec::new();
    let mut direction = "sendrecv";
    for line in text.lines() {
        if let Some(m) = line.strip_prefix("m=audio ") {
            formats = m.split_whitespace().skip(2).collect();
        } else if let Some(map) = line.strip_prefix("a=rtpmap:") {
            if let Some((pt, enc)) = map.split_once(' ') {
                rtpmaps.push((pt, enc));
            }
        } else if let Some(d) = line.strip_prefix("a=") {
            direction = match d.trim() {
                "sendonly" => "recvonly",
                "recvonly" => "sendonly",
                "inactive" => "inactive",
                "sendrecv" => "sendrecv",
                _ => direction,
            };
        }
    }
    let codec = ["0", "8"]
        .into_iter()
        .find(|f| formats.contains(f))
        .or(formats.first().copied())
        .unwrap_or("0");
    let dtmf = rtpmaps
        .iter()
        .find(|(pt, enc)| {
            formats.contains(pt) && enc.to_ascii_lowercase().starts_with("telephone-event")
        })
        .copied();
    let (ip, family) = match addr.ip() {
        std::net::IpAddr::V4(a) => (a.to_string(), "IP4"),
        std::net::IpAddr::V6(a) => (a.to_string(), "IP6"),
    };
    let port = addr.port().wrapping_add(1000) & !1;
    let mut fmts = codec.to_string();
    let mut attrs = String::new();
    match rtpmaps.iter().find(|(pt, _)| *pt == codec) {
        Some((pt, enc)) => attrs.push_str(&format!("a=rtpmap:{pt} {enc}\r\n")),
        None if codec == "0" => attrs.push_str("a=rtpmap:0 PCMU/8000\r\n"),
        None if codec == "8" => attrs.push_str("a=rtpmap:8 PCMA/8000\r\n"),
        None => {}
    }
    if let Some((pt, enc)) = dtmf {
        fmts.push_str(&format!(" {pt}"));
        attrs.push_str(&format!("a=rtpmap:{pt} {enc}\r\n"));
    }
    Bytes::from(format!(
        "v=0\r\no={user} 1 1 IN {family} {ip}\r\ns=sipxfer\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP {fmts}\r\n{attrs}a={direction}\r\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_with_an_offered_codec_and_mirrors_direction() {
        let offer = b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
m=audio 4000 RTP/AVP 9 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n";
        let a = answer(offer, "bob", "127.0.0.1:5062".parse().unwrap());
        let a = std::str::from_utf8(&a).unwrap();
        assert!(a.contains("m=audio 6062 RTP/AVP 8 101\r\n"), "{a}");
        assert!(a.contains("a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"));
        assert!(a.ends_with("a=recvonly\r\n"));
    }
}
