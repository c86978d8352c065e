//! The o200k_base vocabulary as one embedded table: its byte strings sorted bytewise, each with its
//! rank, binary-searched in place (no map is built; only the pages a lookup touches are read).
//!
//! Layout, all integers `u32` little-endian: [`MAGIC`], `n`, 257 first-byte bounds (`bounds[b]` is
//! the index of the first token whose first byte is `b` or more), `n + 1` offsets into the byte
//! area, `n` ranks, then the token bytes, concatenated in sorted order.

use std::cmp::Ordering;
use std::fmt;

/// A BPE rank: a token's id, and its merge priority (lower merges first).
pub(super) type Rank = u32;

/// Marks a table in this layout.
pub(super) const MAGIC: u32 = 0x6B30_3032;
const BOUNDS: usize = 257;
const HEADER: usize = 2;

#[derive(Clone, Copy)]
pub(super) struct Vocab {
    bounds: &'static [[u8; 4]],
    offsets: &'static [[u8; 4]],
    ranks: &'static [[u8; 4]],
    bytes: &'static [u8],
}

impl fmt::Debug for Vocab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vocab")
            .field("tokens", &self.ranks.len())
            .finish_non_exhaustive()
    }
}

impl Vocab {
    /// Reads a table in the layout above; `None` if its header or sizes do not add up.
    pub(super) fn parse(data: &'static [u8]) -> Option<Self> {
        let (words, _) = data.as_chunks::<4>();
        let magic = read(*words.first()?);
        let n = read(*words.get(1)?) as usize;
        let bounds = words.get(HEADER..HEADER + BOUNDS)?;
        let offsets_at = HEADER + BOUNDS;
        let offsets = words.get(offsets_at..offsets_at + n + 1)?;
        let ranks = words.get(offsets_at + n + 1..offsets_at + 2 * n + 1)?;
        let bytes = data.get((offsets_at + 2 * n + 1) * 4..)?;
        let sizes_match =
            read(*offsets.last()?) as usize == bytes.len() && read(*bounds.last()?) as usize == n;
        (magic == MAGIC && sizes_match).then_some(Self {
            bounds,
            offsets,
            ranks,
            bytes,
        })
    }

    /// The rank of `token`, if it is in the vocabulary.
    pub(super) fn rank(&self, token: &[u8]) -> Option<Rank> {
        let first = usize::from(*token.first()?);
        let mut low = read(self.bounds[first]) as usize;
        let mut high = (read(self.bounds[first + 1]) as usize).min(self.ranks.len());
        while low < high {
            let middle = low + (high - low) / 2;
            match self.token(middle).cmp(token) {
                Ordering::Less => low = middle + 1,
                Ordering::Greater => high = middle,
                Ordering::Equal => return Some(read(self.ranks[middle])),
            }
        }
        None
    }

    /// The `index`-th token in sorted order (empty if the table's offsets are out of range).
    fn token(&self, index: usize) -> &'static [u8] {
        let start = read(self.offsets[index]) as usize;
        let end = read(self.offsets[index + 1]) as usize;
        self.bytes.get(start..end).unwrap_or_default()
    }
}

fn read(word: [u8; 4]) -> u32 {
    u32::from_le_bytes(word)
}

/// Builds a table in the layout above from `(token bytes, rank)` pairs.
#[cfg(test)]
pub(super) fn encode(mut tokens: Vec<(Vec<u8>, Rank)>) -> Vec<u8> {
    tokens.sort_unstable();
    let n = u32::try_from(tokens.len()).expect("fewer than 2^32 tokens");
    let mut words = vec![MAGIC, n];
    words
        .extend((0..BOUNDS).map(|b| tokens.partition_point(|(t, _)| usize::from(t[0]) < b) as u32));
    let mut offset = 0u32;
    words.push(0);
    for (token, _) in &tokens {
        offset += token.len() as u32;
        words.push(offset);
    }
    words.extend(tokens.iter().map(|&(_, rank)| rank));
    let mut out: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    out.extend(tokens.iter().flat_map(|(token, _)| token.iter().copied()));
    out
}
