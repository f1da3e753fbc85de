//! The wasm module's memory allocator: power-of-two size classes with free lists, carved from the
//! pages that `memory.grow` adds.
//!
//! The standard library's allocator on `wasm32-unknown-unknown` is dlmalloc: about 12 KB of the
//! module before gzip, 5 KB after (measured by swapping it out, `cargo xtask size`), which every
//! reader downloads. The widget needs far less: one thread, a working set of a few kilobytes
//! (the config, the record, the prompt's strings), and blocks that come back in the same sizes.
//! So each request is rounded up to a power of two, freed blocks wait on their size's list for the
//! next request of that size, and new blocks are cut from the end of memory. Blocks are never
//! merged or split once in use; what that costs in memory is in the README's "Speed" table
//! (wasm memory after a whole journey).
//!
//! Every block of `2^k` bytes starts at a multiple of `2^k`, so any alignment up to its size is
//! met. When the end of memory must move up to such a multiple, the gap is cut into smaller blocks
//! that go on their lists: nothing is lost to alignment.
//!
//! The bookkeeping is plain code over addresses, tested on the host against a simulated memory;
//! only the global allocator below touches the wasm instructions.

use core::ptr;

/// The unit in which wasm memory grows.
pub const PAGE: usize = 65_536;

/// The smallest block: room for the free list's link.
const MIN_SHIFT: u32 = 3;

/// One free list per power of two a `usize` can hold.
const CLASSES: usize = usize::BITS as usize;

/// The allocator's state: the head of each size's free list (0 when empty), and the part of
/// memory not yet cut into blocks, `top..end`.
pub struct Heap {
    free: [usize; CLASSES],
    top: usize,
    end: usize,
}

impl Default for Heap {
    fn default() -> Self {
        Heap::new()
    }
}

/// The power of two a request is rounded up to, as its exponent; `None` when none is large enough.
///
/// # Examples
///
/// ```
/// use meterwall::heap::class;
/// assert_eq!(class(1, 1), Some(3)); // at least 8 bytes, room for the free list's link
/// assert_eq!(class(24, 8), Some(5));
/// assert_eq!(class(8, 64), Some(6)); // alignment counts as size
/// assert_eq!(class(usize::MAX, 1), None);
/// ```
pub fn class(size: usize, align: usize) -> Option<u32> {
    let bytes = size.max(align).max(1 << MIN_SHIFT);
    bytes.checked_next_power_of_two().map(usize::trailing_zeros)
}

impl Heap {
    /// An empty heap: it owns no memory until its first allocation.
    pub const fn new() -> Heap {
        Heap {
            free: [0; CLASSES],
            top: 0,
            end: 0,
        }
    }

    /// A block of at least `size` bytes aligned to `align` (a power of two), or null when memory
    /// cannot grow. `grow(pages)` adds that many pages and returns the address where they start,
    /// or `None`.
    ///
    /// # Safety
    ///
    /// Every address this heap has been given by `grow`, and every block it returns, must be
    /// memory the caller may write, and no one else may write it while it is free.
    pub unsafe fn alloc(
        &mut self,
        size: usize,
        align: usize,
        mut grow: impl FnMut(usize) -> Option<usize>,
    ) -> *mut u8 {
        let Some(k) = class(size, align) else {
            return ptr::null_mut();
        };
        let head = self.free[k as usize];
        if head != 0 {
            // SAFETY: a free block holds the address of the next one in its first word.
            self.free[k as usize] = unsafe { (head as *const usize).read() };
            return head as *mut u8;
        }
        let bytes = 1usize << k;
        loop {
            let start = self.top.next_multiple_of(bytes);
            if start
                .checked_add(bytes)
                .is_some_and(|stop| stop <= self.end)
            {
                // SAFETY: top..start is memory we own and no block covers.
                unsafe { self.carve(self.top, start) };
                self.top = start + bytes;
                return start as *mut u8;
            }
            let pages = start
                .saturating_add(bytes)
                .saturating_sub(self.end)
                .div_ceil(PAGE);
            let Some(added) = grow(pages) else {
                return ptr::null_mut();
            };
            if added != self.end {
                // Someone else grew memory since we last did: keep what was left as free blocks
                // and continue from the new pages.
                // SAFETY: top..end is memory we own and no block covers.
                unsafe { self.carve(self.top, self.end) };
                self.top = added;
            }
            self.end = added + pages * PAGE;
        }
    }

