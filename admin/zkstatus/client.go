// Package zkstatus asks ZooKeeper servers for their state with the
// four-letter-word commands (ruok, srvr, mntr, cons) and parses the answers,
// as ZooKeeper 3.5–3.9 write them (and 3.4's, which differ only in details).
// go-zookeeper's FLWSrvr and FLWCons do not parse 3.7+ output, hence this.
//
// Every call opens one TCP connection, sends the command, reads the answer
// until the server closes, and closes the connection: nothing is pooled or
// left open, whatever happens. Calls honour the context and a per-call
// timeout. All commands but srvr must be in the server's
// 4lw.commands.whitelist; otherwise calls fail with ErrNotWhitelisted.
package zkstatus

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

var (
	// ErrNotWhitelisted: the server refused the command because it is not in
	// its 4lw.commands.whitelist.
	ErrNotWhitelisted = errors.New("4lw command not whitelisted")
	// ErrNotServing: the server runs but does not serve requests (no quorum,
	// or still loading its database).
	ErrNotServing = errors.New("ZooKeeper instance is not currently serving requests")
	// ErrEmptyAnswer: the server closed the connection without answering,
	// which it does for commands it does not know.
	ErrEmptyAnswer = errors.New("empty answer (unknown command, or the server closed the connection)")
)

// DefaultTimeout bounds a call when the Client sets no Timeout.
const DefaultTimeout = 5 * time.Second

// DefaultMaxAnswerBytes bounds an answer when the Client sets no limit. cons
// on a server with many clients is the largest (~200 bytes per connection).
const DefaultMaxAnswerBytes = 16 << 20

// Client sends four-letter words. The zero value is ready to use.
type Client struct {
	// Timeout bounds each call (dial, send, read) in addition to the
	// context's deadline. Zero means DefaultTimeout.
	Timeout time.Duration
	// Dial opens the connection. Nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// MaxAnswerBytes bounds the answer. Zero means DefaultMaxAnswerBytes.
	MaxAnswerBytes int
}

// Ruok asks whether the server process is up ("imok"). A server that is up
// but has no quorum still says imok; use Srvr to know whether it serves.
func Ruok(ctx context.Context, addr string) error { return (&Client{}).Ruok(ctx, addr) }

// Srvr returns the server's summary (version, latency, counters, mode).
func Srvr(ctx context.Context, addr string) (*ServerStats, error) {
	return (&Client{}).Srvr(ctx, addr)
}

// Mntr returns the server's monitoring variables.
func Mntr(ctx context.Context, addr string) (*Monitor, error) { return (&Client{}).Mntr(ctx, addr) }

// Cons returns the server's client connections.
func Cons(ctx context.Context, addr string) ([]Connection, error) {
	return (&Client{}).Cons(ctx, addr)
}

// Ruok: see the package-level Ruok.
func (c *Client) Ruok(ctx context.Context, addr string) error {
	out, err := c.Command(ctx, addr, "ruok")
	if err != nil {
		return err
	}
	if out != "imok" {
		return fmt.Errorf("zookeeper %s: ruok answered %q, want imok", addr, truncate(out, 100))
	}
	return nil
}

// Srvr: see the package-level Srvr.
func (c *Client) Srvr(ctx context.Context, addr string) (*ServerStats, error) {
	out, err := c.Command(ctx, addr, "srvr")
	if err != nil {
		return nil, err
	}
	s, err := ParseSrvr(out)
	if err != nil {
		return nil, fmt.Errorf("zookeeper %s: %w", addr, err)
	}
	return s, nil
}

// Mntr: see the package-level Mntr.
func (c *Client) Mntr(ctx context.Context, addr string) (*Monitor, error) {
	out, err := c.Command(ctx, addr, "mntr")
	if err != nil {
		return nil, err
	}
	m, err := ParseMntr(out)
	if err != nil {
		return nil, fmt.Errorf("zookeeper %s: %w", addr, err)
	}
	return m, nil
}

// Cons: see the package-level Cons.
func (c *Client) Cons(ctx context.Context, addr string) ([]Connection, error) {
	out, err := c.Command(ctx, addr, "cons")
	if err != nil {
		return nil, err
	}
	conns, err := ParseCons(out)
	if err != nil {
		return nil, fmt.Errorf("zookeeper %s: %w", addr, err)
	}
	return conns, nil
}

// Command sends any four-letter word and returns the raw answer. Answers that
// are refusals come back as errors: ErrNotWhitelisted, ErrNotServing,
// ErrEmptyAnswer (wrapped with the address and command).
func (c *Client) Command(ctx context.Context, addr, cmd string) (string, error) {
	if len(cmd) != 4 || strings.Trim(cmd, "abcdefghijklmnopqrstuvwxyz") != "" {
		return "", fmt.Errorf("zookeeper four-letter word %q: want four lower-case letters", cmd)
	}
	out, err := c.roundTrip(ctx, addr, cmd)
	if err != nil {
		return "", fmt.Errorf("zookeeper %s: %s: %w", addr, cmd, err)
	}
	switch {
	case out == "":
		return "", fmt.Errorf("zookeeper %s: %s: %w", addr, cmd, ErrEmptyAnswer)
	case strings.HasSuffix(strings.TrimSpace(out), "is not executed because it is not in the whitelist."):
		return "", fmt.Errorf("zookeeper %s: %s: %w (add it to the server's 4lw.commands.whitelist)", addr, cmd, ErrNotWhitelisted)
	case strings.HasPrefix(out, "This ZooKeeper instance is not currently serving requests"):
		return "", fmt.Errorf("zookeeper %s: %s: %w", addr, cmd, ErrNotServing)
	}
	return out, nil
}

// roundTrip opens a connection, sends cmd and reads until the server closes.
func (c *Client) roundTrip(ctx context.Context, addr, cmd string) (string, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	dial := c.Dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	conn, err := dial(ctx, "tcp", addr)
	if err != nil {
		return "", fmt.Errorf("dialing: %w", err)
	}
	defer conn.Close()
	// A deadline on the connection bounds blocked reads; AfterFunc also ends
	// them when the caller cancels the context without a deadline.
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return "", fmt.Errorf("setting deadline: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := io.WriteString(conn, cmd); err != nil {
		return "", ctxErr(ctx, fmt.Errorf("sending: %w", err))
	}
	limit := c.MaxAnswerBytes
	if limit <= 0 {
		limit = DefaultMaxAnswerBytes
	}
	out, err := io.ReadAll(io.LimitReader(conn, int64(limit)+1))
	if err != nil {
		return "", ctxErr(ctx, fmt.Errorf("reading answer: %w", err))
	}
	if len(out) > limit {
		return "", fmt.Errorf("answer longer than %d bytes", limit)
	}
	return string(out), nil
}

// ctxErr puts the context's error in front when the context ended the call,
// so callers can test errors.Is(err, context.DeadlineExceeded).
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	// The connection's deadline is the context's: it can fire a moment
	// before the context's own timer marks the context done.
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
