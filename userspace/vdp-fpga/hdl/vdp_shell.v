// vdp_shell: the store-and-forward core every packet-editing element of vdp's FPGA level is
// built on (docs/fpga.md). It takes one packet on its input stream into a buffer, captures W
// bytes of it from a position the element chooses (c_wstart) into a window, and, once the
// packet has ended, asks the element for one decision (d_fire). The decision says whether to
// drop the packet and otherwise which output it leaves by, and how its bytes change: d_ins zero
// bytes in front, the input's bytes from d_cut up to d_keep, and the window d_wout written over
// the result from output position d_wpos where d_wmask has a bit. Then it sends the packet.
// Two buffers: the next packet comes in while the last one goes out.
`default_nettype none
module vdp_shell #(
    parameter W = 1,          // window bytes
    parameter DEPTH = 256,    // buffer words (64 bits) per packet
    parameter MW = 74         // metadata bits (docs/fpga.md)
) (
    input  wire clk,
    input  wire rst,
    input  wire [63:0]   i_data,
    input  wire          i_valid,
    output wire          i_ready,
    input  wire          i_sop,
    input  wire          i_eop,
    input  wire [3:0]    i_bytes,
    input  wire [MW-1:0] i_meta,
    output reg  [63:0]   o_data,
    output wire          o_valid,
    input  wire          o_ready,
    output wire          o_sop,
    output wire          o_eop,
    output wire [3:0]    o_bytes,
    output wire [MW-1:0] o_meta,
    output wire [15:0]   o_port,
    // the element's side
    output wire [MW-1:0] c_meta,
    input  wire [15:0]   c_wstart,
    output wire [8*W-1:0] d_win,
    output wire [15:0]   d_have,
    output wire [15:0]   d_len,
    output wire [MW-1:0] d_meta,
    output wire          d_fire,
    input  wire          d_drop,
    input  wire [15:0]   d_port,
    input  wire [15:0]   d_cut,
    input  wire [15:0]   d_ins,
    input  wire [15:0]   d_keep,
    input  wire [15:0]   d_wpos,
    input  wire [8*W-1:0] d_wout,
    input  wire [W-1:0]  d_wmask,
    input  wire [MW-1:0] d_meta_out,
    output wire          idle
);
    localparam AB = $clog2(DEPTH) + 1;

    reg [63:0] mem0 [0:DEPTH-1];
    reg [63:0] mem1 [0:DEPTH-1];

    // receive side: which buffer, how far
    reg          rx_buf;
    reg [15:0]   rx_words;
    reg          rx_ovf;
    reg [MW-1:0] rx_meta;
    reg [15:0]   rx_wstart;
    reg [8*W-1:0] rx_win;
    // a received packet waiting for its decision
    reg          dec_pending;
    reg [15:0]   dec_len;
    // decided packets: one per buffer
    reg          full [0:1];
    reg [15:0]   s_port [0:1];
    reg [15:0]   s_cut [0:1];
    reg [15:0]   s_ins [0:1];
    reg [15:0]   s_len [0:1];
    reg [15:0]   s_wpos [0:1];
    reg [8*W-1:0] s_wout [0:1];
    reg [W-1:0]  s_wmask [0:1];
    reg [MW-1:0] s_meta [0:1];
    // send side
    reg          tx_buf;
    reg [15:0]   tx_words;

    assign i_ready = !dec_pending && !full[rx_buf];
    assign c_meta = (rx_words == 16'd0) ? i_meta : rx_meta;
    wire [15:0] wstart = (rx_words == 16'd0) ? c_wstart : rx_wstart;

    wire [15:0] have_raw = (dec_len > rx_wstart) ? dec_len - rx_wstart : 16'd0;
    assign d_have = (have_raw > W) ? W : have_raw;
    assign d_win = rx_win;
    assign d_len = dec_len;
    assign d_meta = rx_meta;
    assign d_fire = dec_pending;

    wire [15:0] keep = (d_keep < dec_len) ? d_keep : dec_len;
    wire [15:0] kept = (keep > d_cut) ? keep - d_cut : 16'd0;
    wire [15:0] out_len = d_ins + kept;

    integer i, j;
    always @(posedge clk) begin
        if (rst) begin
            rx_buf <= 1'b0;
            rx_words <= 16'd0;
            rx_ovf <= 1'b0;
            dec_pending <= 1'b0;
            full[0] <= 1'b0;
            full[1] <= 1'b0;
            tx_buf <= 1'b0;
            tx_words <= 16'd0;
        end else begin
            if (i_valid && i_ready) begin
                if (rx_words < DEPTH) begin
                    if (rx_buf) mem1[rx_words[AB-2:0]] <= i_data;
                    else mem0[rx_words[AB-2:0]] <= i_data;
                end else begin
                    rx_ovf <= 1'b1;
                end
                if (rx_words == 16'd0) begin
                    rx_meta <= i_meta;
                    rx_wstart <= c_wstart;
                end
                for (i = 0; i < W; i = i + 1) begin
                    if (((wstart + i) >> 3) == {16'd0, rx_words}
                        && (!i_eop || ((wstart + i) & 7) < i_bytes))
                        rx_win[8*i +: 8] <= i_data[8*((wstart + i) & 7) +: 8];
                end
                if (i_eop) begin
                    dec_pending <= 1'b1;
                    dec_len <= {rx_words[12:0], 3'b000} + {12'd0, i_bytes};
                end
                rx_words <= i_eop ? 16'd0 : rx_words + 16'd1;
            end
            if (dec_pending) begin
                dec_pending <= 1'b0;
                rx_ovf <= 1'b0;
                rx_win <= {(8*W){1'b0}};
                if (!(d_drop || rx_ovf)) begin
                    full[rx_buf] <= 1'b1;
                    s_port[rx_buf] <= d_port;
                    s_cut[rx_buf] <= d_cut;
                    s_ins[rx_buf] <= d_ins;
                    s_len[rx_buf] <= out_len;
                    s_wpos[rx_buf] <= d_wpos;
                    s_wout[rx_buf] <= d_wout;
                    s_wmask[rx_buf] <= d_wmask;
                    s_meta[rx_buf] <= d_meta_out;
                    rx_buf <= !rx_buf;
                end
            end
            if (o_valid && o_ready) begin
                if (o_eop) begin
                    full[tx_buf] <= 1'b0;
                    tx_buf <= !tx_buf;
                    tx_words <= 16'd0;
                end else begin
                    tx_words <= tx_words + 16'd1;
                end
            end
        end
    end

    // send side: output byte p of the packet is a zero (p < ins), or input byte cut + p - ins,
    // unless the window covers it.
    wire [15:0] t_len = s_len[tx_buf];
    wire [15:0] t_ins = s_ins[tx_buf];
    wire [15:0] t_cut = s_cut[tx_buf];
    wire [15:0] t_wpos = s_wpos[tx_buf];
    wire [8*W-1:0] t_wout = s_wout[tx_buf];
    wire [W-1:0] t_wmask = s_wmask[tx_buf];
    wire [19:0] p0 = {1'b0, tx_words, 3'b000};
    wire signed [20:0] src0 = $signed({1'b0, p0}) + $signed({5'd0, t_cut}) - $signed({5'd0, t_ins});
    wire signed [20:0] w0 = src0 >>> 3;
    wire [AB-2:0] a0 = w0[AB-2:0];
    wire [AB-2:0] a1 = a0 + 1'b1;
    wire [63:0] m0 = tx_buf ? mem1[a0] : mem0[a0];
    wire [63:0] m1 = tx_buf ? mem1[a1] : mem0[a1];
    wire [15:0] left = t_len - {tx_words[12:0], 3'b000};
    assign o_valid = full[tx_buf];
    assign o_sop = (tx_words == 16'd0);
    assign o_eop = (left <= 16'd8);
    assign o_bytes = o_eop ? left[3:0] : 4'd8;
    assign o_port = s_port[tx_buf];
    assign o_meta = s_meta[tx_buf];
    reg signed [20:0] s;
    reg [19:0] p;
    always @* begin
        o_data = 64'd0;
        for (j = 0; j < 8; j = j + 1) begin
            p = p0 + j;
            s = src0 + j;
            if (p < {4'd0, t_len} && s >= 0) begin
                if ((s >>> 3) == w0) o_data[8*j +: 8] = m0[8*(s[2:0]) +: 8];
                else o_data[8*j +: 8] = m1[8*(s[2:0]) +: 8];
            end
            for (i = 0; i < W; i = i + 1) begin
                if (p == {4'd0, t_wpos} + i && t_wmask[i]) o_data[8*j +: 8] = t_wout[8*i +: 8];
            end
        end
    end

    assign idle = !dec_pending && !full[0] && !full[1] && rx_words == 16'd0;
endmodule
`default_nettype wire