    /// Gives a block back.
    ///
    /// # Safety
    ///
    /// `block` came from [`Heap::alloc`] (or [`Heap::realloc`]) of this heap with the same `size`
    /// and `align`, and is not used again.
    pub unsafe fn dealloc(&mut self, block: *mut u8, size: usize, align: usize) {
        if let Some(k) = class(size, align) {
            // SAFETY: as the caller promises, the block is ours and at least a word long.
            unsafe { self.push(k, block as usize) };
        }
    }

    /// The block grown or shrunk to `new_size`: the same block when its size class does not
    /// change, else a new one with the contents copied, or null (the old block then stays).
    ///
    /// # Safety
    ///
    /// As [`Heap::alloc`] and [`Heap::dealloc`], for `block` allocated with `size` and `align`.
    pub unsafe fn realloc(
        &mut self,
        block: *mut u8,
        size: usize,
        align: usize,
        new_size: usize,
        grow: impl FnMut(usize) -> Option<usize>,
    ) -> *mut u8 {
        if class(size, align) == class(new_size, align) {
            return block;
        }
        // SAFETY: forwarded from the caller.
        let moved = unsafe { self.alloc(new_size, align, grow) };
        if !moved.is_null() {
            // SAFETY: two distinct blocks, each at least as long as what is copied.
            unsafe {
                ptr::copy_nonoverlapping(block, moved, size.min(new_size));
                self.dealloc(block, size, align);
            }
        }
        moved
    }

    /// Puts `from..to` on the free lists as the largest aligned power-of-two blocks that tile it.
    ///
    /// # Safety
    ///
    /// `from..to` is memory the heap owns and no block covers; both are multiples of 8.
    unsafe fn carve(&mut self, mut from: usize, to: usize) {
        while from < to {
            let mut piece = 1usize << from.trailing_zeros();
            while from + piece > to {
                piece >>= 1;
            }
            // SAFETY: from..from + piece lies in from..to, at least 8 bytes.
            unsafe { self.push(piece.trailing_zeros(), from) };
            from += piece;
        }
    }

    /// # Safety
    ///
    /// `block` is a free block of `2^k` bytes the heap owns.
    unsafe fn push(&mut self, k: u32, block: usize) {
        // SAFETY: the block is at least a word long and aligned to one.
        unsafe { (block as *mut usize).write(self.free[k as usize]) };
        self.free[k as usize] = block;
    }
}

/// The module's global allocator. wasm32 without the `atomics` feature has a single thread, so
/// the heap needs no lock; a build with threads would not compile this in and would keep the
/// standard allocator.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
mod global {
    use super::{Heap, PAGE};
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;

    struct Global(UnsafeCell<Heap>);

    // SAFETY: there is one thread (see the `cfg` above), and no allocation happens inside another.
    unsafe impl Sync for Global {}

    fn grow(pages: usize) -> Option<usize> {
        let before = core::arch::wasm32::memory_grow(0, pages);
        (before != usize::MAX).then(|| before * PAGE)
    }

    // SAFETY: `Heap` returns blocks of at least the size and alignment asked for, disjoint while
    // in use, from memory that `memory.grow` gave it alone.
    unsafe impl GlobalAlloc for Global {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            unsafe { (*self.0.get()).alloc(layout.size(), layout.align(), grow) }
        }

        unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
            unsafe { (*self.0.get()).dealloc(block, layout.size(), layout.align()) }
        }

        unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            unsafe { (*self.0.get()).realloc(block, layout.size(), layout.align(), new_size, grow) }
        }
    }

    #[global_allocator]
    static GLOBAL: Global = Global(UnsafeCell::new(Heap::new()));
}

