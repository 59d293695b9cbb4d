// SPDX-License-Identifier: GPL-2.0
/*
 * Instantiates vdp's tracepoints (vdp_trace.h): the events, their tracefs files, and the
 * rust_do_trace_<event>() functions kmod/sys/trace.rs calls once it has seen the event enabled.
 */
#define CREATE_TRACE_POINTS
#define CREATE_RUST_TRACE_POINTS
#include "vdp_trace.h"
