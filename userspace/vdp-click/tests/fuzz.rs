//! The fuzz target: runs the front end and the compiled-graph validator on generated input for
//! `FUZZ_SECONDS` seconds, with a fresh random seed per batch. Any panic fails it, with proptest's
//! shrunk input. Plain `cargo test` runs a 2-second smoke round; `fuzz.sh` runs the long one.

mod common;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::cell::Cell;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn runner(batch: u64) -> TestRunner {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&nanos.to_le_bytes());
    seed[8..16].copy_from_slice(&batch.to_le_bytes());
    let config = Config { cases: 500, failure_persistence: None, ..Config::default() };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed))
}

#[test]
fn fuzz() {
    let seconds: u64 = std::env::var("FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let blob = common::router_blob();
    let mut batches = 0u64;
    let (texts, valid, blobs) = (Cell::new(0u64), Cell::new(0u64), Cell::new(0u64));
    while Instant::now() < deadline {
        batches += 1;
        let mut text_runner = runner(batches);
        text_runner
            .run(&common::click_text(), |text| {
                texts.set(texts.get() + 1);
                if let Ok(path) = std::env::var("FUZZ_TRACE") {
                    let _ = std::fs::write(path, &text);
                }
                valid.set(valid.get() + u64::from(common::exercise(&text)));
                Ok(())
            })
            .unwrap_or_else(|e| panic!("front end failed: {e}"));
        let mut graph_runner = runner(batches ^ 0x5a5a);
        graph_runner
            .run(&common::flat_graph(), |graph| {
                common::assert_round_trip(&graph);
                Ok(())
            })
            .unwrap_or_else(|e| panic!("round trip failed: {e}"));
        let mut blob_runner = runner(batches ^ 0xa5a5);
        blob_runner
            .run(&prop::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..12), |edits| {
                blobs.set(blobs.get() + 1);
                let _ = vdp_click::compile::validate(&common::mutate(&blob, &edits));
                Ok(())
            })
            .unwrap_or_else(|e| panic!("validator failed: {e}"));
    }
    println!(
        "fuzz: {seconds} s, {batches} batches, {} texts ({} valid configurations), {} corrupted blobs, no panics",
        texts.get(),
        valid.get(),
        blobs.get()
    );
}
