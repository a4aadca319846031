// Package lifecycle starts the long-running parts of a program in dependency order and stops them in
// reverse, from one place.
//
// A Module is anything with a start and a stop (Burrow's subsystem shape): building it does no I/O,
// Start launches its goroutines and returns, Stop ends them. A Group holds modules in the order they
// depend on each other, starts them in that order, and stops the ones that started in reverse: on
// Stop, and also when a later module fails to start, so a failed start leaves nothing running.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Module is a part of the program with a start and a stop.
type Module interface {
	// Name identifies the module in logs and errors.
	Name() string
	// Start launches the module's work and returns once it runs; it must not block for the module's
	// lifetime. ctx is the group's run context: work the module leaves running may end with it, and
	// must end by Stop. A Start that fails leaves nothing of the module running (the group does not
	// stop a module whose Start failed).
	Start(ctx context.Context) error
	// Stop ends what Start launched and returns when it has ended. It should return by ctx's
	// deadline; when it does not, the group stops waiting for it, reports the overrun and goes on
	// with the modules started before it. Stop is called at most once per successful Start.
	Stop(ctx context.Context) error
}

// Funcs makes a Module of a name and two functions; a nil start or stop does nothing. It suits
// modules whose start and stop are methods of a type with another signature (a Stop() without a
// context or an error).
func Funcs(name string, start, stop func(ctx context.Context) error) Module {
	return funcs{name: name, start: start, stop: stop}
}

type funcs struct {
	name        string
	start, stop func(context.Context) error
}

func (f funcs) Name() string { return f.name }

func (f funcs) Start(ctx context.Context) error {
	if f.start == nil {
		return nil
	}
	return f.start(ctx)
}

func (f funcs) Stop(ctx context.Context) error {
	if f.stop == nil {
		return nil
	}
	return f.stop(ctx)
}

// DefaultStopTimeout bounds each module's Stop when the Group sets no StopTimeout.
const DefaultStopTimeout = 30 * time.Second

// Group starts modules in the order they were added and stops the started ones in reverse. It is
// used from one goroutine (the program's main); Start and Stop are not safe to call concurrently.
type Group struct {
	// StopTimeout bounds each module's Stop (the context given to Stop may end sooner);
	// 0 means DefaultStopTimeout.
	StopTimeout time.Duration
	// Logger receives one line per module started and stopped; nil means slog.Default().
	Logger *slog.Logger

	modules []Module
	started []Module // in start order; owned by the caller's goroutine
}

// Add appends modules; each depends on the ones added before it.
func (g *Group) Add(ms ...Module) {
	g.modules = append(g.modules, ms...)
}

// Start starts every module not yet started, in order. If one fails, the modules already started
// are stopped in reverse (each within StopTimeout) and the start error is returned, joined with any
// error of that rollback.
func (g *Group) Start(ctx context.Context) error {
	log := g.logger()
	for _, m := range g.modules[len(g.started):] {
		if err := ctx.Err(); err != nil {
			return errors.Join(fmt.Errorf("starting %s: %w", m.Name(), err), g.rollback(ctx))
		}
		t0 := time.Now()
		if err := m.Start(ctx); err != nil {
			return errors.Join(fmt.Errorf("starting %s: %w", m.Name(), err), g.rollback(ctx))
		}
		g.started = append(g.started, m)
		log.Debug("started", "module", m.Name(), "took", time.Since(t0).Round(time.Millisecond))
	}
	return nil
}

// rollback stops what a failed Start started, with a context that outlives the start's (which may
// be the reason the start failed).
func (g *Group) rollback(ctx context.Context) error {
	return g.Stop(context.WithoutCancel(ctx))
}

// Stop stops the started modules in reverse order. Each gets ctx bounded by StopTimeout; a module
// that has not returned by then is reported and left to finish on its own while the ones before it
// are stopped. The errors of every module are returned joined; the group can be started again.
func (g *Group) Stop(ctx context.Context) error {
	var errs []error
	for i := len(g.started) - 1; i >= 0; i-- {
		if err := g.stopOne(ctx, g.started[i]); err != nil {
			errs = append(errs, err)
		}
	}
	g.started = g.started[:0]
	return errors.Join(errs...)
}

// stopOne runs m.Stop in its own goroutine so that a Stop which ignores its context still cannot
// hold the group past the deadline.
func (g *Group) stopOne(ctx context.Context, m Module) error {
	timeout := g.StopTimeout
	if timeout <= 0 {
		timeout = DefaultStopTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t0 := time.Now()
	done := make(chan error, 1) // buffered: an overrunning Stop can still deliver and exit
	go func() { done <- m.Stop(ctx) }()
	log := g.logger()
	select {
	case err := <-done:
		if err != nil {
			log.Warn("stop failed", "module", m.Name(), "err", err)
			return fmt.Errorf("stopping %s: %w", m.Name(), err)
		}
		log.Debug("stopped", "module", m.Name(), "took", time.Since(t0).Round(time.Millisecond))
		return nil
	case <-ctx.Done():
		log.Warn("stop did not finish in time; going on without it", "module", m.Name(),
			"waited", time.Since(t0).Round(time.Millisecond))
		return fmt.Errorf("stopping %s: %w", m.Name(), ctx.Err())
	}
}

func (g *Group) logger() *slog.Logger {
	if g.Logger != nil {
		return g.Logger
	}
	return slog.Default()
}
