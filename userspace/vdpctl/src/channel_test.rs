//! `vdpctl channel-test`: a test client of the kernel's channel device (`/dev/vdp`, see
//! docs/channel.md) for the `channel` QEMU scenario. It plays the coordinator (binds a tenant's
//! channel) and the container engine (maps the rings, takes packets from down rings, sends on up
//! rings, kicks), and misbehaves on purpose: hostile ring indexes and slot lengths, bad ioctls
//! and mappings, a bind without privilege. Every subcommand checks what it sees and fails with a
//! message and a non-zero exit otherwise.
//!
//! Until the coordinator's partitioner exists, `compile` turns a merged configuration (element
//! names `TENANT/NAME`, the coordinator's classes such as `ToContainer` allowed) into a blob.

use anyhow::{bail, ensure, Context, Result};
use clap::{Args, Subcommand};
use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use vdp_core::channel::{self, Consumer, Direction, Geometry, Producer, Region, SlotMeta, CONTROL_SIZE, HDR_CONTROL, HDR_MAGIC, MAGIC};
use vdp_core::uapi::channel::{Bind, BIND, DEVICE_PATH, KICK};
use vdp_engine::container::mapping::Mapping;

#[derive(Subcommand)]
pub enum ChannelTestCommand {
    /// Compile a merged configuration (TENANT/NAME elements, coordinator classes allowed).
    Compile {
        /// The system config (TOML).
        #[arg(long)]
        system: PathBuf,
        /// The merged configuration.
        config: PathBuf,
        /// Where to write the compiled graph.
        #[arg(long, short)]
        output: PathBuf,
    },
    /// Bind, run THEN, and take COUNT packets of DATA from down ring RING, woken by poll.
    Down {
        #[command(flatten)]
        ring: RingArgs,
        /// How many packets to take.
        #[arg(long)]
        count: u32,
        /// The bytes every packet must hold.
        #[arg(long)]
        data: String,
        /// The paint annotation every packet must carry.
        #[arg(long)]
        paint: Option<u8>,
        /// A command run once the channel is bound (e.g. starting a source).
        #[arg(last = true)]
        then: Vec<String>,
    },
    /// Bind, run THEN, and take nothing: wait until down ring RING is full, hold it a moment.
    Hold {
        #[command(flatten)]
        ring: RingArgs,
        /// A command run once the channel is bound.
        #[arg(last = true)]
        then: Vec<String>,
    },
    /// Bind and send COUNT packets of SIZE bytes, painted 3, on up ring RING, kicking when the
    /// kernel waits; returns once the kernel has taken them all.
    Up {
        #[command(flatten)]
        ring: RingArgs,
        /// How many packets to send.
        #[arg(long)]
        count: u32,
        /// Each packet's size in bytes.
        #[arg(long, default_value_t = 100)]
        size: usize,
    },
    /// Bind and write the rings as a hostile engine would; run THEN while the down ring is
    /// corrupt.
    Hostile {
        #[command(flatten)]
        bind: BindArgs,
        /// A command run while the down ring is corrupt.
        #[arg(last = true)]
        then: Vec<String>,
    },
    /// Every refusal the device owes: bad binds, mappings, ioctls, and a bind without privilege.
    Refuse {
        /// The tenant's id.
        #[arg(long)]
        tenant: u32,
    },
    /// A newer bind detaches the older file: EPOLLHUP, KICK refused, its mapping still readable.
    Replace {
        #[command(flatten)]
        bind: BindArgs,
    },
    /// The region is charged to the tenant's memory cgroup CGROUP (the cgroup of its thread 0):
    /// a bind raises its memory.current by the region's size, and a bind larger than its
    /// memory.max leaves is refused with ENOMEM.
    Charge {
        #[command(flatten)]
        bind: BindArgs,
        /// The tenant's memory cgroup directory.
        #[arg(long)]
        cgroup: PathBuf,
    },
    /// Bind, print "bound", and wait (up to TIMEOUT seconds) for EPOLLHUP; the mapping must
    /// still read back afterwards.
    WaitHup {
        #[command(flatten)]
        bind: BindArgs,
        /// Seconds to wait for EPOLLHUP.
        #[arg(long, default_value_t = 60)]
        timeout: u64,
    },
}

/// A bind and the ring of it to use.
#[derive(Args, Clone, Copy)]
pub struct RingArgs {
    #[command(flatten)]
    bind: BindArgs,
    /// The ring's index.
    #[arg(long, default_value_t = 0)]
    ring: u32,
}

