//! Property test of the FPGA level: random graphs over the FPGA subset (tests/fpga/graph.rs)
//! and random packets, run by `vdpctl run` and by the Verilator simulation of their design;
//! every output must be the same frames in the same order and every handler read the same.
//! Several graphs share one design as tenants (one Verilator build), each simulated with its
//! own inputs. `make fpga-prop` runs many: VDP_FPGA_PROP_SEED (first seed),
//! VDP_FPGA_PROP_DESIGNS (designs), VDP_FPGA_PROP_TENANTS (graphs a design),
//! VDP_FPGA_PROP_PACKETS (packets a graph). Needs verilator (scripts/deps.sh).

mod fpga;
use fpga::*;

fn env(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(value) => value.parse().unwrap_or_else(|_| panic!("{name}={value} is not a number")),
        Err(_) => default,
    }
}

#[test]
fn random_graphs_agree_with_software() {
    let seed = env("VDP_FPGA_PROP_SEED", 1);
    let designs = env("VDP_FPGA_PROP_DESIGNS", 1);
    let tenants = env("VDP_FPGA_PROP_TENANTS", 3) as usize;
    let packets = env("VDP_FPGA_PROP_PACKETS", 120);
    let mut frames = 0;
    for d in 0..designs {
        let design_seed = seed + d;
        let dir = scratch(&format!("prop-{design_seed}"));
        let mut configs = Vec::new();
        let mut runs = Vec::new();
        for t in 0..tenants {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (design_seed << 8) ^ t as u64);
            rng.next();
            let devices = [format!("eth{}", 2 * t), format!("eth{}", 2 * t + 1)];
            let inputs = if rng.below(3) == 0 { devices.to_vec() } else { devices[..1].to_vec() };
            let graph = graph::random(&mut rng, &inputs, &devices);
            let path = dir.join(format!("t{t}.click"));
            std::fs::write(&path, &graph.config).unwrap();
            configs.push(format!("t{t}={}", path.display()));
            let traffic: Vec<(String, Vec<Vec<u8>>)> = graph.inputs.iter().map(|device| (device.clone(), (0..packets / graph.inputs.len() as u64).map(|_| frame(&mut rng)).collect())).collect();
            runs.push((path, graph, traffic));
        }
        std::fs::write(dir.join("board.toml"), board(2 * tenants)).unwrap();
        let design = dir.join("design");
        let mut args = vec!["fpga".to_string()];
        args.extend(configs);
        args.extend(["--board".to_string(), dir.join("board.toml").display().to_string(), "-o".into(), design.display().to_string()]);
        vdpctl(&args);
        for (t, (path, graph, traffic)) in runs.iter().enumerate() {
            let tag = format!("t{t}-");
            let tenant = format!("t{t}");
            let run = Run { dir: &dir, tag: &tag, inputs: traffic, outputs: &graph.outputs, reads: &graph.reads };
            let software = run.software(path);
            let hardware = run.hardware(&design, Some(&tenant));
            frames += run.agree(&software, &hardware);
            eprintln!("seed {design_seed} tenant {tenant}: {} reads and {} outputs agree:\n{}", graph.reads.len(), graph.outputs.len(), graph.config);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    eprintln!("{frames} frames compared");
}
