//! The `vdp-engine` binary on a channel file: the test plays the kernel side of the channel with
//! `channel::Producer` and `Consumer` over its own mapping of the file, as the kernel module does
//! over the region it allocated.

use std::io::Read;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use vdp_core::channel::{Consumer, Direction, Geometry, Producer, RingError, SlotMeta};
use vdp_engine::container::cli::status;
use vdp_engine::container::mapping::Mapping;

/// A scratch directory of this test's own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("vdp-engine-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The kernel's side: the channel file, mapped, with the header written.
struct Kernel {
    mapping: Mapping,
    geometry: Geometry,
    path: PathBuf,
}

impl Kernel {
    fn new(scratch: &Scratch, rings: u32, slots: u32) -> Kernel {
        let geometry = Geometry::new(rings, slots).unwrap();
        let path = scratch.path("channel");
        let file = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path).unwrap();
        file.set_len(geometry.region_size() as u64).unwrap();
        let mapping = Mapping::file(file.as_fd(), geometry.region_size()).unwrap();
        geometry.write_header(&mapping);
        Kernel { mapping, geometry, path }
    }
}

/// A started engine, killed if the test ends (or fails) before it exits.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn engine(channel: &Path, config: &Path, extra: &[&str]) -> Running {
    let child = Command::new(env!("CARGO_BIN_EXE_vdp-engine"))
        .arg("run")
        .arg("--channel-file")
        .arg(channel)
        .arg("--config")
        .arg(config)
        .args(["--tenant", "t"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts vdp-engine");
    Running(child)
}

/// Waits for the engine to exit, at most `limit`; its status and stderr.
fn finish(mut running: Running, limit: Duration) -> (ExitStatus, String) {
    let child = &mut running.0;
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut text = String::new();
            child.stderr.take().unwrap().read_to_string(&mut text).unwrap();
            return (status, text);
        }
        assert!(Instant::now() <= deadline, "the engine did not exit within {limit:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn terminate(running: &Running) {
    // SAFETY: sends SIGTERM to the child this test started, by its pid.
    assert_eq!(unsafe { libc::kill(running.0.id() as libc::pid_t, libc::SIGTERM) }, 0);
}

fn config(scratch: &Scratch, text: &str) -> PathBuf {
    let path = scratch.path("part.click");
    std::fs::write(&path, text).unwrap();
    path
}

/// A frame whose bytes tell `i` apart, `60 + i % 100` bytes long.
fn frame(i: u32) -> Vec<u8> {
    let mut bytes = vec![0u8; 60 + (i % 100) as usize];
    bytes[..4].copy_from_slice(&i.to_le_bytes());
    bytes
}

#[test]
fn packets_and_annotations_cross_in_order_and_sigterm_exits_0() {
    let scratch = Scratch::new("cross");
    let kernel = Kernel::new(&scratch, 2, 64);
    let part = config(&scratch, "in :: FromKernel(0) -> c :: Counter -> p :: Paint(2) -> out :: ToKernel(0);");
    let child = engine(&kernel.path, &part, &[]);
    let mut down = Producer::new(kernel.geometry, Direction::Down, 0).unwrap();
    let mut up = Consumer::new(kernel.geometry, Direction::Up, 0).unwrap();
    const N: u32 = 1000;
    let (mut sent, mut got) = (0u32, 0u32);
    let deadline = Instant::now() + Duration::from_secs(20);
    while got < N {
        assert!(Instant::now() < deadline, "only {got} of {N} packets came back ({sent} sent)");
        // At most a ring's worth in flight, so that the engine's ToKernel never finds the up
        // ring full (it would drop, counted as tx ring_full).
        if sent < N && sent - got < kernel.geometry.slots() {
            let meta = SlotMeta { paint: 7, dst_ip: (sent % 2 == 0).then_some([10, 0, 0, sent as u8]), network_offset: Some(14), ..SlotMeta::default() };
            match down.push(&kernel.mapping, meta, &frame(sent)) {
                Ok(_) => sent += 1,
                Err(RingError::Full) => {}
                Err(e) => panic!("push: {e:?}"),
            }
        }
        let received = up
            .receive(&kernel.mapping, |meta, data| {
                let mut bytes = vec![0u8; data.len()];
                data.copy_to(&mut bytes);
                (meta, bytes)
            })
            .unwrap();
        match received {
            Some((meta, bytes)) => {
                assert_eq!(bytes, frame(got), "packet {got}");
                assert_eq!(meta.paint, 2, "Paint(2) painted packet {got}");
                assert_eq!(meta.dst_ip, (got % 2 == 0).then_some([10, 0, 0, got as u8]), "packet {got}'s destination annotation");
                assert_eq!(meta.network_offset, Some(14));
                got += 1;
            }
            None => std::thread::sleep(Duration::from_micros(50)),
        }
    }
    terminate(&child);
    let (status, stderr) = finish(child, Duration::from_secs(10));
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains(&format!("FromKernel(0).packets={N}")), "{stderr}");
    assert!(stderr.contains(&format!("ToKernel(0).packets={N}")), "{stderr}");
    assert!(!stderr.contains("ring_full"), "{stderr}");
}