#[derive(Args, Clone, Copy)]
pub struct BindArgs {
    /// The tenant's id.
    #[arg(long)]
    tenant: u32,
    /// Rings in each direction.
    #[arg(long, default_value_t = 1)]
    rings: u32,
    /// Slots of each ring.
    #[arg(long, default_value_t = 64)]
    slots: u32,
}

/// Maps `len` bytes of the channel file: the engine's own mapping, whose accesses the portable
/// `Region` over it bounds-checks.
fn map_channel(fd: &OwnedFd, len: usize) -> Result<Mapping> {
    Mapping::file(fd.as_fd(), len).context("mmap of the channel")
}

fn open_device() -> Result<OwnedFd> {
    let path = CString::new(DEVICE_PATH)?;
    // SAFETY: a NUL-terminated path; the descriptor is owned at once.
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error()).with_context(|| format!("opening {DEVICE_PATH}"));
    }
    // SAFETY: a descriptor just opened, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The errno of an ioctl, or 0.
fn ioctl(fd: &OwnedFd, request: u32, arg: *const u8) -> i32 {
    // SAFETY: the channel's ioctls read at most a `Bind` from `arg`.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request as _, arg) };
    if rc < 0 {
        std::io::Error::last_os_error().raw_os_error().unwrap_or(-1)
    } else {
        0
    }
}

fn bind_errno(fd: &OwnedFd, bind: Bind) -> i32 {
    let bytes = bind.to_bytes();
    ioctl(fd, BIND, bytes.as_ptr())
}

fn errno_name(errno: i32) -> String {
    format!("{} ({errno})", std::io::Error::from_raw_os_error(errno))
}

fn expect_errno(what: &str, got: i32, want: i32) -> Result<()> {
    ensure!(got == want, "{what}: got {}, want {}", errno_name(got), errno_name(want));
    println!("    {what}: {} as expected", errno_name(want));
    Ok(())
}

struct Bound {
    fd: OwnedFd,
    map: Mapping,
    geometry: Geometry,
}

fn bind(args: BindArgs) -> Result<Bound> {
    let fd = open_device()?;
    let errno = bind_errno(&fd, Bind { tenant_id: args.tenant, rings: args.rings, slots: args.slots, flags: 0 });
    ensure!(errno == 0, "VDP_CHANNEL_BIND of tenant {}: {}", args.tenant, errno_name(errno));
    let geometry = Geometry::new(args.rings, args.slots).map_err(|e| anyhow::anyhow!("geometry {e:?}"))?;
    let map = map_channel(&fd, geometry.region_size())?;
    let read = Geometry::read_header(&map).map_err(|e| anyhow::anyhow!("the region's header: {e:?}"))?;
    ensure!(read == geometry, "the header says {read:?}, the bind asked for {geometry:?}");
    Ok(Bound { fd, map, geometry })
}

/// poll() on the file: the revents, or 0 on timeout.
fn poll(fd: &OwnedFd, timeout: Duration) -> Result<i16> {
    let mut pfd = libc::pollfd { fd: fd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    // SAFETY: one pollfd.
    let rc = unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as libc::c_int) };
    ensure!(rc >= 0, "poll: {}", std::io::Error::last_os_error());
    Ok(if rc == 0 { 0 } else { pfd.revents })
}

fn run_then(then: &[String]) -> Result<()> {
    let Some((program, args)) = then.split_first() else { return Ok(()) };
    let status = std::process::Command::new(program).args(args).status().with_context(|| format!("running {program}"))?;
    ensure!(status.success(), "{} exited with {status}", then.join(" "));
    Ok(())
}

/// The offset of the `head` (`tail` with `consumer`) word of a ring's control block, as
/// `kmod/core/channel.rs` lays it out: the producer's line, then the consumer's.
fn control_word(geometry: Geometry, direction: Direction, ring: u32, consumer: bool) -> usize {
    let number = match direction {
        Direction::Down => ring,
        Direction::Up => geometry.rings() + ring,
    } as usize;
    HDR_CONTROL + number * CONTROL_SIZE + if consumer { 64 } else { 0 }
}

