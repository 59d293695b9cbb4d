//! Laying out the handler address space (Keller's rule): each element with handlers asks for a
//! block of 32-bit registers, and base addresses are chosen so that the decoder compares as few
//! address bits as possible. Two elements each needing at most half of the space are told apart
//! by one bit; one needing more than half forces the others deeper.
//!
//! A block is rounded up to a power of two and placed at a multiple of its size. The space is
//! split in halves recursively: at each split the blocks go to the two halves as evenly by
//! number as their sizes allow (then any packing that fits), and a block alone in a part of the
//! space takes all of it, so its decoder compares only the bits that lead there. Tenants get
//! disjoint windows the same way, and a tenant's elements are laid out inside its window.

/// Where one block went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// First word of the window the decoder gives the block.
    pub base: u64,
    /// Number of high address bits the decoder compares (the window is 2^(space - this) words).
    pub prefix_bits: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LayoutError {
    /// The blocks together need more words than the space has.
    Overflow { needed: u64, space: u64 },
}

impl std::fmt::Display for LayoutError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayoutError::Overflow { needed, space } => {
                write!(f, "the handlers need {needed} registers (blocks rounded to powers of two) but the address space has {space}")
            }
        }
    }
}

/// `words` rounded up to a power of two (at least 1).
pub fn block_size(words: u64) -> u64 {
    words.max(1).next_power_of_two()
}

/// Lays out blocks of `words[i]` registers in a space of 2^`bits` registers.
pub fn layout(words: &[u64], bits: u32) -> Result<Vec<Placement>, LayoutError> {
    let sizes: Vec<u64> = words.iter().map(|w| block_size(*w)).collect();
    let space = 1u64 << bits;
    let needed: u64 = sizes.iter().sum();
    if needed > space {
        return Err(LayoutError::Overflow { needed, space });
    }
    let mut out = vec![Placement { base: 0, prefix_bits: 0 }; sizes.len()];
    let mut items: Vec<usize> = (0..sizes.len()).collect();
    // Largest first, then by index, so the layout depends only on the input.
    items.sort_by(|a, b| sizes[*b].cmp(&sizes[*a]).then(a.cmp(b)));
    place(&sizes, &items, 0, bits, 0, &mut out);
    Ok(out)
}

fn place(sizes: &[u64], items: &[usize], base: u64, bits: u32, depth: u32, out: &mut [Placement]) {
    match items {
        [] => {}
        [one] => out[*one] = Placement { base, prefix_bits: depth },
        _ => {
            let half = 1u64 << (bits - 1);
            let (a, b) = split(sizes, items, half);
            place(sizes, &a, base, bits - 1, depth + 1, out);
            place(sizes, &b, base + half, bits - 1, depth + 1, out);
        }
    }
}

