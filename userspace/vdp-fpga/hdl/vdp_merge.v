// vdp_merge: several connections into one input port (Click lets a push input have many
// upstream connections). Whole packets pass one at a time; when several wait, the lowest
// numbered input that is not the last one served goes first (round robin).
`default_nettype none
module vdp_merge #(
    parameter N = 2,
    parameter MW = 74
) (
    input  wire clk,
    input  wire rst,
    input  wire [64*N-1:0] i_data,
    input  wire [N-1:0]    i_valid,
    output reg  [N-1:0]    i_ready,
    input  wire [N-1:0]    i_sop,
    input  wire [N-1:0]    i_eop,
    input  wire [4*N-1:0]  i_bytes,
    input  wire [MW*N-1:0] i_meta,
    output wire [63:0]     o_data,
    output wire            o_valid,
    input  wire            o_ready,
    output wire            o_sop,
    output wire            o_eop,
    output wire [3:0]      o_bytes,
    output wire [MW-1:0]   o_meta
);
    localparam SB = (N > 1) ? $clog2(N) : 1;
    reg [SB-1:0] sel;
    reg          busy;
    reg [SB-1:0] last;
    reg [SB-1:0] pick;
    reg          found;
    integer k, c;
    always @* begin
        found = 1'b0;
        pick = last;
        for (k = 1; k <= N; k = k + 1) begin
            c = (last + k) % N;
            if (!found && i_valid[c]) begin
                found = 1'b1;
                pick = c[SB-1:0];
            end
        end
    end
    wire [SB-1:0] cur = busy ? sel : pick;
    wire active = busy || found;
    assign o_data = i_data[64*cur +: 64];
    assign o_valid = active && i_valid[cur];
    assign o_sop = i_sop[cur];
    assign o_eop = i_eop[cur];
    assign o_bytes = i_bytes[4*cur +: 4];
    assign o_meta = i_meta[MW*cur +: MW];
    always @* begin
        i_ready = {N{1'b0}};
        if (active) i_ready[cur] = o_ready;
    end
    always @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0;
            sel <= {SB{1'b0}};
            last <= N - 1;
        end else if (o_valid && o_ready) begin
            if (o_eop) begin
                busy <= 1'b0;
                last <= cur;
            end else begin
                busy <= 1'b1;
                sel <= cur;
            end
        end
    end
endmodule
`default_nettype wire