fn down(args: BindArgs, ring: u32, count: u32, data: &str, paint: Option<u8>, then: &[String]) -> Result<()> {
    let bound = bind(args)?;
    let mut consumer = Consumer::new(bound.geometry, Direction::Down, ring).context("no such ring")?;
    run_then(then)?;
    let mut got = 0;
    let mut wakeups = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while got < count {
        ensure!(Instant::now() < deadline, "only {got} of {count} packets arrived in 30 s");
        let taken = consumer
            .receive(&bound.map, |meta, slot| {
                let mut bytes = vec![0u8; slot.len()];
                slot.copy_to(&mut bytes);
                (meta, bytes)
            })
            .map_err(|e| anyhow::anyhow!("down ring {ring}: {e:?}"))?;
        match taken {
            Some((meta, bytes)) => {
                ensure!(bytes == data.as_bytes(), "packet {got} holds {:?}, want {data:?}", String::from_utf8_lossy(&bytes));
                if let Some(paint) = paint {
                    ensure!(meta.paint == paint, "packet {got} is painted {}, want {paint}", meta.paint);
                }
                got += 1;
            }
            None => {
                if consumer.prepare_wait(&bound.map).map_err(|e| anyhow::anyhow!("{e:?}"))? {
                    let revents = poll(&bound.fd, Duration::from_secs(5))?;
                    ensure!(revents & libc::POLLHUP == 0, "EPOLLHUP on a current channel");
                    if revents & libc::POLLIN != 0 {
                        wakeups += 1;
                    }
                    consumer.end_wait(&bound.map);
                }
            }
        }
    }
    // Nothing beyond what was asked for, and poll no longer readable.
    std::thread::sleep(Duration::from_millis(300));
    let extra = consumer.available(&bound.map).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    ensure!(extra == 0, "{extra} packets more than the {count} expected");
    ensure!(poll(&bound.fd, Duration::ZERO)? & libc::POLLIN == 0, "poll readable with the down rings empty");
    println!("received {got} packets on down ring {ring} ({wakeups} poll wake-ups)");
    Ok(())
}

fn hold(args: BindArgs, ring: u32, then: &[String]) -> Result<()> {
    let bound = bind(args)?;
    run_then(then)?;
    let producer_head = control_word(bound.geometry, Direction::Down, ring, false);
    let deadline = Instant::now() + Duration::from_secs(30);
    while bound.map.load(producer_head) != bound.geometry.slots() {
        ensure!(Instant::now() < deadline, "down ring {ring} holds {} of {} slots after 30 s", bound.map.load(producer_head), bound.geometry.slots());
        ensure!(poll(&bound.fd, Duration::from_millis(100))? & libc::POLLHUP == 0, "EPOLLHUP");
    }
    ensure!(poll(&bound.fd, Duration::ZERO)? & libc::POLLIN != 0, "a full down ring does not poll readable");
    std::thread::sleep(Duration::from_millis(500));
    let head = bound.map.load(producer_head);
    ensure!(head == bound.geometry.slots(), "the kernel wrote past a full ring: head {head}");
    println!("down ring {ring} full at {head} slots");
    Ok(())
}

fn up(args: BindArgs, ring: u32, count: u32, size: usize) -> Result<()> {
    let bound = bind(args)?;
    let mut producer = Producer::new(bound.geometry, Direction::Up, ring).context("no such ring")?;
    let mut kicks = 0;
    let start = Instant::now();
    let deadline = start + Duration::from_secs(60);
    let mut sent = 0;
    while sent < count {
        ensure!(Instant::now() < deadline, "only {sent} of {count} packets sent in 60 s");
        let mut data = vec![0u8; size];
        data[..4.min(size)].copy_from_slice(&sent.to_le_bytes()[..4.min(size)]);
        let meta = SlotMeta { paint: 3, dst_ip: Some([10, 0, 0, 1]), network_offset: Some(14), ..SlotMeta::default() };
        match producer.push(&bound.map, meta, &data) {
            Ok(waiting) => {
                sent += 1;
                if waiting {
                    let errno = ioctl(&bound.fd, KICK, std::ptr::null());
                    ensure!(errno == 0, "KICK: {}", errno_name(errno));
                    kicks += 1;
                }
            }
            Err(channel::RingError::Full) => std::thread::sleep(Duration::from_millis(1)),
            Err(e) => bail!("up ring {ring}: {e:?}"),
        }
    }
    while producer.in_flight(&bound.map).map_err(|e| anyhow::anyhow!("{e:?}"))? != 0 {
        ensure!(Instant::now() < deadline, "the kernel left packets on up ring {ring}");
        std::thread::sleep(Duration::from_millis(10));
    }
    let seconds = start.elapsed().as_secs_f64();
    println!("sent {sent} packets on up ring {ring} ({kicks} kicks) in {seconds:.3} s, {:.0} packets/s", f64::from(sent) / seconds);
    Ok(())
}

