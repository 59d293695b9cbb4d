//! Packets per second through a container part `FromKernel(0) -> ToKernel(0)` (or the part given
//! with `--config`), the container engine's loop on this thread over a memfd channel, and the
//! kernel's side played by a second thread with `channel::Producer`/`Consumer`.
//!
//! `vdp-engine-bench [--packets N] [--size BYTES] [--slots S] [--config FILE]`

use clap::Parser;
use std::os::fd::{AsFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vdp_core::channel::{Consumer, Direction, Geometry, Producer, RingError, SlotMeta};
use vdp_engine::container::mapping::Mapping;
use vdp_engine::container::runner::{compile_container_part, Runner};
use vdp_engine::container::watchdog::{Watch, DEFAULT_TIME_LIMIT};
use vdp_engine::container::Channel;

#[derive(Parser)]
#[command(name = "vdp-engine-bench", about = "Container engine throughput over a memfd channel")]
struct Args {
    #[arg(long, default_value_t = 1_000_000)]
    packets: u64,
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=2032))]
    size: u64,
    #[arg(long, default_value_t = 256)]
    slots: u32,
    /// A container part of tenant 't' with FromKernel(0) and ToKernel(0).
    #[arg(long)]
    config: Option<std::path::PathBuf>,
}

fn main() -> Result<(), String> {
    let args = Args::parse();
    let text = match &args.config {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
        None => "in :: FromKernel(0) -> out :: ToKernel(0);".to_string(),
    };
    let classes = vdp_engine::CustomClasses::new(&[]).map_err(|e| e.to_string())?;
    let blob = compile_container_part("bench.click", &text, "t", &classes)?;
    let geometry = Geometry::new(1, args.slots).map_err(|e| format!("--slots: {e:?}"))?;
    // SAFETY: memfd_create with a NUL-terminated name; the result is checked.
    let raw = unsafe { libc::memfd_create(c"vdp-bench-channel".as_ptr(), 0) };
    if raw < 0 {
        return Err(format!("memfd_create: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: a fresh descriptor this process owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let file = std::fs::File::from(fd.try_clone().map_err(|e| e.to_string())?);
    file.set_len(geometry.region_size() as u64).map_err(|e| e.to_string())?;
    let kernel = Mapping::file(fd.as_fd(), geometry.region_size()).map_err(|e| e.to_string())?;
    geometry.write_header(&kernel);
    let channel = Channel::open(fd).map_err(|e| e.to_string())?;
    let mut runner = Runner::new(&blob, "t", channel, &classes).map_err(|e| format!("{e:?}"))?;
    let watch = Watch::start(runner.elements(), DEFAULT_TIME_LIMIT, runner.clock()).map_err(|e| e.to_string())?;
    let (interrupt, wake) = UnixStream::pair().map_err(|e| e.to_string())?;
    interrupt.set_nonblocking(true).map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    let done = stop.clone();
    let (packets, size) = (args.packets, args.size as usize);
    let kernel_side = std::thread::spawn(move || {
        let mut down = Producer::new(geometry, Direction::Down, 0).expect("ring 0");
        let mut up = Consumer::new(geometry, Direction::Up, 0).expect("ring 0");
        let frame = vec![0x5a; size];
        let started = Instant::now();
        let (mut sent, mut got) = (0u64, 0u64);
        while got < packets {
            while sent < packets && sent - got < u64::from(geometry.slots()) {
                match down.push(&kernel, SlotMeta::default(), &frame) {
                    Ok(_) => sent += 1,
                    Err(RingError::Full) => break,
                    Err(e) => panic!("push: {e:?}"),
                }
            }
            while let Ok(Some(())) = up.receive(&kernel, |_, _| ()) {
                got += 1;
            }
            std::hint::spin_loop();
        }
        let elapsed = started.elapsed();
        done.store(true, Ordering::Relaxed);
        let _ = std::io::Write::write_all(&mut &wake, b"x");
        elapsed
    });
    runner.run(watch, &stop, &interrupt, None).map_err(|e| format!("{e:?}"))?;
    let elapsed: Duration = kernel_side.join().map_err(|_| "the kernel side panicked".to_string())?;
    let rate = packets as f64 / elapsed.as_secs_f64();
    println!("{packets} packets of {size} bytes in {:.3} s: {:.0} packets/s, {:.0} ns/packet (kernel side and engine on two threads)", elapsed.as_secs_f64(), rate, 1e9 / rate);
    Ok(())
}