/// Splits `items` (largest first, together at most 2 * half) into two groups of at most `half`
/// words each, as evenly by number as possible.
fn split(sizes: &[u64], items: &[usize], half: u64) -> (Vec<usize>, Vec<usize>) {
    let mut groups = (Vec::new(), Vec::new());
    let mut sums = (0u64, 0u64);
    let mut balanced = true;
    for item in items {
        let size = sizes[*item];
        let a_fits = sums.0 + size <= half;
        let b_fits = sums.1 + size <= half;
        let to_a = match (a_fits, b_fits) {
            (true, true) => groups.0.len() <= groups.1.len(),
            (true, false) => true,
            (false, true) => false,
            (false, false) => {
                balanced = false;
                break;
            }
        };
        if to_a {
            groups.0.push(*item);
            sums.0 += size;
        } else {
            groups.1.push(*item);
            sums.1 += size;
        }
    }
    if balanced {
        return groups;
    }
    // First fit, largest first: always fits when the total does, since sizes are powers of two.
    let mut groups = (Vec::new(), Vec::new());
    let mut filled = 0u64;
    for item in items {
        if filled + sizes[*item] <= half {
            filled += sizes[*item];
            groups.0.push(*item);
        } else {
            groups.1.push(*item);
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disjoint(words: &[u64], bits: u32, placed: &[Placement]) {
        for (i, p) in placed.iter().enumerate() {
            let window = 1u64 << (bits - p.prefix_bits);
            assert!(block_size(words[i]) <= window, "block {i} does not fit its window");
            assert_eq!(p.base % window, 0, "window {i} is not aligned");
            for (j, q) in placed.iter().enumerate().skip(i + 1) {
                let other = 1u64 << (bits - q.prefix_bits);
                assert!(p.base + window <= q.base || q.base + other <= p.base, "windows {i} and {j} overlap");
            }
        }
    }

    #[test]
    fn one_block_compares_nothing() {
        let placed = layout(&[3], 10).unwrap();
        assert_eq!(placed, [Placement { base: 0, prefix_bits: 0 }]);
    }

    #[test]
    fn two_blocks_under_half_compare_one_bit() {
        let placed = layout(&[4, 200], 10).unwrap();
        assert_eq!(placed.iter().map(|p| p.prefix_bits).collect::<Vec<_>>(), [1, 1]);
        disjoint(&[4, 200], 10, &placed);
    }

    #[test]
    fn a_block_over_half_forces_more_bits() {
        // 600 rounds to 1024 of 2048: then 2 and 2 share the other half and need two bits.
        let placed = layout(&[600, 2, 2], 11).unwrap();
        assert_eq!(placed.iter().map(|p| p.prefix_bits).collect::<Vec<_>>(), [1, 2, 2]);
        disjoint(&[600, 2, 2], 11, &placed);
        // Over half of the whole space: the two small ones go deeper still.
        let placed = layout(&[1024, 512, 256, 256], 11).unwrap();
        assert_eq!(placed.iter().map(|p| p.prefix_bits).collect::<Vec<_>>(), [1, 2, 3, 3]);
    }

    #[test]
    fn even_counts_make_a_balanced_tree() {
        let words = [2u64; 8];
        let placed = layout(&words, 12).unwrap();
        assert!(placed.iter().all(|p| p.prefix_bits == 3));
        disjoint(&words, 12, &placed);
    }

    #[test]
    fn overflow_is_refused() {
        assert_eq!(layout(&[512, 513], 10), Err(LayoutError::Overflow { needed: 1536, space: 1024 }));
        assert!(layout(&[1024], 10).is_ok());
        assert!(layout(&[1024, 1], 10).is_err());
    }

    #[test]
    fn bits_are_minimal_for_small_cases() {
        // For every multiset of block sizes that fits, the total of compared bits equals the
        // smallest total any prefix code meeting the windows' sizes allows (brute force).
        fn best(sizes: &[u64], bits: u32) -> Option<u32> {
            // Minimal sum of prefix lengths with l_i <= bits - log2(size_i) and Kraft's sum <= 1.
            let caps: Vec<u32> = sizes.iter().map(|s| bits - s.trailing_zeros()).collect();
            let mut best = None;
            let mut lengths = vec![0u32; sizes.len()];
            fn go(i: usize, caps: &[u32], lengths: &mut Vec<u32>, bits: u32, best: &mut Option<u32>) {
                if i == caps.len() {
                    let kraft: u64 = lengths.iter().map(|l| 1u64 << (bits - l)).sum();
                    if kraft <= 1u64 << bits {
                        let total = lengths.iter().sum();
                        if best.is_none_or(|b| total < b) {
                            *best = Some(total);
                        }
                    }
                    return;
                }
                for l in 0..=caps[i] {
                    lengths[i] = l;
                    go(i + 1, caps, lengths, bits, best);
                }
            }
            go(0, &caps, &mut lengths, bits, &mut best);
            best
        }
        let choices = [1u64, 2, 4, 8];
        for count in 1..=4usize {
            let mut index = vec![0usize; count];
            loop {
                let words: Vec<u64> = index.iter().map(|i| choices[*i]).collect();
                let bits = 4;
                match layout(&words, bits) {
                    Ok(placed) => {
                        disjoint(&words, bits, &placed);
                        let total: u32 = placed.iter().map(|p| p.prefix_bits).sum();
                        assert_eq!(Some(total), best(&words, bits), "sizes {words:?}");
                    }
                    Err(_) => assert!(words.iter().sum::<u64>() > 16),
                }
                let mut k = 0;
                while k < count {
                    index[k] += 1;
                    if index[k] < choices.len() {
                        break;
                    }
                    index[k] = 0;
                    k += 1;
                }
                if k == count {
                    break;
                }
            }
        }
    }
}
