package fake

import (
	"sync"
	"time"
)

// Clock is the fakes' injectable clock: token expiry, authorization codes
// and the request log's times follow it. A NewClock stands still until
// Advance moves it; the zero Clock follows real time, and Advance moves it
// ahead of real time (what a fake uses without WithClock, so that the
// control API can expire tokens). A nil *Clock is real time, which
// cannot be advanced. A Clock is safe for concurrent use, and one Clock
// can drive several fakes.
type Clock struct {
	mu     sync.Mutex
	manual bool
	now    time.Time     // a manual clock's time
	offset time.Duration // how far a running clock is ahead of real time
}

// NewClock returns a manual clock that reads start until Advance moves it.
func NewClock(start time.Time) *Clock { return &Clock{manual: true, now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.manual {
		return c.now
	}
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d. It panics on a nil *Clock (real
// time).
func (c *Clock) Advance(d time.Duration) {
	if c == nil {
		panic("fake: Advance on a nil *Clock (real time)")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.manual {
		c.now = c.now.Add(d)
	} else {
		c.offset += d
	}
}

// Manual reports whether the clock stands still between calls to Advance
// (a NewClock), rather than following real time.
func (c *Clock) Manual() bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.manual
}
