# perf script -F comm,ip,sym output (recorded with -g) -> share of samples
# per cost category. The first rule that matches any frame of a sample's
# call chain wins, in the order below.
function classify(   i) {
	for (i = 1; i <= n; i++) if (st[i] ~ /^(f_show|tracefs_local_events|tep_parse|load_tep|tracefs_event_file_read|record_format)/) return "setup: reading event formats"
	for (i = 1; i <= n; i++) if (st[i] ~ /^(tracing_buffers_read|ring_buffer_read_page)/) return "read(): copy a sub-buffer out of trace_pipe_raw"
	for (i = 1; i <= n; i++) if (st[i] ~ /^(ext4_|generic_perform_write|iomap_|io_write|vfs_write|file_write|io_fsync|vfs_fsync|filemap_|fallocate|vfs_fallocate)/) return "write(): ring file into the page cache / fsync"
	for (i = 1; i <= n; i++) if (st[i] ~ /^(io_arm_apoll|__io_arm_poll_handler|io_poll_|io_file_supports_nowait|ring_buffer_poll_wait|rb_watermark_hit|tracing_buffers_poll|io_apoll_|io_async_cancel|io_try_cancel|io_cancel)/) return "io_uring: poll arm/retry/cancel on trace_pipe_raw"
	for (i = 1; i <= n; i++) if (st[i] ~ /^(tctx_task_work|io_handle_tw_list|io_run_task_work|task_work_run|io_req_task_)/) return "io_uring: task work (other)"
	if (comm ~ /^iou-wrk/) return "io-wq worker (other: wait, wakeup)"
	for (i = 1; i <= n; i++) if (st[i] ~ /^uev_crc32c/) return "user: CRC-32C of ring records"
	for (i = 1; i <= n; i++) if (st[i] ~ /^(kbuffer_|tep_|uev_capture_page|record_comm)/) return "user: per-event decode (kbuffer/tep, comm)"
	for (i = 1; i <= n; i++) if (st[i] ~ /^(uev_ring_writer|__mem(move|cpy))/) return "user: ring writer (copy, records)"
	for (i = 1; i <= n; i++) if (st[i] ~ /^(io_submit_sqes|io_cqring_wait|__do_sys_io_uring_enter|io_issue_sqe)/) return "io_uring: submit/wait (other)"
	for (i = 1; i <= n; i++) if (st[i] ~ /^(schedule|__schedule|finish_task_switch)/) return "scheduler"
	return "other"
}
function flush() { if (n > 0 || comm != "") { c = classify(); cnt[c]++; total++ } n = 0; comm = "" }
/^[^ \t]/ { flush(); comm = $1; next }
/^[ \t]+[0-9a-f]+ / { n++; st[n] = $2; next }
/^$/ { flush() }
END {
	flush()
	for (c in cnt) printf "%6.1f%%  %s\n", 100 * cnt[c] / total, c | "sort -rn"
	close("sort -rn")
	printf "%6d   samples\n", total
}
