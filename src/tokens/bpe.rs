//! tiktoken's byte-pair merge over one pre-token, counting the tokens it ends with.
//!
//! A port of `_byte_pair_merge` (pieces under 100 bytes) and `_byte_pair_merge_large` (a heap, so
//! a long hostile piece costs O(n log n), not O(n²)) from tiktoken's `src/lib.rs`, with the same
//! tie-breaking, so the counts are tiktoken's.

use super::vocab::{Rank, Vocab};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// tiktoken switches to the heap from this piece length on.
const LARGE_PIECE: usize = 100;

/// Slots in each thread's cache of counted pieces (a power of two).
const CACHE_SLOTS: usize = 1 << 13;
/// Longest piece the cache keeps, in bytes; longer ones are rare and counted each time.
const CACHE_KEY: usize = 31;

/// One counted piece: its bytes and its token count (`len` 0: empty).
#[derive(Clone, Copy)]
struct Slot {
    len: u8,
    key: [u8; CACHE_KEY],
    count: u32,
}

thread_local! {
    /// Source code and prose repeat their words, identifiers and punctuation, so most pieces were
    /// counted before: a direct-mapped table of recent pieces saves their lookups and merges.
    /// It only ever holds exact counts, so it changes no result.
    static CACHE: std::cell::RefCell<Box<[Slot]>> = std::cell::RefCell::new(
        vec![Slot { len: 0, key: [0; CACHE_KEY], count: 0 }; CACHE_SLOTS].into_boxed_slice(),
    );
}

/// The number of o200k_base tokens `piece` encodes to.
pub(super) fn count_piece(vocab: &Vocab, piece: &[u8]) -> usize {
    if piece.len() < 2 || piece.len() > CACHE_KEY {
        return count_uncached(vocab, piece);
    }
    let index = slot_of(piece);
    let cached = CACHE.try_with(|cache| {
        let mut cache = cache.borrow_mut();
        let slot = &mut cache[index];
        if usize::from(slot.len) == piece.len() && &slot.key[..piece.len()] == piece {
            return slot.count as usize;
        }
        let count = count_uncached(vocab, piece);
        slot.len = piece.len() as u8;
        slot.key[..piece.len()].copy_from_slice(piece);
        slot.count = count as u32;
        count
    });
    cached.unwrap_or_else(|_| count_uncached(vocab, piece))
}

/// FNV-1a of the piece, folded to a slot.
fn slot_of(piece: &[u8]) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in piece {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    (hash ^ (hash >> 32)) as usize & (CACHE_SLOTS - 1)
}

fn count_uncached(vocab: &Vocab, piece: &[u8]) -> usize {
    match piece.len() {
        0 => 0,
        1 => 1,
        _ if vocab.rank(piece).is_some() => 1,
        n if n < LARGE_PIECE => merge_small(vocab, piece),
        _ => merge_large(vocab, piece),
    }
}

fn rank_of(vocab: &Vocab, bytes: &[u8]) -> Rank {
    vocab.rank(bytes).unwrap_or(Rank::MAX)
}

/// `_byte_pair_merge`: `parts` holds (start, rank of the pair starting there).
fn merge_small(vocab: &Vocab, piece: &[u8]) -> usize {
    let mut parts: Vec<(usize, Rank)> = Vec::with_capacity(piece.len() + 1);
    let mut min_rank = (Rank::MAX, usize::MAX);
    for i in 0..piece.len() - 1 {
        let rank = rank_of(vocab, &piece[i..i + 2]);
        if rank < min_rank.0 {
            min_rank = (rank, i);
        }
        parts.push((i, rank));
    }
    parts.push((piece.len() - 1, Rank::MAX));
    parts.push((piece.len(), Rank::MAX));

    let get_rank = |parts: &[(usize, Rank)], i: usize| {
        if i + 3 < parts.len() {
            rank_of(vocab, &piece[parts[i].0..parts[i + 3].0])
        } else {
            Rank::MAX
        }
    };
    while min_rank.0 != Rank::MAX {
        let i = min_rank.1;
        if i > 0 {
            parts[i - 1].1 = get_rank(&parts, i - 1);
        }
        parts[i].1 = get_rank(&parts, i);
        parts.remove(i + 1);
        min_rank = (Rank::MAX, usize::MAX);
        for (i, &(_, rank)) in parts[..parts.len() - 1].iter().enumerate() {
            if rank < min_rank.0 {
                min_rank = (rank, i);
            }
        }
    }
    parts.len() - 1
}

#[derive(Eq, PartialEq, Clone, Copy)]
struct Merge {
    start: usize,
    rank: Rank,
}

impl Ord for Merge {
    /// The heap's top is the lowest rank, then the leftmost start.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .rank
            .cmp(&self.rank)
            .then_with(|| other.start.cmp(&self.start))
    }
}

impl PartialOrd for Merge {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One part of the piece: it starts at its index and ends at `end`; `next_*` describe the merge
/// with the part that follows.
struct State {
    prev: usize,
    end: usize,
    next_end: usize,
    next_rank: Rank,
}

/// `_byte_pair_merge_large`.
fn merge_large(vocab: &Vocab, piece: &[u8]) -> usize {
    let mut state = Vec::with_capacity(piece.len());
    state.push(State {
        prev: usize::MAX,
        end: 1,
        next_end: 2,
        next_rank: Rank::MAX,
    });
    let mut heap = BinaryHeap::with_capacity(piece.len());
    for i in 0..piece.len() - 1 {
        if let Some(rank) = vocab.rank(&piece[i..i + 2]) {
            heap.push(Merge { start: i, rank });
            state[i].next_rank = rank;
        }
        state.push(State {
            prev: i,
            end: i + 2,
            next_end: i + 3,
            next_rank: Rank::MAX,
        });
    }
    let potential_merge =
        |state: &mut [State], heap: &mut BinaryHeap<Merge>, start: usize, next_end: usize| {
            state[start].next_end = next_end;
            state[start].next_rank = Rank::MAX;
            if next_end <= piece.len()
                && let Some(rank) = vocab.rank(&piece[start..next_end])
            {
                heap.push(Merge { start, rank });
                state[start].next_rank = rank;
            }
        };
    while let Some(left) = heap.pop() {
        if left.rank == Rank::MAX {
            break;
        }
        if left.rank != state[left.start].next_rank {
            continue; // invalidated by an earlier merge
        }
        let left_start = left.start;
        let right_start = state[left_start].end;
        let right_end = state[left_start].next_end;
        let right_next_end = state[right_start].next_end;
        state[left_start].end = right_end;
        potential_merge(&mut state, &mut heap, left_start, right_next_end);
        if right_end < state.len() {
            state[right_end].prev = left_start;
        }
        if left_start > 0 {
            let prev_start = state[left_start].prev;
            potential_merge(&mut state, &mut heap, prev_start, right_end);
        }
        state[right_start].next_rank = Rank::MAX;
    }
    let mut count = 0;
    let mut i = 0;
    while i < state.len() {
        count += 1;
        i = state[i].end;
    }
    count
}