#[test]
fn a_task_run_over_the_time_limit_stops_the_engine_naming_the_element() {
    let scratch = Scratch::new("limit");
    let kernel = Kernel::new(&scratch, 1, 64);
    let part = config(&scratch, "in :: FromKernel(0) -> slow :: Chew(10000000) -> out :: ToKernel(0);");
    let mut down = Producer::new(kernel.geometry, Direction::Down, 0).unwrap();
    // 32 packets of 10 million cycles each in one burst: far over 20 ms on any machine.
    for i in 0..32 {
        down.push(&kernel.mapping, SlotMeta::default(), &frame(i)).unwrap();
    }
    let started = Instant::now();
    let child = engine(&kernel.path, &part, &["--time-limit-ms", "20"]);
    let (status, stderr) = finish(child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(i32::from(status::TIME_LIMIT)), "{stderr}");
    assert!(stderr.contains("element 't/slow' (Chew) ran longer than the time limit of 20 ms"), "{stderr}");
    // Stopped within the limit (and the watchdog's tick), not after the whole burst.
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn a_malformed_region_is_refused_clearly() {
    let scratch = Scratch::new("malformed");
    let part = config(&scratch, "in :: FromKernel(0) -> out :: ToKernel(0);");
    let path = scratch.path("channel");
    let cases: [(&str, Vec<u8>); 3] = [
        ("bad magic", vec![0xa5; 8192]),
        ("fewer than the 4096", vec![0; 100]),
        ("fewer than the", {
            // A good header claiming 8 rings of 1024 slots, in a file of one page.
            let kernel_side = Scratch::new("malformed-src");
            let kernel = Kernel::new(&kernel_side, 8, 1024);
            let mut page = vec![0u8; 4096];
            vdp_core::channel::Region::read(&kernel.mapping, 0, &mut page);
            page
        }),
    ];
    for (expected, bytes) in cases {
        std::fs::write(&path, &bytes).unwrap();
        let (status, stderr) = finish(engine(&path, &part, &[]), Duration::from_secs(10));
        assert_eq!(status.code(), Some(1), "{stderr}");
        assert!(stderr.contains("the channel cannot be used") && stderr.contains(expected), "{expected}: {stderr}");
    }
    let mut version = vec![0u8; 8192];
    version[..4].copy_from_slice(&vdp_core::channel::MAGIC.to_le_bytes());
    version[4..8].copy_from_slice(&9u32.to_le_bytes());
    std::fs::write(&path, &version).unwrap();
    let (status, stderr) = finish(engine(&path, &part, &[]), Duration::from_secs(10));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("version 9"), "{stderr}");
}

