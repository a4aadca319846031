package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/osprey-kafka/osprey/internal/testenv"
)

// recorder notes starts and stops in the order they happen.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) add(e string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) get() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// worker is a module shaped like the real ones: Start launches a goroutine that runs until Stop.
type worker struct {
	name     string
	rec      *recorder
	startErr error
	cancel   context.CancelFunc
	done     chan struct{}
}

func (w *worker) Name() string { return w.name }

func (w *worker) Start(ctx context.Context) error {
	if w.startErr != nil {
		w.rec.add("fail " + w.name)
		return w.startErr
	}
	ctx, w.cancel = context.WithCancel(ctx)
	w.done = make(chan struct{})
	go func() { defer close(w.done); <-ctx.Done() }()
	w.rec.add("start " + w.name)
	return nil
}

func (w *worker) Stop(context.Context) error {
	w.cancel()
	<-w.done
	w.rec.add("stop " + w.name)
	return nil
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestGroupStartsInOrderAndStopsInReverse(t *testing.T) {
	rec := &recorder{}
	g := &Group{Logger: quiet()}
	for _, n := range []string{"store", "service", "alerts", "http"} {
		g.Add(&worker{name: n, rec: rec})
	}
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"start store", "start service", "start alerts", "start http",
		"stop http", "stop alerts", "stop service", "stop store"}
	if got := rec.get(); !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
	// Stopped modules are not stopped twice.
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rec.get(); len(got) != len(want) {
		t.Fatalf("a second Stop stopped again: %q", got[len(want):])
	}
}

func TestGroupRollsBackWhenAStartFails(t *testing.T) {
	rec := &recorder{}
	boom := errors.New("port in use")
	g := &Group{Logger: quiet()}
	g.Add(&worker{name: "a", rec: rec}, &worker{name: "b", rec: rec},
		&worker{name: "c", rec: rec, startErr: boom}, &worker{name: "d", rec: rec})
	err := g.Start(context.Background())
	if !errors.Is(err, boom) {
		t.Fatalf("Start: %v, want the failing module's error", err)
	}
	if want := "starting c: port in use"; err.Error() != want {
		t.Fatalf("Start error %q, want %q", err, want)
	}
	want := []string{"start a", "start b", "fail c", "stop b", "stop a"}
	if got := rec.get(); !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
	// Nothing is left to stop.
	if err := g.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rec.get(); len(got) != len(want) {
		t.Fatalf("Stop after a rolled-back Start stopped again: %q", got[len(want):])
	}
}

func TestGroupStopDeadline(t *testing.T) {
	rec := &recorder{}
	release := make(chan struct{})
	stuckDone := make(chan struct{})
	stuck := Funcs("stuck", nil, func(context.Context) error {
		// Ignores its context, as a Stop() wrapped without one would.
		defer close(stuckDone)
		<-release
		return nil
	})
	g := &Group{Logger: quiet(), StopTimeout: 50 * time.Millisecond}
	g.Add(&worker{name: "store", rec: rec}, stuck, &worker{name: "http", rec: rec})
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := g.Stop(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop: %v, want the stuck module's deadline", err)
	}
	if want := "stopping stuck: " + context.DeadlineExceeded.Error(); err.Error() != want {
		t.Fatalf("Stop error %q, want %q", err, want)
	}
	// The modules before the stuck one are still stopped.
	want := []string{"start store", "start http", "stop http", "stop store"}
	if got := rec.get(); !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
	close(release)
	<-stuckDone
}

func TestGroupStopErrorsAreJoined(t *testing.T) {
	g := &Group{Logger: quiet()}
	g.Add(Funcs("a", nil, func(context.Context) error { return errors.New("a broke") }),
		Funcs("b", nil, func(context.Context) error { return errors.New("b broke") }))
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := g.Stop(context.Background())
	if want := "stopping b: b broke\nstopping a: a broke"; err == nil || err.Error() != want {
		t.Fatalf("Stop error %q, want %q", err, want)
	}
}

// TestGroupLeavesNoGoroutines starts and stops a group several times, one run with a Stop that
// overruns its deadline, and checks that once that Stop returns no goroutine of the group or its
// modules is left.
func TestGroupLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	rec := &recorder{}
	for i := range 3 {
		g := &Group{Logger: quiet()}
		for j := range 4 {
			g.Add(&worker{name: fmt.Sprintf("m%d.%d", i, j), rec: rec})
		}
		if err := g.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := g.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	release := make(chan struct{})
	g := &Group{Logger: quiet(), StopTimeout: 10 * time.Millisecond}
	g.Add(&worker{name: "w", rec: rec}, Funcs("slow", nil, func(context.Context) error { <-release; return nil }))
	if err := g.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.Stop(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop: %v, want a deadline", err)
	}
	close(release)
	testenv.WaitFor(t, 5*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("%d goroutines, %d before the groups ran", n, before)
		}
		return nil
	})
}

func TestGroupStartWithEndedContext(t *testing.T) {
	rec := &recorder{}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Group{Logger: quiet()}
	g.Add(&worker{name: "a", rec: rec}, Funcs("cancels", func(context.Context) error { cancel(); return nil }, nil),
		&worker{name: "b", rec: rec})
	err := g.Start(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Start: %v, want context.Canceled", err)
	}
	want := []string{"start a", "stop a"}
	if got := rec.get(); !slices.Equal(got, want) {
		t.Fatalf("events:\n got %q\nwant %q", got, want)
	}
}
