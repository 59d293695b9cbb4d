//! CPU lists as Linux writes them (`0-3,8`, as in `/sys/devices/system/cpu/online` and
//! `Cpus_allowed_list`), and as the module's `CPU_MASK` carries them.

use anyhow::{bail, Context, Result};
use vdp_core::cpu_set::CpuSet;
use vdp_core::uapi::CPU_SET_MAX;

/// Where Linux lists the CPUs that are online.
pub const ONLINE: &str = "/sys/devices/system/cpu/online";

/// Reads `0-3,8` (ranges and single CPUs, comma-separated, whitespace around ignored) into the
/// CPUs it names, lowest first, each once. Every CPU must be below [`CPU_SET_MAX`].
pub fn parse(text: &str) -> Result<Vec<u32>> {
    let text = text.trim();
    if text.is_empty() {
        bail!("an empty CPU list");
    }
    let mut named = vec![false; CPU_SET_MAX as usize];
    for part in text.split(',') {
        let part = part.trim();
        let number = |s: &str| -> Result<u32> {
            let cpu: u32 = s.trim().parse().with_context(|| format!("'{s}' in CPU list '{text}' is not a CPU number"))?;
            if cpu >= CPU_SET_MAX {
                bail!("cpu {cpu} in CPU list '{text}': CPU numbers go up to {}", CPU_SET_MAX - 1);
            }
            Ok(cpu)
        };
        match part.split_once('-') {
            Some((low, high)) => {
                let (low, high) = (number(low)?, number(high)?);
                if low > high {
                    bail!("'{part}' in CPU list '{text}' runs backwards");
                }
                named[low as usize..=high as usize].fill(true);
            }
            None => named[number(part)? as usize] = true,
        }
    }
    Ok((0..CPU_SET_MAX).filter(|cpu| named[*cpu as usize]).collect())
}

/// `0-3,8` for the CPUs given (sorted, each once).
pub fn format(cpus: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        parts.push(if j > i { format!("{}-{}", cpus[i], cpus[j]) } else { cpus[i].to_string() });
        i = j + 1;
    }
    parts.join(",")
}

/// The CPUs online on this machine now.
pub fn online() -> Result<Vec<u32>> {
    let text = std::fs::read_to_string(ONLINE).with_context(|| format!("cannot read {ONLINE}"))?;
    parse(&text).with_context(|| format!("{ONLINE}"))
}

/// The first of `cpus` not in `online`, if any.
pub fn first_offline(cpus: &[u32], online: &[u32]) -> Option<u32> {
    cpus.iter().copied().find(|cpu| !online.contains(cpu))
}

/// `CPU_MASK` bytes for the CPUs given; no bytes (any CPU) for `None`.
pub fn mask(cpus: Option<&[u32]>) -> Result<Vec<u8>> {
    let Some(cpus) = cpus else { return Ok(Vec::new()) };
    let set = CpuSet::of(cpus.iter().copied()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut bytes = vec![0; set.mask_len()];
    set.write_mask(&mut bytes);
    Ok(bytes)
}

/// The CPUs of a `CPU_MASK` from the module.
pub fn of_mask(bytes: &[u8]) -> Result<Vec<u32>> {
    let set = CpuSet::from_mask(bytes).map_err(|e| anyhow::anyhow!("the module's CPU_MASK: {e}"))?;
    Ok(set.iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_and_print_as_linux_writes_them() {
        assert_eq!(parse("0-3,8\n").unwrap(), [0, 1, 2, 3, 8]);
        assert_eq!(parse(" 5 , 1-2,2").unwrap(), [1, 2, 5]);
        assert_eq!(format(&[0, 1, 2, 3, 8, 10, 11]), "0-3,8,10-11");
        assert_eq!(format(&[4]), "4");
        assert_eq!(format(&parse("0-1023").unwrap()), "0-1023");
        for (bad, why) in [("", "empty"), ("3-1", "backwards"), ("x", "not a CPU number"), ("1,,2", "not a CPU number"), ("1024", "up to 1023"), ("-1", "not a CPU number")] {
            let err = format!("{:#}", parse(bad).unwrap_err());
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn masks_go_both_ways() {
        assert!(mask(None).unwrap().is_empty());
        let bytes = mask(Some(&[1, 64, 70])).unwrap();
        assert_eq!(bytes.len(), 16);
        assert_eq!(bytes[0], 0b10);
        assert_eq!(of_mask(&bytes).unwrap(), [1, 64, 70]);
        assert!(of_mask(&[0; 8]).is_err());
        assert!(of_mask(&[1; 7]).is_err());
        assert_eq!(first_offline(&[0, 1, 3], &[0, 1, 2]), Some(3));
        assert_eq!(first_offline(&[0, 1], &[0, 1, 2]), None);
    }
}