#[test]
fn a_bad_container_part_is_refused_with_its_diagnostics() {
    let scratch = Scratch::new("badpart");
    let kernel = Kernel::new(&scratch, 1, 16);
    // A boundary beyond the channel's rings, and a class nobody has.
    let part = config(&scratch, "in :: FromKernel(1) -> out :: ToKernel(0);");
    let (status, stderr) = finish(engine(&kernel.path, &part, &[]), Duration::from_secs(10));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot build the container part") && stderr.contains("t/in"), "{stderr}");
    let part = config(&scratch, "in :: FromKernel(0) -> x :: NoSuchClass -> out :: ToKernel(0);");
    let (status, stderr) = finish(engine(&kernel.path, &part, &[]), Duration::from_secs(10));
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("part.click:1:"), "diagnostics as file:line:col: {stderr}");
}

#[test]
fn the_memory_limit_is_the_engines_address_space_limit() {
    let scratch = Scratch::new("memory");
    let kernel = Kernel::new(&scratch, 1, 16);
    let part = config(&scratch, "in :: FromKernel(0) -> out :: ToKernel(0);");
    let running = engine(&kernel.path, &part, &["--memory-limit", "3221225472"]);
    let limits = format!("/proc/{}/limits", running.0.id());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&limits).unwrap_or_default();
        let line = text.lines().find(|l| l.starts_with("Max address space")).unwrap_or_default().to_string();
        if line.split_whitespace().nth(3) == Some("3221225472") {
            break;
        }
        assert!(Instant::now() < deadline, "the limit never applied: {line}");
        std::thread::sleep(Duration::from_millis(5));
    }
    terminate(&running);
    let (status, stderr) = finish(running, Duration::from_secs(10));
    assert!(status.success(), "{status}: {stderr}");
}

/// Sends `request` on `stream` and reads one reply: `Ok(value)` for `ok LEN` and its body,
/// `Err(text)` for `error TEXT`.
fn ask(stream: &mut std::os::unix::net::UnixStream, request: &[u8]) -> Result<String, String> {
    use std::io::{BufRead, Write};
    stream.write_all(request).unwrap();
    let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let line = line.trim_end_matches('\n');
    if let Some(text) = line.strip_prefix("error ") {
        return Err(text.to_string());
    }
    let len: usize = line.strip_prefix("ok ").unwrap_or_else(|| panic!("reply {line:?}")).parse().unwrap();
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).unwrap();
    Ok(String::from_utf8(body).unwrap())
}

#[test]
fn the_control_socket_serves_handler_reads_and_writes() {
    let scratch = Scratch::new("control");
    let kernel = Kernel::new(&scratch, 1, 16);
    let part = config(&scratch, "in :: FromKernel(0) -> c :: Counter -> out :: ToKernel(0);");
    let socket = scratch.path("control.sock");
    let child = engine(&kernel.path, &part, &["--control", socket.to_str().unwrap()]);
    let mut down = Producer::new(kernel.geometry, Direction::Down, 0).unwrap();
    for i in 0..5 {
        down.push(&kernel.mapping, SlotMeta::default(), &frame(i)).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stream = loop {
        if let Ok(stream) = std::os::unix::net::UnixStream::connect(&socket) {
            break stream;
        }
        assert!(Instant::now() < deadline, "no control socket");
        std::thread::sleep(Duration::from_millis(5));
    };
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    while ask(&mut stream, b"read t/c count\n").unwrap() != "5" {
        assert!(Instant::now() < deadline, "the Counter never saw 5 packets");
        std::thread::sleep(Duration::from_millis(5));
    }
    let stats = ask(&mut stream, b"read t/in stats\n").unwrap();
    assert!(stats.contains("rx_packets 5\n"), "{stats}");
    assert_eq!(ask(&mut stream, b"write t/c reset 0\n"), Ok(String::new()));
    assert_eq!(ask(&mut stream, b"read t/c count\n").unwrap(), "0");
    assert_eq!(ask(&mut stream, b"read t/nobody count\n"), Err("no such element".to_string()));
    assert_eq!(ask(&mut stream, b"read t/c nothing\n"), Err("no such handler".to_string()));
    assert!(ask(&mut stream, b"frob\n").unwrap_err().starts_with("expected"));
    terminate(&child);
    let (status, stderr) = finish(child, Duration::from_secs(10));
    assert!(status.success(), "{status}: {stderr}");
    assert!(!socket.exists(), "the socket file is removed on exit");
}
