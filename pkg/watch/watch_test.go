package watch

import (
	"context"
	"errors"
	"testing"
	"time"
)

// countLooker counts looks; it fails the second, and cancels the watch
// after the third.
type countLooker struct {
	n      int
	cancel context.CancelFunc
}

func (c *countLooker) Look(ctx context.Context) (*Look, error) {
	c.n++
	switch c.n {
	case 2:
		return nil, errors.New("fetch failed")
	case 3:
		c.cancel()
	}
	return &Look{}, nil
}

// A failed look does not end the watch; a cancelled context ends it with
// nil at once, reporting nothing of the look it cut short.
func TestRunLooksUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l := &countLooker{cancel: cancel}
	var reports []error
	err := Run(ctx, l, Options{Interval: time.Millisecond, Report: func(_ *Look, err error) { reports = append(reports, err) }})
	if err != nil || l.n != 3 || len(reports) != 2 || reports[0] != nil || reports[1] == nil {
		t.Fatalf("err %v, looks %d, reports %v", err, l.n, reports)
	}
}

// A cancel during the wait ends it without waiting out the interval.
func TestRunStopsDuringWait(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l := &countLooker{cancel: func() {}}
	done := make(chan error)
	go func() { done <- Run(ctx, l, Options{Interval: time.Hour}) }()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil || l.n != 1 {
			t.Errorf("err %v, looks %d", err, l.n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch did not stop within 5s of the cancel")
	}
}

func TestRunOnceReturnsTheLooksError(t *testing.T) {
	l := &countLooker{n: 1, cancel: func() {}} // its next look fails
	if err := Run(context.Background(), l, Options{Once: true}); err == nil || l.n != 2 {
		t.Errorf("once: err %v, looks %d", err, l.n)
	}
	if err := Run(context.Background(), l, Options{}); err == nil {
		t.Error("no interval and not once: want an error")
	}
}