// On the host: proptest is a host-only dependency, and these tests bring their own memory.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::alloc::Layout;

    /// Simulated wasm memory: `pages` pages of real host memory, handed out from the start like
    /// `memory.grow`, optionally skipping pages to play another user of memory.
    struct Memory {
        base: *mut u8,
        pages: usize,
        used: usize,
    }

    impl Memory {
        fn new(pages: usize) -> Memory {
            let layout = Layout::from_size_align(pages * PAGE, PAGE).unwrap();
            // SAFETY: a non-zero size.
            let base = unsafe { std::alloc::alloc_zeroed(layout) };
            assert!(!base.is_null());
            Memory {
                base,
                pages,
                used: 0,
            }
        }

        fn grow(&mut self, pages: usize) -> Option<usize> {
            if self.used + pages > self.pages {
                return None;
            }
            let at = self.base as usize + self.used * PAGE;
            self.used += pages;
            Some(at)
        }

        fn contains(&self, block: usize, size: usize) -> bool {
            let base = self.base as usize;
            block >= base && block + size <= base + self.used * PAGE
        }
    }

    impl Drop for Memory {
        fn drop(&mut self) {
            let layout = Layout::from_size_align(self.pages * PAGE, PAGE).unwrap();
            // SAFETY: allocated in `new` with this layout.
            unsafe { std::alloc::dealloc(self.base, layout) };
        }
    }

    #[test]
    fn a_freed_block_is_given_to_the_next_request_of_its_size() {
        let mut memory = Memory::new(4);
        let mut heap = Heap::new();
        unsafe {
            let a = heap.alloc(20, 4, |n| memory.grow(n));
            let b = heap.alloc(30, 8, |n| memory.grow(n));
            assert_ne!(a, b);
            heap.dealloc(a, 20, 4);
            assert_eq!(
                heap.alloc(17, 1, |n| memory.grow(n)),
                a,
                "same class (32 bytes)"
            );
            assert_ne!(heap.alloc(17, 1, |n| memory.grow(n)), a);
        }
        assert_eq!(memory.used, 1, "small blocks share one page");
    }

    #[test]
    fn alignment_gaps_become_free_blocks_and_large_blocks_span_pages() {
        let mut memory = Memory::new(8);
        let mut heap = Heap::new();
        unsafe {
            let small = heap.alloc(8, 8, |n| memory.grow(n)) as usize;
            let big = heap.alloc(4096, 4096, |n| memory.grow(n)) as usize;
            assert_eq!(big % 4096, 0);
            // The gap between the small block and the page-aligned one was cut into 8, 16, 32, …
            // 2048 byte blocks: each next request of those sizes is served from it.
            for k in MIN_SHIFT..12 {
                let block = heap.alloc(1 << k, 1, |n| memory.grow(n)) as usize;
                assert!(block > small && block < big, "2^{k} from the gap");
            }
            let huge = heap.alloc(3 * PAGE, 16, |n| memory.grow(n)) as usize;
            assert_eq!(huge % (4 * PAGE), 0);
            assert!(memory.contains(huge, 3 * PAGE));
        }
    }

    #[test]
    fn realloc_keeps_the_block_within_its_class_and_moves_the_contents_otherwise() {
        let mut memory = Memory::new(4);
        let mut heap = Heap::new();
        unsafe {
            let a = heap.alloc(10, 1, |n| memory.grow(n));
            a.copy_from(b"0123456789".as_ptr(), 10);
            assert_eq!(heap.realloc(a, 10, 1, 16, |n| memory.grow(n)), a);
            let b = heap.realloc(a, 16, 1, 100, |n| memory.grow(n));
            assert_ne!(b, a);
            assert_eq!(std::slice::from_raw_parts(b, 10), b"0123456789");
            assert_eq!(
                heap.alloc(12, 1, |n| memory.grow(n)),
                a,
                "the old block is free"
            );
        }
    }

    #[test]
    fn memory_grown_by_someone_else_is_skipped_and_the_rest_kept() {
        let mut memory = Memory::new(8);
        let mut heap = Heap::new();
        unsafe {
            let a = heap.alloc(PAGE / 2, 1, |n| memory.grow(n)) as usize;
            memory.used += 1; // another user of memory.grow
            let b = heap.alloc(PAGE, 1, |n| memory.grow(n)) as usize;
            assert_eq!(b, memory.base as usize + 2 * PAGE);
            // The half page left after `a` went to the free lists.
            let c = heap.alloc(PAGE / 2, 1, |n| memory.grow(n)) as usize;
            assert_eq!(c, a + PAGE / 2);
        }
    }

    #[test]
    fn out_of_memory_is_null_and_harmless() {
        let mut memory = Memory::new(2);
        let mut heap = Heap::new();
        unsafe {
            assert!(heap.alloc(4 * PAGE, 1, |n| memory.grow(n)).is_null());
            assert!(heap.alloc(usize::MAX, 1, |n| memory.grow(n)).is_null());
            assert!(!heap.alloc(100, 1, |n| memory.grow(n)).is_null());
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        Alloc(usize, u32),
        Free(usize),
        Realloc(usize, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (prop_oneof![1usize..64, 1usize..5000, 1usize..150_000], 0u32..13)
                .prop_map(|(size, shift)| Op::Alloc(size, shift)),
            2 => any::<usize>().prop_map(Op::Free),
            2 => (any::<usize>(), 1usize..20_000).prop_map(|(i, size)| Op::Realloc(i, size)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Live blocks are aligned, inside memory, disjoint, and keep their contents across other
        /// requests and through realloc.
        #[test]
        fn blocks_are_aligned_disjoint_and_keep_their_contents(ops in proptest::collection::vec(op(), 1..200)) {
            let mut memory = Memory::new(256);
            let mut heap = Heap::new();
            // (address, size, align, fill byte)
            let mut live: Vec<(usize, usize, usize, u8)> = Vec::new();
            let check = |block: &(usize, usize, usize, u8)| {
                // SAFETY: a live block of this size.
                let bytes = unsafe { std::slice::from_raw_parts(block.0 as *const u8, block.1) };
                bytes.iter().all(|b| *b == block.3)
            };
            for (n, op) in ops.into_iter().enumerate() {
                let fill = n as u8;
                match op {
                    Op::Alloc(size, shift) => {
                        let align = 1usize << shift;
                        let block = unsafe { heap.alloc(size, align, |p| memory.grow(p)) } as usize;
                        prop_assert!(block != 0);
                        prop_assert_eq!(block % align, 0);
                        prop_assert!(memory.contains(block, size));
                        for other in &live {
                            prop_assert!(block + size <= other.0 || other.0 + other.1 <= block);
                        }
                        unsafe { (block as *mut u8).write_bytes(fill, size) };
                        live.push((block, size, align, fill));
                    }
                    Op::Free(i) if !live.is_empty() => {
                        let block = live.swap_remove(i % live.len());
                        prop_assert!(check(&block));
                        unsafe { heap.dealloc(block.0 as *mut u8, block.1, block.2) };
                    }
                    Op::Realloc(i, new_size) if !live.is_empty() => {
                        let i = i % live.len();
                        let (old, size, align, kept) = live[i];
                        let block = unsafe {
                            heap.realloc(old as *mut u8, size, align, new_size, |p| memory.grow(p))
                        } as usize;
                        prop_assert!(block != 0);
                        prop_assert_eq!(block % align, 0);
                        let moved = (block, size.min(new_size), align, kept);
                        prop_assert!(check(&moved), "contents survive realloc");
                        for (j, other) in live.iter().enumerate() {
                            if j != i {
                                prop_assert!(block + new_size <= other.0 || other.0 + other.1 <= block);
                            }
                        }
                        unsafe { (block as *mut u8).write_bytes(fill, new_size) };
                        live[i] = (block, new_size, align, fill);
                    }
                    _ => {}
                }
            }
            for block in &live {
                prop_assert!(check(block));
            }
        }
    }
}
