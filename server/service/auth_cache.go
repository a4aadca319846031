package service

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/osprey-kafka/osprey/store"
)

// While the database does not answer, sign-in sessions and API tokens this console verified
// recently keep working for authCacheTTL: each lookup waits at most authLookupTimeout for the
// database, then falls back to the identity it last read for that secret. A secret the console
// has not verified within the TTL (new, or unused for that long) is refused until the database
// answers, and so are sign-ins and every change that writes.
const (
	authCacheTTL      = 5 * time.Minute
	authLookupTimeout = 2 * time.Second
	authCacheMax      = 10000
)

// authCache remembers the identities of recently verified secrets, by their hash.
type authCache struct {
	mu sync.Mutex // guards m
	m  map[string]authCached
}

type authCached struct {
	id       Identity
	verified time.Time
}

func (c *authCache) put(hash string, id Identity, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]authCached{}
	}
	if len(c.m) >= authCacheMax {
		for h, e := range c.m { // expired first; a full map of live entries starts over
			if now.Sub(e.verified) > authCacheTTL {
				delete(c.m, h)
			}
		}
		if len(c.m) >= authCacheMax {
			c.m = map[string]authCached{}
		}
	}
	c.m[hash] = authCached{id: id, verified: now}
}

// get returns the identity verified for hash within the TTL.
func (c *authCache) get(hash string, now time.Time) (Identity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[hash]
	if !ok || now.Sub(e.verified) > authCacheTTL {
		return Anonymous, false
	}
	return e.id, true
}

func (c *authCache) forget(hash string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, hash)
}

// cachedAuth runs a lookup of the identity behind a secret with a short deadline and remembers
// what it verified; when the lookup fails for a reason other than a refused secret (the database
// does not answer), it answers from what it remembers.
func (s *Service) cachedAuth(ctx context.Context, hash string, lookup func(ctx context.Context) (Identity, error)) (Identity, error) {
	lctx, cancel := context.WithTimeout(ctx, authLookupTimeout)
	id, err := lookup(lctx)
	cancel()
	now := s.opts.Now()
	switch {
	case err == nil:
		s.auths.put(hash, id, now)
		return id, nil
	case errors.Is(err, ErrBadCredentials) || errors.Is(err, store.ErrNotFound):
		s.auths.forget(hash)
		return Anonymous, ErrBadCredentials
	}
	if got, ok := s.auths.get(hash, now); ok {
		return got, nil
	}
	return Anonymous, err
}