fn kick(bound: &Bound) -> Result<()> {
    let errno = ioctl(&bound.fd, KICK, std::ptr::null());
    ensure!(errno == 0, "KICK: {}", errno_name(errno));
    Ok(())
}

fn hostile(args: BindArgs, then: &[String]) -> Result<()> {
    let bound = bind(args)?;
    let g = bound.geometry;
    let map = &bound.map;
    let up_head = control_word(g, Direction::Up, 0, false);
    let up_tail = control_word(g, Direction::Up, 0, true);
    let down_tail = control_word(g, Direction::Down, 0, true);
    // An up ring claiming more packets than it holds.
    map.store(up_head, g.slots() + 5);
    kick(&bound)?;
    std::thread::sleep(Duration::from_millis(300));
    // One slot whose length is more than a slot holds, at the kernel's tail.
    let tail = map.load(up_tail);
    let slot = channel::HEADER_SIZE + (g.rings() as usize * g.slots() as usize + (tail & (g.slots() - 1)) as usize) * channel::SLOT_SIZE;
    map.write(slot, &u16::MAX.to_le_bytes());
    map.store(up_head, tail.wrapping_add(1));
    kick(&bound)?;
    std::thread::sleep(Duration::from_millis(300));
    let after = map.load(up_tail);
    ensure!(after == tail.wrapping_add(1), "the kernel did not release the bad slot (tail {tail} -> {after})");
    // A down ring whose consumer claims to have taken packets never sent.
    map.store(down_tail, 12345);
    run_then(then)?;
    std::thread::sleep(Duration::from_millis(300));
    // Garbage over the header, the control blocks and the slots, with kicks between.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for round in 0..200 {
        for _ in 0..64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let offset = (state as usize % (map.len() / 4)) * 4;
            let offset = if round % 2 == 0 { offset % channel::HEADER_SIZE } else { offset };
            map.store(offset, (state >> 32) as u32);
        }
        kick(&bound)?;
    }
    std::thread::sleep(Duration::from_millis(300));
    ensure!(poll(&bound.fd, Duration::ZERO)? & libc::POLLHUP == 0, "EPOLLHUP after garbage");
    println!("hostile writes done; the kernel still answers");
    Ok(())
}

