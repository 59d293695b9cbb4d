// The testbench of vdp's FPGA level (docs/fpga.md, "Simulation"): drives vdp_top's ingress
// ports from pcap files, writes what each egress port emits to pcap files, and serves handler
// register reads and writes on a unix socket.
//
//   vdp_sim [--in PORT=FILE]... [--out PORT=FILE]... [--stream] [--stats FILE] [--serve SOCKET]
//
// By default packets go in one at a time in capture-time order (ties: in argument order),
// each once the design is idle again, which is how the software engine runs a packet through
// its push path before the next. --stream sends each port's packets back to back instead (for
// throughput); --stats writes the cycle counts.
#include "Vvdp_top.h"
#include "verilated.h"
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>
#include <algorithm>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "ports.h"

struct Packet { uint64_t ts_ns; int port; size_t order; std::vector<uint8_t> bytes; };

static void die(const std::string& m) { fprintf(stderr, "vdp_sim: %s\n", m.c_str()); exit(2); }

static uint32_t rd32(const uint8_t* p, bool swap) {
    uint32_t v; memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

static void read_pcap(const std::string& path, int port, std::vector<Packet>& out) {
    FILE* f = fopen(path.c_str(), "rb");
    if (!f) die("cannot open " + path);
    uint8_t gh[24];
    if (fread(gh, 1, 24, f) != 24) die(path + ": no pcap header");
    uint32_t magic; memcpy(&magic, gh, 4);
    bool swap = false, nano = false;
    if (magic == 0xa1b2c3d4) {} else if (magic == 0xd4c3b2a1) swap = true;
    else if (magic == 0xa1b23c4d) nano = true; else if (magic == 0x4d3cb2a1) { swap = true; nano = true; }
    else die(path + ": not a pcap file");
    uint8_t rh[16];
    while (fread(rh, 1, 16, f) == 16) {
        uint32_t sec = rd32(rh, swap), frac = rd32(rh + 4, swap), incl = rd32(rh + 8, swap);
        if (incl > 65535) die(path + ": record too long");
        Packet p; p.port = port; p.order = out.size();
        p.ts_ns = (uint64_t)sec * 1000000000ull + (nano ? frac : (uint64_t)frac * 1000ull);
        p.bytes.resize(incl);
        if (incl && fread(p.bytes.data(), 1, incl, f) != incl) die(path + ": truncated record");
        out.push_back(std::move(p));
    }
    fclose(f);
}

struct Output { int port; std::string path; std::vector<std::pair<uint64_t, std::vector<uint8_t>>> frames; std::vector<uint8_t> cur; };

static Vvdp_top* top;
static uint64_t cycle = 0;
static std::vector<Output> outputs;
static int egress_of[64];
static uint64_t first_in = 0, last_out = 0;
static bool seen_in = false;

static void tick() {
    top->clk = 0; top->eval();
    // Egress words are taken on the rising edge: sample before it.
    for (int p = 0; p < VDP_EGRESS_PORTS; p++) {
        VdpEgress e = vdp_egress(top, p);
        if (!e.valid) continue;
        int o = egress_of[p];
        if (o < 0) continue;
        Output& out = outputs[o];
        if (e.sop) out.cur.clear();
        unsigned n = e.eop ? e.bytes : 8;
        for (unsigned j = 0; j < n; j++) out.cur.push_back((uint8_t)(e.data >> (8 * j)));
        if (e.eop) { out.frames.push_back({cycle, out.cur}); out.cur.clear(); last_out = cycle; }
    }
    top->clk = 1; top->eval();
    cycle++;
}

// Sends one packet's words on `port`; returns once the last word was taken.
static void send_words(int port, const std::vector<uint8_t>& b) {
    size_t words = b.empty() ? 1 : (b.size() + 7) / 8;
    for (size_t w = 0; w < words; w++) {
        uint64_t d = 0;
        unsigned n = 0;
        for (unsigned j = 0; j < 8 && w * 8 + j < b.size(); j++, n++) d |= (uint64_t)b[w * 8 + j] << (8 * j);
        bool eop = (w + 1 == words);
        vdp_set_ingress(top, port, d, true, w == 0, eop, eop ? n : 8);
        for (;;) {
            top->clk = 0; top->eval();
            bool ready = vdp_ingress_ready(top, port);
            if (!seen_in) { seen_in = true; first_in = cycle; }
            tick();
            if (ready) break;
            if (cycle > 2000000000ull) die("ingress never ready");
        }
    }
    vdp_set_ingress(top, port, 0, false, false, false, 0);
}

static void settle() {
    int quiet = 0;
    uint64_t start = cycle;
    while (quiet < 4) {
        tick();
        top->eval();
        quiet = top->idle ? quiet + 1 : 0;
        if (cycle - start > 10000000ull) die("the design never became idle");
    }
}

static uint32_t bus(bool write, uint32_t addr, uint32_t value, bool* err) {
    top->h_valid = 1; top->h_write = write; top->h_addr = addr; top->h_wdata = value;
    tick();
    top->h_valid = 0; top->h_write = 0;
    top->clk = 0; top->eval();
    *err = top->h_err;
    uint32_t data = top->h_rdata;
    tick();
    return data;
}

static void write_pcap(const Output& o) {
    std::string tmp = o.path + ".tmp";
    FILE* f = fopen(tmp.c_str(), "wb");
    if (!f) die("cannot write " + o.path);
    uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    fwrite(gh, 4, 6, f);
    for (auto& fr : o.frames) {
        // The time stamp is the cycle the frame ended, at 1 ns a cycle.
        uint32_t rh[4] = {(uint32_t)(fr.first / 1000000000ull), (uint32_t)(fr.first % 1000000000ull / 1000), (uint32_t)fr.second.size(), (uint32_t)fr.second.size()};
        fwrite(rh, 4, 4, f);
        fwrite(fr.second.data(), 1, fr.second.size(), f);
    }
    if (fclose(f) != 0 || rename(tmp.c_str(), o.path.c_str()) != 0) die("cannot write " + o.path);
}

static void serve(const std::string& path) {
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    sockaddr_un a{}; a.sun_family = AF_UNIX;
    if (path.size() >= sizeof(a.sun_path)) die("socket path too long");
    strcpy(a.sun_path, path.c_str());
    unlink(path.c_str());
    if (bind(s, (sockaddr*)&a, sizeof a) != 0 || listen(s, 4) != 0) die("cannot listen on " + path);
    for (;;) {
        int c = accept(s, nullptr, nullptr);
        if (c < 0) continue;
        FILE* in = fdopen(c, "r+");
        char line[256];
        bool quit = false;
        while (fgets(line, sizeof line, in)) {
            char op[8]; unsigned long addr = 0, value = 0;
            int n = sscanf(line, "%7s %lu %lu", op, &addr, &value);
            bool err = false;
            if (n >= 1 && !strcmp(op, "quit")) { fprintf(in, "ok\n"); fflush(in); quit = true; break; }
            if (n == 2 && !strcmp(op, "r")) {
                uint32_t v = bus(false, (uint32_t)addr, 0, &err);
                if (err) fprintf(in, "err no element at %lu\n", addr); else fprintf(in, "ok %u\n", v);
            } else if (n == 3 && !strcmp(op, "w")) {
                bus(true, (uint32_t)addr, (uint32_t)value, &err);
                if (err) fprintf(in, "err no element at %lu\n", addr); else fprintf(in, "ok\n");
            } else {
                fprintf(in, "err bad request\n");
            }
            fflush(in);
        }
        fclose(in);
        if (quit) break;
    }
    close(s);
    unlink(path.c_str());
}

int main(int argc, char** argv) {
    Verilated::commandArgs(argc, argv);
    std::vector<Packet> packets;
    std::string socket_path, stats_path;
    bool stream = false;
    for (int p = 0; p < 64; p++) egress_of[p] = -1;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto value = [&](void) { if (i + 1 >= argc) die(a + " needs a value"); return std::string(argv[++i]); };
        if (a == "--in" || a == "--out") {
            std::string v = value();
            size_t eq = v.find('=');
            if (eq == std::string::npos) die(a + " takes PORT=FILE");
            int port = atoi(v.substr(0, eq).c_str());
            if (a == "--in") {
                if (port < 0 || port >= VDP_INGRESS_PORTS) die("no ingress port " + v.substr(0, eq));
                read_pcap(v.substr(eq + 1), port, packets);
            } else {
                if (port < 0 || port >= VDP_EGRESS_PORTS) die("no egress port " + v.substr(0, eq));
                egress_of[port] = (int)outputs.size();
                outputs.push_back(Output{port, v.substr(eq + 1), {}, {}});
            }
        } else if (a == "--serve") socket_path = value();
        else if (a == "--stats") stats_path = value();
        else if (a == "--stream") stream = true;
        else if (a.rfind("+verilator", 0) == 0) {}
        else die("unknown argument " + a);
    }
    top = new Vvdp_top;
    for (int p = 0; p < VDP_EGRESS_PORTS; p++) vdp_egress_ready(top, p, true);
    top->rst = 1;
    for (int k = 0; k < 4; k++) tick();
    top->rst = 0;
    tick();
    std::stable_sort(packets.begin(), packets.end(), [](const Packet& a, const Packet& b) { return a.ts_ns < b.ts_ns; });
    uint64_t bytes_in = 0;
    if (stream) {
        // Back to back on each port (one port at a time keeps the testbench simple).
        for (auto& p : packets) { send_words(p.port, p.bytes); bytes_in += p.bytes.size(); }
    } else {
        for (auto& p : packets) { send_words(p.port, p.bytes); bytes_in += p.bytes.size(); settle(); }
    }
    settle();
    for (auto& o : outputs) write_pcap(o);
    if (!stats_path.empty()) {
        FILE* f = fopen(stats_path.c_str(), "w");
        if (!f) die("cannot write " + stats_path);
        size_t frames = 0; uint64_t bytes_out = 0;
        for (auto& o : outputs) for (auto& fr : o.frames) { frames++; bytes_out += fr.second.size(); }
        fprintf(f, "{\"packets_in\": %zu, \"bytes_in\": %llu, \"frames_out\": %zu, \"bytes_out\": %llu, \"first_in_cycle\": %llu, \"last_out_cycle\": %llu, \"cycles\": %llu}\n",
                packets.size(), (unsigned long long)bytes_in, frames, (unsigned long long)bytes_out,
                (unsigned long long)first_in, (unsigned long long)last_out, (unsigned long long)cycle);
        fclose(f);
    }
    if (!socket_path.empty()) {
        // Tells whoever started us that the packets are through and the socket is up.
        serve(socket_path);
    }
    top->final();
    delete top;
    return 0;
}
