//! A received datagram as the driver hands it to the endpoint.
//!
//! The endpoint keeps counted handles on a datagram it parsed (the strings of the message
//! share its buffer, and a transaction or the application may keep the message), so the
//! first thing it does with the [`Bytes`] is clone it. A `Bytes` made from a copied slice or
//! a `Vec` (`Bytes::copy_from_slice`, `Bytes::from(Vec<u8>)`) has no reference count yet:
//! `bytes` allocates one at the first clone, so such a datagram costs two allocations. A
//! datagram up to [`LARGEST_CLASS`] bytes is copied here into a buffer of a size class with
//! its count beside it ([`Bytes::from_owner`]): one allocation, and cloning it only counts.
//! A larger one (a big SDP body, a TCP-sized message over UDP) takes the general way.

use bytes::Bytes;

/// The largest size class; above it a datagram is copied to a buffer of its exact size.
/// 2 048 bytes holds any datagram that fits an Ethernet frame, and a class as large only
/// wastes memory on datagrams that an application keeps (a ringing INVITE).
pub const LARGEST_CLASS: usize = 2048;

/// `len` bytes at the start of an array of `N`.
struct Class<const N: usize> {
    len: usize,
    buf: [u8; N],
}

impl<const N: usize> AsRef<[u8]> for Class<N> {
    fn as_ref(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

fn in_class<const N: usize>(b: &[u8]) -> Bytes {
    let mut c = Class {
        len: b.len(),
        buf: [0; N],
    };
    c.buf[..b.len()].copy_from_slice(b);
    Bytes::from_owner(c)
}

/// A copy of `b` in a [`Bytes`] that clones without allocating: one allocation in all for a
/// datagram up to [`LARGEST_CLASS`] bytes (its size rounded up to 512, 1 024, 1 536 or
/// 2 048), two for a larger one.
///
/// ```
/// let b = sipxfer_driver::datagram::copy(b"OPTIONS sip:b@example.com SIP/2.0\r\n");
/// let c = b.clone();
/// assert_eq!(c, b"OPTIONS sip:b@example.com SIP/2.0\r\n"[..]);
/// ```
pub fn copy(b: &[u8]) -> Bytes {
    match b.len() {
        0..=512 => in_class::<512>(b),
        513..=1024 => in_class::<1024>(b),
        1025..=1536 => in_class::<1536>(b),
        1537..=LARGEST_CLASS => in_class::<LARGEST_CLASS>(b),
        _ => Bytes::copy_from_slice(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    /// Counts this thread's allocations (the other tests of the binary run on theirs).
    struct Counting;

    thread_local! {
        static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    }

    // SAFETY: forwards to the system allocator.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            ALLOCATIONS.with(|c| c.set(c.get() + 1));
            // SAFETY: the caller's contract, passed on.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: the caller's contract, passed on.
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    #[global_allocator]
    static A: Counting = Counting;

    fn allocations() -> usize {
        ALLOCATIONS.with(Cell::get)
    }

    #[test]
    fn a_datagram_in_a_class_costs_one_allocation_and_clones_free() {
        for len in [300, 700, 1400, 2048] {
            let src = vec![b'x'; len];
            let a0 = allocations();
            let b = copy(&src);
            let c = b.clone();
            let d = c.slice(10..20).clone();
            assert_eq!(allocations() - a0, 1, "{len} bytes");
            drop((b, c, d));
        }
        // The general way, for comparison: the copy, then the count at the first clone.
        let src = vec![b'x'; 3000];
        let a0 = allocations();
        let b = copy(&src);
        let _c = b.clone();
        assert_eq!(allocations() - a0, 2);
    }

    #[test]
    fn every_class_edge_copies_the_bytes_exactly() {
        for len in [
            0, 1, 511, 512, 513, 1024, 1025, 1536, 1537, 2048, 2049, 9000,
        ] {
            let src: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let b = copy(&src);
            assert_eq!(&b[..], &src[..], "{len} bytes");
            let c = b.slice(len / 3..len - len / 4);
            drop(b);
            assert_eq!(&c[..], &src[len / 3..len - len / 4], "{len} bytes, a slice");
        }
    }
}
