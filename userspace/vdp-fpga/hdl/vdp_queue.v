// vdp_queue: Click's Queue as a packet FIFO in block RAM. A packet is taken whole or dropped
// whole when it starts: dropped (and counted) when CAPACITY packets are stored, or when the
// word memory has no room for a packet of the largest size (MAXW words). The output sends the
// oldest packet's words as they are stored.
`default_nettype none
module vdp_queue #(
    parameter CAPACITY = 16,
    parameter MAXW = 192,     // words of the largest packet
    parameter AW = 12,        // log2 of the word memory's depth
    parameter CB = 5,         // bits of a packet count (CAPACITY fits)
    parameter MW = 74
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
    output wire [63:0]   o_data,
    output wire          o_valid,
    input  wire          o_ready,
    output wire          o_sop,
    output wire          o_eop,
    output wire [3:0]    o_bytes,
    output wire [MW-1:0] o_meta,
    output reg  [CB-1:0] length,
    output reg  [CB-1:0] highwater,
    output reg  [63:0]   drops,
    input  wire          reset_counts,
    output wire          idle
);
    localparam DEPTH = 1 << AW;
    // Words and descriptors in memories with registered reads (block RAM); a small FIFO in
    // front of the output holds what was read.
    reg [68:0] words [0:DEPTH-1];     // {eop, bytes, data}
    reg [MW-1:0] metas [0:CAPACITY-1];
    reg [AW:0] wr, rd;                // word pointers (rd: the next word to read out)
    reg [CB-1:0] mw, mr;              // descriptor pointers (mr: the packet being read out)
    reg          taking;              // inside a packet that was taken
    reg          dropping;            // inside a packet that was dropped
    reg [CB-1:0] stored;              // packets wholly or partly in memory or the FIFO
    wire [AW:0] used = wr - rd;
    wire room = (DEPTH - used) >= MAXW && stored < CAPACITY;
    wire start = i_valid && i_sop && !taking && !dropping;
    wire accept_word = i_valid && (taking || dropping || start);
    assign i_ready = 1'b1;
    wire take_this = taking || (start && room);
    wire in_sop_taken = start && room;
    always @(posedge clk) begin
        if (accept_word && take_this) words[wr[AW-1:0]] <= {i_eop, i_bytes, i_data};
        if (in_sop_taken) metas[mw] <= i_meta;
    end
    // read side
    reg          r_valid;
    reg [68:0]   r_word;
    reg [68:0]   fq [0:3];
    // the descriptor of the packet at the output, read from memory; m_ok once it is in
    reg [MW-1:0] m_out;
    reg          m_ok;
    reg [2:0]    f_wr, f_rd;
    wire [2:0]   f_count = f_wr - f_rd;
    wire         read = (wr != rd) && f_count + (r_valid ? 3'd1 : 3'd0) < 3'd4;
    always @(posedge clk) begin
        if (read) r_word <= words[rd[AW-1:0]];
        m_out <= metas[mr];
    end
    wire [68:0] head = fq[f_rd[1:0]];
    assign o_valid = (f_count != 3'd0) && m_ok;
    assign o_data = head[63:0];
    assign o_bytes = head[67:64];
    assign o_eop = head[68];
    reg out_mid;
    assign o_sop = !out_mid;
    assign o_meta = m_out;
    wire out_eop = o_valid && o_ready && o_eop;
    always @(posedge clk) begin
        if (rst) begin
            wr <= 0; rd <= 0; mw <= 0; mr <= 0;
            taking <= 1'b0; dropping <= 1'b0; stored <= 0;
            length <= 0; highwater <= 0; drops <= 64'd0; out_mid <= 1'b0;
            r_valid <= 1'b0; f_wr <= 3'd0; f_rd <= 3'd0; m_ok <= 1'b0;
        end else begin
            if (accept_word) begin
                if (take_this) begin
                    wr <= wr + 1'b1;
                    if (start) mw <= (mw == CAPACITY - 1) ? 0 : mw + 1'b1;
                    taking <= !i_eop;
                end else begin
                    dropping <= !i_eop;
                end
            end
            if (start && !room) drops <= drops + 64'd1;
            r_valid <= read;
            if (read) rd <= rd + 1'b1;
            if (r_valid) begin
                fq[f_wr[1:0]] <= r_word;
                f_wr <= f_wr + 3'd1;
            end
            if (o_valid && o_ready) begin
                f_rd <= f_rd + 3'd1;
                out_mid <= !o_eop;
            end
            // after a packet's last word the next descriptor is read: a cycle without output
            if (out_eop) begin
                mr <= (mr == CAPACITY - 1) ? 0 : mr + 1'b1;
                m_ok <= 1'b0;
            end else begin
                m_ok <= 1'b1;
            end
            stored <= stored + (in_sop_taken ? 1'b1 : 1'b0) - (out_eop ? 1'b1 : 1'b0);
            length <= stored + (in_sop_taken ? 1'b1 : 1'b0) - (out_eop ? 1'b1 : 1'b0);
            if (reset_counts) begin
                drops <= 64'd0;
                highwater <= stored;
            end else if (stored + (in_sop_taken ? 1'b1 : 1'b0) > highwater)
                highwater <= stored + (in_sop_taken ? 1'b1 : 1'b0);
        end
    end
    assign idle = (wr == rd) && !taking && !r_valid && f_count == 3'd0;
endmodule
`default_nettype wire