fn refuse(tenant: u32) -> Result<()> {
    let good = Bind { tenant_id: tenant, rings: 1, slots: 64, flags: 0 };
    let fd = open_device()?;
    expect_errno("KICK before a bind", ioctl(&fd, KICK, std::ptr::null()), libc::EBADFD)?;
    // SAFETY: a shared mapping attempt; refused.
    let ptr = unsafe { libc::mmap(std::ptr::null_mut(), 4096, libc::PROT_READ, libc::MAP_SHARED, fd.as_raw_fd(), 0) };
    ensure!(ptr == libc::MAP_FAILED, "mmap of an unbound file succeeded");
    expect_errno("mmap before a bind", std::io::Error::last_os_error().raw_os_error().unwrap_or(0), libc::EBADFD)?;
    expect_errno("an unknown ioctl", ioctl(&fd, 0x5699, std::ptr::null()), libc::ENOTTY)?;
    expect_errno("flags", bind_errno(&fd, Bind { flags: 1, ..good }), libc::EINVAL)?;
    expect_errno("no rings", bind_errno(&fd, Bind { rings: 0, ..good }), libc::EINVAL)?;
    expect_errno("too many rings", bind_errno(&fd, Bind { rings: channel::MAX_RINGS + 1, ..good }), libc::EINVAL)?;
    expect_errno("slots not a power of two", bind_errno(&fd, Bind { slots: 48, ..good }), libc::EINVAL)?;
    expect_errno("too many slots", bind_errno(&fd, Bind { slots: channel::MAX_SLOTS * 2, ..good }), libc::EINVAL)?;
    expect_errno("no such tenant", bind_errno(&fd, Bind { tenant_id: 999_999, ..good }), libc::ENOENT)?;
    expect_errno("a bad pointer", ioctl(&fd, BIND, 16 as *const u8), libc::EFAULT)?;

    // Without CAP_NET_ADMIN: a child gives up root and tries to bind the file root opened.
    // SAFETY: the child only makes system calls and exits.
    let pid = unsafe { libc::fork() };
    ensure!(pid >= 0, "fork: {}", std::io::Error::last_os_error());
    if pid == 0 {
        // SAFETY: plain system calls in the child; it never returns into Rust's runtime.
        unsafe {
            if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                libc::_exit(2);
            }
            let bytes = good.to_bytes();
            let rc = libc::ioctl(fd.as_raw_fd(), BIND as _, bytes.as_ptr());
            let errno = *libc::__errno_location();
            let unprivileged_open = libc::open(c"/dev/vdp".as_ptr(), libc::O_RDWR);
            let open_errno = *libc::__errno_location();
            libc::_exit(if rc < 0 && errno == libc::EPERM && unprivileged_open < 0 && open_errno == libc::EACCES { 0 } else { 1 });
        }
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    ensure!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "a bind without CAP_NET_ADMIN (or an open by nobody) was not refused (child status {status:#x})");
    println!("    a bind without CAP_NET_ADMIN: EPERM, and nobody's open: EACCES, as expected");

    expect_errno("a good bind", bind_errno(&fd, good), 0)?;
    expect_errno("a second bind of one file", bind_errno(&fd, good), libc::EBUSY)?;
    let size = Geometry::new(1, 64).map_err(|e| anyhow::anyhow!("{e:?}"))?.region_size();
    let attempts: [(&str, usize, i32, i32, libc::off_t, i32); 4] = [
        ("mmap longer than the region", size + 4096, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, 0, libc::EINVAL),
        ("mmap at an offset", 4096, libc::PROT_READ, libc::MAP_SHARED, 4096, libc::EINVAL),
        ("a private mmap", size, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE, 0, libc::EINVAL),
        ("an executable mmap", size, libc::PROT_READ | libc::PROT_EXEC, libc::MAP_SHARED, 0, libc::EPERM),
    ];
    for (what, len, prot, flags, offset, errno) in attempts {
        // SAFETY: a mapping attempt the kernel refuses.
        let ptr = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, fd.as_raw_fd(), offset) };
        ensure!(ptr == libc::MAP_FAILED, "{what} succeeded");
        expect_errno(what, std::io::Error::last_os_error().raw_os_error().unwrap_or(0), errno)?;
    }
    let map = map_channel(&fd, size)?;
    ensure!(map.load(HDR_MAGIC) == MAGIC, "the header's magic");
    // SAFETY: mprotect on our own mapping; refused for PROT_EXEC.
    let rc = unsafe { libc::mprotect(map.as_ptr().cast(), 4096, libc::PROT_READ | libc::PROT_EXEC) };
    ensure!(rc != 0, "mprotect to PROT_EXEC succeeded");
    println!("    mprotect to PROT_EXEC: refused as expected");
    // A part of the region may be mapped too.
    let first = map_channel(&fd, 4096)?;
    ensure!(first.load(HDR_MAGIC) == MAGIC, "the first page's magic");
    expect_errno("KICK on a bound file", ioctl(&fd, KICK, std::ptr::null()), 0)?;
    println!("refusals checked");
    Ok(())
}

fn replace(args: BindArgs) -> Result<()> {
    let first = bind(args)?;
    ensure!(poll(&first.fd, Duration::ZERO)? & libc::POLLHUP == 0, "EPOLLHUP before any replacement");
    let second = bind(args)?;
    let revents = poll(&first.fd, Duration::from_secs(5))?;
    ensure!(revents & libc::POLLHUP != 0, "the replaced file polls {revents:#x}, not EPOLLHUP");
    expect_errno("KICK on a replaced file", ioctl(&first.fd, KICK, std::ptr::null()), libc::EPIPE)?;
    ensure!(first.map.load(HDR_MAGIC) == MAGIC, "the replaced mapping no longer reads back");
    ensure!(poll(&second.fd, Duration::ZERO)? & libc::POLLHUP == 0, "the current file polls EPOLLHUP");
    kick(&second)?;
    println!("the replaced file got EPOLLHUP; the current one works");
    Ok(())
}

fn wait_hup(args: BindArgs, timeout: u64) -> Result<()> {
    let bound = bind(args)?;
    println!("bound");
    use std::io::Write;
    std::io::stdout().flush()?;
    let deadline = Instant::now() + Duration::from_secs(timeout);
    loop {
        ensure!(Instant::now() < deadline, "no EPOLLHUP in {timeout} s");
        if poll(&bound.fd, Duration::from_millis(200))? & libc::POLLHUP != 0 {
            break;
        }
    }
    ensure!(bound.map.load(HDR_MAGIC) == MAGIC, "the mapping no longer reads back after EPOLLHUP");
    // Still writable, and the kernel no longer looks.
    bound.map.store(control_word(bound.geometry, Direction::Up, 0, false), 7);
    expect_errno("KICK after EPOLLHUP", ioctl(&bound.fd, KICK, std::ptr::null()), libc::EPIPE)?;
    println!("EPOLLHUP; the mapping still reads back");
    Ok(())
}

