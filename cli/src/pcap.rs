//! `--pcap FILE`: every SIP message sent and received, written as a pcap file (link type
//! RAW, 101) with synthesized IPv4/IPv6 and UDP or TCP headers, checksums included, so that
//! Wireshark and tshark decode it as SIP. TCP segments carry consistent sequence and
//! acknowledgement numbers per direction (no handshake: the capture starts mid-stream).

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use sipxfer::Transport;
use sipxfer_driver::{Captured, Direction};
use std::collections::HashMap;
use std::fs::File;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

/// A pcap file being written; `record` is the driver's tap.
pub struct Pcap {
    inner: Mutex<Inner>,
}

struct Inner {
    /// Unbuffered: each packet reaches the file as it is written, so an interrupted run
    /// leaves a valid capture.
    writer: PcapWriter<File>,
    /// Next sequence number per (source, destination).
    seq: HashMap<(SocketAddr, SocketAddr), u32>,
}

impl Pcap {
    /// Creates (truncates) `path`.
    pub fn create(path: &str) -> std::io::Result<Pcap> {
        let file = File::create(path)?;
        let header = PcapHeader {
            datalink: DataLink::RAW,
            ..Default::default()
        };
        let writer = PcapWriter::with_header(file, header)
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Pcap {
            inner: Mutex::new(Inner {
                writer,
                seq: HashMap::new(),
            }),
        })
    }

    /// Writes one captured message.
    pub fn record(&self, c: &Captured) {
        let (src, dst) = match c.direction {
            Direction::Sent => (c.local, c.remote),
            Direction::Received => (c.remote, c.local),
        };
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let packet = match c.transport {
            Transport::Tcp => {
                let seq = *inner.seq.entry((src, dst)).or_insert(1);
                let ack = *inner.seq.entry((dst, src)).or_insert(1);
                inner
                    .seq
                    .insert((src, dst), seq.wrapping_add(c.bytes.len() as u32));
                packet(src, dst, Proto::Tcp { seq, ack }, &c.bytes)
            }
            _ => packet(src, dst, Proto::Udp, &c.bytes),
        };
        let Some(packet) = packet else {
            return;
        };
        let ts =
            c.at.duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
        let p = PcapPacket::new(ts, packet.len() as u32, &packet);
        if let Err(e) = inner.writer.write_packet(&p) {
            tracing::warn!(error = %e, "pcap write failed");
        }
    }
}

#[derive(Clone, Copy)]
enum Proto {
    Udp,
    Tcp { seq: u32, ack: u32 },
}

/// An IP packet carrying `payload` from `src` to `dst`; `None` if too large for one.
fn packet(src: SocketAddr, dst: SocketAddr, proto: Proto, payload: &[u8]) -> Option<Vec<u8>> {
    let mut l4 = Vec::with_capacity(20 + payload.len());
    l4.extend_from_slice(&src.port().to_be_bytes());
    l4.extend_from_slice(&dst.port().to_be_bytes());
    let number = match proto {
        Proto::Udp => {
            let len = u16::try_from(8 + payload.len()).ok()?;
            l4.extend_from_slice(&len.to_be_bytes());
            l4.extend_from_slice(&[0, 0]); // checksum, filled below
            17
        }
        Proto::Tcp { seq, ack } => {
            l4.extend_from_slice(&seq.to_be_bytes());
            l4.extend_from_slice(&ack.to_be_bytes());
            l4.extend_from_slice(&[5 << 4, 0x18]); // 20-byte header; PSH, ACK
            l4.extend_from_slice(&65535u16.to_be_bytes()); // window
            l4.extend_from_slice(&[0, 0, 0, 0]); // checksum (filled below), urgent pointer
            6
        }
    };
    l4.extend_from_slice(payload);
    let check_at = if number == 17 { 6 } else { 16 };
    let l4_len = u32::try_from(l4.len()).ok()?;
    // The pseudo-header of RFC 768 / RFC 793 (IPv4) or RFC 8200 §8.1 (IPv6).
    let mut pseudo = Vec::with_capacity(40);
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            pseudo.extend_from_slice(&s.octets());
            pseudo.extend_from_slice(&d.octets());
            pseudo.extend_from_slice(&[0, number]);
            pseudo.extend_from_slice(&u16::try_from(l4_len).ok()?.to_be_bytes());
        }
        _ => {
            pseudo.extend_from_slice(&v6(src.ip()).octets());
            pseudo.extend_from_slice(&v6(dst.ip()).octets());
            pseudo.extend_from_slice(&l4_len.to_be_bytes());
            pseudo.extend_from_slice(&[0, 0, 0, number]);
        }
    }
    let mut sum = checksum(&[&pseudo, &l4]);
    if sum == 0 && number == 17 {
        sum = 0xffff;
    }
    l4[check_at..check_at + 2].copy_from_slice(&sum.to_be_bytes());

    let mut ip = Vec::with_capacity(40 + l4.len());
    match (src.ip(), dst.ip()) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = u16::try_from(20 + l4.len()).ok()?;
            ip.extend_from_slice(&[0x45, 0]);
            ip.extend_from_slice(&total.to_be_bytes());
            ip.extend_from_slice(&[0, 0, 0x40, 0]); // id, don't fragment
            ip.extend_from_slice(&[64, number, 0, 0]); // TTL, protocol, checksum
            ip.extend_from_slice(&s.octets());
            ip.extend_from_slice(&d.octets());
            let sum = checksum(&[&ip]);
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
        }
        _ => {
            let len = u16::try_from(l4.len()).ok()?;
            ip.extend_from_slice(&[0x60, 0, 0, 0]);
            ip.extend_from_slice(&len.to_be_bytes());
            ip.extend_from_slice(&[number, 64]);
            ip.extend_from_slice(&v6(src.ip()).octets());
            ip.extend_from_slice(&v6(dst.ip()).octets());
        }
    }
    ip.extend_from_slice(&l4);
    Some(ip)
}

fn v6(ip: IpAddr) -> std::net::Ipv6Addr {
    match ip {
        IpAddr::V4(a) => a.to_ipv6_mapped(),
        IpAddr::V6(a) => a,
    }
}

/// The Internet checksum (RFC 1071) over the concatenated parts.
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for part in parts {
        for &b in *part {
            match odd.take() {
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_checksum_verifies() {
        let p = packet(
            "127.0.0.1:5060".parse().unwrap(),
            "127.0.0.1:5070".parse().unwrap(),
            Proto::Udp,
            b"OPTIONS sip:a@b SIP/2.0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(
            checksum(&[&p[..20]]),
            0,
            "IP header sums to zero with its checksum"
        );
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&p[12..20]);
        pseudo.extend_from_slice(&[0, 17]);
        pseudo.extend_from_slice(&((p.len() - 20) as u16).to_be_bytes());
        assert_eq!(checksum(&[&pseudo, &p[20..]]), 0, "UDP checksum verifies");
    }
}
