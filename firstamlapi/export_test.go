package firstamlapi

import "time"

// SetReplayStoreClock replaces a MemoryReplayStore's clock, so that tests
// expire keys without waiting.
func SetReplayStoreClock(s *MemoryReplayStore, now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}