fn memory_current(cgroup: &std::path::Path) -> Result<u64> {
    let path = cgroup.join("memory.current");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    text.trim().parse().with_context(|| format!("{}: {text:?}", path.display()))
}

fn charge(args: BindArgs, cgroup: &std::path::Path) -> Result<()> {
    let before = memory_current(cgroup)?;
    let bound = bind(args)?;
    let after = memory_current(cgroup)?;
    let size = bound.geometry.region_size() as u64;
    ensure!(after >= before + size, "{}: memory.current went from {before} to {after} for a region of {size} bytes", cgroup.display());
    println!("    a bind of {size} bytes raised memory.current by {}", after - before);
    let max = std::fs::read_to_string(cgroup.join("memory.max")).context("reading memory.max")?;
    let max: u64 = max.trim().parse().with_context(|| format!("memory.max is {max:?}, want a number"))?;
    let largest = Geometry::new(channel::MAX_RINGS, channel::MAX_SLOTS).map_err(|e| anyhow::anyhow!("{e:?}"))?;
    ensure!((largest.region_size() as u64) > max, "memory.max {max} leaves room for the largest region");
    let fd = open_device()?;
    let errno = bind_errno(&fd, Bind { tenant_id: args.tenant, rings: channel::MAX_RINGS, slots: channel::MAX_SLOTS, flags: 0 });
    expect_errno("a region past memory.max", errno, libc::ENOMEM)?;
    drop(bound);
    // The last close frees the region, and the cgroup gets its memory back.
    let deadline = Instant::now() + Duration::from_secs(5);
    while memory_current(cgroup)? > before + size / 2 {
        ensure!(Instant::now() < deadline, "memory.current is {} after the file closed, {before} before the bind", memory_current(cgroup)?);
        std::thread::sleep(Duration::from_millis(50));
    }
    println!("    closing the file gave the memory back");
    Ok(())
}

fn compile(system: &std::path::Path, config: &std::path::Path, output: &std::path::Path) -> Result<()> {
    let system = crate::frontend::read_system(system)?;
    let text = std::fs::read_to_string(config).with_context(|| format!("reading {}", config.display()))?;
    let options = vdp_click::merged_options(&system);
    let mut sources = vdp_click::source::Sources::new();
    let mut diagnostics = vdp_click::source::Diagnostics::default();
    let name = config.display().to_string();
    let (mut flat, _) = vdp_click::check_text(&mut sources, &name, &text, &options, &mut diagnostics);
    ensure!(!diagnostics.has_errors(), "{}", sources.render_all(&diagnostics));
    let (checked, _) = vdp_click::tasks::analyze_and_split(&mut flat, &options, system.limits.task_budget_cycles)
        .map_err(|found| anyhow::anyhow!("{}", sources.render_all(&found)))?;
    let blob = vdp_click::compile::compile(&checked, &system).context("compiling")?;
    vdp_click::compile::validate(&blob).map_err(|e| anyhow::anyhow!("the compiled graph fails its own validation: {e:?}"))?;
    std::fs::write(output, &blob).with_context(|| format!("writing {}", output.display()))?;
    Ok(())
}

pub fn run(command: &ChannelTestCommand) -> Result<ExitCode> {
    match command {
        ChannelTestCommand::Compile { system, config, output } => compile(system, config, output)?,
        ChannelTestCommand::Down { ring, count, data, paint, then } => down(ring.bind, ring.ring, *count, data, *paint, then)?,
        ChannelTestCommand::Hold { ring, then } => hold(ring.bind, ring.ring, then)?,
        ChannelTestCommand::Up { ring, count, size } => up(ring.bind, ring.ring, *count, *size)?,
        ChannelTestCommand::Hostile { bind, then } => hostile(*bind, then)?,
        ChannelTestCommand::Refuse { tenant } => refuse(*tenant)?,
        ChannelTestCommand::Replace { bind } => replace(*bind)?,
        ChannelTestCommand::Charge { bind, cgroup } => charge(*bind, cgroup)?,
        ChannelTestCommand::WaitHup { bind, timeout } => wait_hup(*bind, *timeout)?,
    }
    Ok(ExitCode::SUCCESS)
}
