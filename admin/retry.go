package admin

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
)

// brokenConn reports errors that mean the connection was dead before or while the request went out:
// kafka-go's pooled transport keeps connections to brokers that have since restarted, and the first
// request on such a connection fails with one of these.
func brokenConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}

// retryBroken runs a kafka-go call and, if it failed on a broken connection, once more (the transport
// then dials afresh). retried says a second attempt was made, so a caller whose operation is not
// idempotent can read "already done" answers accordingly. Not for produce: a retry could duplicate.
func retryBroken[T any](ctx context.Context, call func() (T, error)) (resp T, retried bool, err error) {
	resp, err = call()
	if err == nil || !brokenConn(err) || ctx.Err() != nil {
		return resp, false, err
	}
	resp, err = call()
	return resp, true, err
}
