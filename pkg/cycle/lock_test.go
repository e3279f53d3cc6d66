package cycle

import (
	"context"
	"errors"
	"testing"
)

// --wait waits for the running cycle, saying so first, and then runs.
func TestRunWaitsForRunningCycle(t *testing.T) {
	s := &fakeSteps{}
	l := &fakeLock{held: true, freed: true}
	var heard []string
	_, err := newCycle(s, l).Run(context.Background(), Options{Wait: true, OnWait: func(h string) { heard = append(heard, h) }})
	if err != nil {
		t.Fatal(err)
	}
	if !l.waited || !l.released || len(heard) != 1 || heard[0] != "pid 42" || len(s.calls) == 0 {
		t.Errorf("waited %v, released %v, OnWait heard %q, steps %v", l.waited, l.released, heard, s.calls)
	}
	// A free lock is taken at once: no wait, nothing told.
	heard = nil
	if _, err := newCycle(&fakeSteps{}, &fakeLock{}).Run(context.Background(), Options{Wait: true, OnWait: func(h string) { heard = append(heard, h) }}); err != nil || heard != nil {
		t.Errorf("free lock: err %v, OnWait heard %q", err, heard)
	}
}

// A wait interrupted (SIGINT, SIGTERM cancel the context) ends the cycle
// at once: it ran nothing, says what it waited for, and is a
// context.Canceled (exit 130).
func TestRunWaitInterrupted(t *testing.T) {
	s := &fakeSteps{}
	l := &fakeLock{held: true}
	ctx, cancel := context.WithCancel(context.Background())
	_, err := newCycle(s, l).Run(ctx, Options{Wait: true, OnWait: func(string) { cancel() }})
	var wi *WaitInterruptedError
	if !errors.As(err, &wi) || !errors.Is(err, context.Canceled) || len(s.calls) != 0 || l.released {
		t.Fatalf("err = %v (%T), steps %v, released %v; want a WaitInterruptedError wrapping context.Canceled, nothing run", err, err, s.calls, l.released)
	}
	if want := "interrupted while waiting for another ringflow cycle on this repository (pid 42) to finish; this cycle changed nothing"; err.Error() != want {
		t.Errorf("message %q, want %q", err.Error(), want)
	}
}
