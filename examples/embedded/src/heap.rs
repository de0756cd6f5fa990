//! A fixed-size heap (embedded-alloc's linked-list allocator) that counts, per owner, the
//! bytes live and their peak. The run loop sets the owner (an endpoint, or 0 for the rest)
//! before it lets an endpoint run; each allocation records its owner in a small header, so a
//! buffer one endpoint allocated and another frees is still counted against the first.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};
use embedded_alloc::LlffHeap;

/// Owners: 0 (set-up and the run loop), 1..=3 (the endpoints).
pub const OWNERS: usize = 4;

pub struct Counting {
    heap: LlffHeap,
    owner: AtomicUsize,
    live: [AtomicUsize; OWNERS],
    peak: [AtomicUsize; OWNERS],
    total_peak: AtomicUsize,
}

impl Counting {
    pub const fn new() -> Self {
        Counting {
            heap: LlffHeap::empty(),
            owner: AtomicUsize::new(0),
            live: [const { AtomicUsize::new(0) }; OWNERS],
            peak: [const { AtomicUsize::new(0) }; OWNERS],
            total_peak: AtomicUsize::new(0),
        }
    }

    /// Hands the allocator its memory.
    ///
    /// # Safety
    /// Once, before any allocation, with memory nothing else uses.
    pub unsafe fn init(&self, start: usize, size: usize) {
        unsafe { self.heap.init(start, size) }
    }

    /// Who allocates from now on.
    pub fn set_owner(&self, owner: usize) {
        self.owner.store(owner.min(OWNERS - 1), Ordering::Relaxed);
    }

    /// The most `owner` ever held at once, in bytes (headers included).
    pub fn peak(&self, owner: usize) -> usize {
        self.peak[owner].load(Ordering::Relaxed)
    }

    /// What `owner` holds now.
    pub fn live(&self, owner: usize) -> usize {
        self.live[owner].load(Ordering::Relaxed)
    }

    /// The most the whole heap ever held at once.
    pub fn total_peak(&self) -> usize {
        self.total_peak.load(Ordering::Relaxed)
    }

    /// The allocation with room for the owner in front, and where the caller's part starts.
    fn with_header(layout: Layout) -> Option<(Layout, usize)> {
        Layout::new::<usize>().extend(layout).ok()
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some((full, offset)) = Self::with_header(layout) else {
            return core::ptr::null_mut();
        };
        let base = unsafe { self.heap.alloc(full) };
        if base.is_null() {
            return base;
        }
        let owner = self.owner.load(Ordering::Relaxed);
        unsafe { (base as *mut usize).write(owner) };
        let live = self.live[owner].fetch_add(full.size(), Ordering::Relaxed) + full.size();
        self.peak[owner].fetch_max(live, Ordering::Relaxed);
        let used = self.heap.used();
        self.total_peak.fetch_max(used, Ordering::Relaxed);
        unsafe { base.add(offset) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some((full, offset)) = Self::with_header(layout) else {
            return;
        };
        let base = unsafe { ptr.sub(offset) };
        let owner = unsafe { (base as *const usize).read() };
        self.live[owner.min(OWNERS - 1)].fetch_sub(full.size(), Ordering::Relaxed);
        unsafe { self.heap.dealloc(base, full) }
    }
}
