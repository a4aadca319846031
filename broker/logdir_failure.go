package broker

import (
	"fmt"
	"os"
	"strings"
)

// Log dir failures, handled as Kafka's ReplicaManager.handleLogDirFailure
// and LogManager.handleLogDirFailure handle them. The storage package takes
// a dir offline at the first I/O error of a write path (an append, roll,
// flush, index, checkpoint or snapshot write, truncation, deletion): from
// then on every partition in it answers KAFKA_STORAGE_ERROR and
// DescribeLogDirs reports the dir with that error. When no log dir is left
// online the broker halts, without a controlled shutdown: the controller
// moves its leaderships to in-sync replicas when its ZooKeeper session
// expires or its KRaft heartbeats stop.
//
// A dir that fails while another is still online is not reported to the
// controller (Kafka sends a log dir event): its partitions stay led here,
// answering KAFKA_STORAGE_ERROR, until the broker restarts.

// WithExitOnHalt makes a halt end the process at once with status 1,
// closing nothing, as Kafka's Exit.halt does: for a broker that is a
// process of its own (`osprey broker`).
func WithExitOnHalt() Option { return func(b *Broker) { b.exitOnHalt = true } }

// WithHaltHandler sets f to be told why, once the broker has halted on its
// own (every log dir failed) and stopped. Without WithExitOnHalt a halt
// stops only the broker: listeners and connections closed, its ZooKeeper
// session closed or KRaft heartbeats stopped, logs closed unflushed; the
// process goes on.
func WithHaltHandler(f func(reason error)) Option { return func(b *Broker) { b.onHalt = f } }

// logDirFailed is storage's report that dir went offline; it runs on a
// goroutine of its own. A report made before Start has finished is left to
// Start, which checks the dirs last (checkLogDirs).
func (b *Broker) logDirFailed(dir string, cause error) {
	if !b.started.Load() {
		return
	}
	if online := b.store.online(); len(online) > 0 {
		b.log.Error("stopped serving the replicas in a failed log dir: they answer KAFKA_STORAGE_ERROR until the broker restarts",
			"dir", dir, "online_log_dirs", online, "err", cause)
		return
	}
	b.halt(cause)
}

// checkLogDirs halts a broker whose every log dir failed before Start
// finished.
func (b *Broker) checkLogDirs() {
	if len(b.store.online()) > 0 {
		return
	}
	for _, m := range b.store.mgrs {
		if err := m.Offline(); err != nil {
			go b.halt(err)
			return
		}
	}
}

// halt stops the broker because every log dir failed. Only the first call
// acts.
func (b *Broker) halt(cause error) {
	if !b.halting.CompareAndSwap(false, true) {
		return
	}
	reason := fmt.Errorf("all log dirs in %s have failed: %w", strings.Join(b.cfg.LogDirs, ", "), cause)
	// Kafka's fatal line before Exit.halt(1).
	b.log.Error(fmt.Sprintf("Shutdown broker because all log dirs in %s have failed", strings.Join(b.cfg.LogDirs, ", ")),
		"fatal", true, "err", cause)
	if b.exitOnHalt {
		os.Exit(1)
	}
	if err := b.stop(false); err != nil {
		b.log.Warn("closing the halted broker", "err", err)
	}
	if b.onHalt != nil {
		b.onHalt(reason)
	}
}
