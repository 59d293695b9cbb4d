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
    parameter WW = 0,         // bytes at the window's start the decision may write back (0: none)
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
    localparam AB = $clog2(DEPTH) + 1;   // buffer-word address bits, with the buffer's bit

    // Both buffers in one memory (the buffer's number is the address's top bit): one write
    // port (receive) and one registered read port (send), which synthesis maps to block RAM.
    reg [63:0] mem [0:2*DEPTH-1];

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
    reg  [1:0]   full;
    reg  [1:0]   fetched;      // a decided packet's words have all been fetched
    reg [15:0]   s_port [0:1];
    reg [15:0]   s_cut [0:1];
    reg [15:0]   s_ins [0:1];
    reg [15:0]   s_len [0:1];
    // the written window, stored shifted to its place in output words: EWW words from
    // output word s_wword
    localparam WB = (WW > 0) ? WW : 1;
    localparam EWW = (WB + 7 + 7) / 8;
    reg [15:0]   s_wword [0:1];
    reg [64*EWW-1:0] s_wout [0:1];
    reg [8*EWW-1:0] s_wmask [0:1];
    wire [64*EWW-1:0] e_out = {{(64*EWW-8*WB){1'b0}}, d_wout[8*WB-1:0]} << {d_wpos[2:0], 3'b000};
    wire [8*EWW-1:0] e_mask = (WW > 0) ? {{(8*EWW-WB){1'b0}}, d_wmask[WB-1:0]} << d_wpos[2:0] : {(8*EWW){1'b0}};
    reg [MW-1:0] s_meta [0:1];

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

    wire take = i_valid && i_ready;
    always @(posedge clk) begin
        if (take && rx_words < DEPTH) mem[{rx_buf, rx_words[AB-2:0]}] <= i_data;
    end

    // Window byte i comes from lane j of the word being received when the word's stream
    // position plus j minus the window's start is i.
    // Window byte i is stream byte wstart + i: lane (wstart + i) mod 8 of the word
    // wstart / 8 + (wstart mod 8 + i) / 8, which is byte i mod 8 of the word rotated by
    // wstart mod 8.
    wire [2:0]   ws_lane = wstart[2:0];
    wire [15:0]  ws_rel = rx_words - (wstart >> 3);   // this word, from the window's first
    wire [127:0] ws_pair = {i_data, i_data} >> {ws_lane, 3'b000};
    wire [63:0]  ws_rot = ws_pair[63:0];
    integer i, j;

    // send side: words are fetched from the buffer in order (source word f0 + k of the
    // packet, with f0 = floor((cut - ins) / 8)), and output word k is made of source words
    // k and k + 1 shifted by (cut - ins) mod 8, into a small FIFO the output reads.
    reg          f_buf;        // the buffer being fetched
    reg          tx_buf;       // the buffer whose packet the output sends
    reg          f_busy;
    reg [15:0]   f_idx;        // next source word to fetch, relative to f0
    wire [15:0]  f_len = s_len[f_buf];
    wire [15:0]  f_words = (f_len == 16'd0) ? 16'd1 : (f_len + 16'd7) >> 3;   // output words
    wire signed [17:0] f_delta = $signed({2'b00, s_cut[f_buf]}) - $signed({2'b00, s_ins[f_buf]});
    wire signed [17:0] f_first = f_delta >>> 3;
    wire signed [17:0] f_word = f_first + $signed({2'b00, f_idx});
    reg          r_valid;      // a fetched word arrives
    reg          r_zero;       // it lies before the stream's start
    reg          r_buf;
    reg [15:0]   r_idx;
    reg [63:0]   r_data;
    reg [63:0]   prev;
    // the output FIFO: {sop, eop, bytes, data}
    reg [69:0]   q [0:3];
    reg [2:0]    q_wr, q_rd;
    wire [2:0]   q_count = q_wr - q_rd;
    wire         produces = r_valid && r_idx != 16'd0;
    wire         fetch = f_busy && (f_idx == 16'd0 || q_count + (produces ? 3'd1 : 3'd0) < 3'd4);
    always @(posedge clk) begin
        if (fetch) r_data <= mem[{f_buf, f_word[AB-2:0]}];
    end

    // What a fetched word makes, once its successor is in: output word k = r_idx - 1.
    wire [15:0]  t_len = s_len[r_buf];
    wire [15:0]  t_wk = t_k - s_wword[r_buf];        // this word, from the window's first
    wire [64*EWW-1:0] t_wout = s_wout[r_buf];
    wire [8*EWW-1:0] t_wmask = s_wmask[r_buf];
    wire signed [17:0] t_delta = $signed({2'b00, s_cut[r_buf]}) - $signed({2'b00, s_ins[r_buf]});
    wire [2:0]   t_shift = t_delta[2:0];
    wire [15:0]  t_k = r_idx - 16'd1;
    wire [15:0]  t_p0 = {t_k[12:0], 3'b000};
    wire [15:0]  t_left = t_len - t_p0;
    wire         t_eop = (t_left <= 16'd8);
    wire [63:0]  t_next = r_zero ? 64'd0 : r_data;
    wire [127:0] t_pair = {t_next, prev} >> {t_shift, 3'b000};
    reg  [63:0]  t_data;
    always @* begin
        for (j = 0; j < 8; j = j + 1) begin
            t_data[8*j +: 8] = (t_p0 + j < t_len) ? t_pair[8*j +: 8] : 8'd0;
            for (i = 0; i < EWW; i = i + 1) begin
                if (WW > 0 && t_wk == i && t_wmask[8*i + j]) t_data[8*j +: 8] = t_wout[64*i + 8*j +: 8];
            end
        end
    end

    wire [69:0]  head = q[q_rd[1:0]];
    assign o_valid = (q_count != 3'd0);
    assign o_sop = head[69];
    assign o_eop = head[68];
    assign o_bytes = head[67:64];
    assign o_meta = s_meta[tx_buf];
    assign o_port = s_port[tx_buf];
    always @* o_data = head[63:0];

    always @(posedge clk) begin
        if (rst) begin
            rx_buf <= 1'b0;
            rx_words <= 16'd0;
            rx_ovf <= 1'b0;
            dec_pending <= 1'b0;
            full <= 2'b00;
            fetched <= 2'b00;
            tx_buf <= 1'b0;
            f_buf <= 1'b0;
            f_busy <= 1'b0;
            f_idx <= 16'd0;
            r_valid <= 1'b0;
            q_wr <= 3'd0;
            q_rd <= 3'd0;
        end else begin
            if (take) begin
                if (rx_words >= DEPTH) rx_ovf <= 1'b1;
                if (rx_words == 16'd0) begin
                    rx_meta <= i_meta;
                    rx_wstart <= c_wstart;
                end
                for (i = 0; i < W; i = i + 1) begin
                    if (ws_rel == (i >> 3) + ((ws_lane + (i & 7)) >> 3)
                        && (!i_eop || ((ws_lane + (i & 7)) & 7) < i_bytes))
                        rx_win[8*i +: 8] <= ws_rot[8*(i & 7) +: 8];
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
                    s_wword[rx_buf] <= d_wpos >> 3;
                    s_wout[rx_buf] <= e_out;
                    s_wmask[rx_buf] <= e_mask;
                    s_meta[rx_buf] <= d_meta_out;
                    rx_buf <= !rx_buf;
                end
            end
            // fetch: a packet's source words 0 .. f_words, one a cycle while the FIFO has room
            if (!f_busy) begin
                if (full[f_buf] && !fetched[f_buf]) begin
                    f_busy <= 1'b1;
                    f_idx <= 16'd0;
                end
            end else if (fetch) begin
                if (f_idx == f_words) begin
                    f_busy <= 1'b0;
                    fetched[f_buf] <= 1'b1;
                    f_buf <= !f_buf;
                end
                f_idx <= f_idx + 16'd1;
            end
            r_valid <= fetch;
            r_zero <= f_word < 0;
            r_buf <= f_buf;
            r_idx <= f_idx;
            if (r_valid) prev <= r_zero ? 64'd0 : r_data;
            if (produces) begin
                q[q_wr[1:0]] <= {t_k == 16'd0, t_eop, t_eop ? t_left[3:0] : 4'd8, t_data};
                q_wr <= q_wr + 3'd1;
            end
            if (o_valid && o_ready) begin
                q_rd <= q_rd + 3'd1;
                if (o_eop) begin
                    full[tx_buf] <= 1'b0;
                    fetched[tx_buf] <= 1'b0;
                    tx_buf <= !tx_buf;
                end
            end
        end
    end

    assign idle = !dec_pending && full == 2'b00 && rx_words == 16'd0;
endmodule
`default_nettype wire
