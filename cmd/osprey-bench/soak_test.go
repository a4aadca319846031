package main

import (
	"math"
	"testing"
	"time"
)

// The soak's histogram answers quantiles within its 1% bucket width, merged across clients.
func TestLatHistQuantile(t *testing.T) {
	var a, b latHist
	for i := 1; i <= 1000; i++ {
		h := &a
		if i%2 == 0 {
			h = &b
		}
		h.add(time.Duration(i) * time.Millisecond)
	}
	a.merge(&b)
	if a.n != 1000 {
		t.Fatalf("n = %d, want 1000", a.n)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := a.quantile(c.q)
		if rel := math.Abs(float64(got-c.want)) / float64(c.want); rel > 0.011 {
			t.Errorf("quantile(%v) = %v, want %v within 1%%", c.q, got, c.want)
		}
	}
}

// The fixture is freed after the last section that uses it, whichever sections run.
func TestLastFixtureSection(t *testing.T) {
	for _, c := range []struct {
		only map[string]bool
		want string
	}{{nil, "soak"}, {map[string]bool{"api": true, "broker": true}, "api"}, {map[string]bool{"collector": true, "insights": true}, "insights"}, {map[string]bool{"broker": true}, ""}} {
		o := &options{only: c.only}
		if got := o.lastFixtureSection(); got != c.want {
			t.Errorf("only %v: last fixture section %q, want %q", c.only, got, c.want)
		}
	}
}
