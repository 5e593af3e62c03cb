package mail

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"portal/app"
)

// failingSender answers each address as its name says.
type failingSender struct{}

func (failingSender) Send(_ context.Context, m *app.Message) error {
	switch strings.SplitN(m.ToAddr, "@", 2)[0] {
	case "later":
		return &app.SendError{Failure: app.SendTemporary, Err: errors.New("451 try again later")}
	case "gone":
		return &app.SendError{Failure: app.SendRecipient, Err: errors.New("550 no such mailbox")}
	case "spam":
		return &app.SendError{Failure: app.SendRejected, Err: errors.New("554 rejected")}
	case "refused":
		return &app.SendError{Failure: app.SendConfig, Stage: "auth", Err: errors.New("535 authentication failed")}
	case "dropped":
		return errors.New("connection reset") // not a SendError: temporary
	}
	return nil
}

// countingMetrics records the mail events.
type countingMetrics struct {
	app.NoMetrics
	mu     sync.Mutex
	events map[string]int
}

func (c *countingMetrics) MailSent(kind string) { c.add("sent " + kind) }
func (c *countingMetrics) MailFailed(kind, failure string) {
	c.add("failed " + kind + " " + failure)
}
func (c *countingMetrics) add(k string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events[k]++
}

// TestWorkerCountsDeliveries: each delivery is counted once, by its kind,
// and each failure by how it failed.
func TestWorkerCountsDeliveries(t *testing.T) {
	store := &memStore{failed: map[int64]bool{}}
	for i, to := range []string{"ok", "ok", "later", "dropped", "gone", "spam"} {
		kind := app.MailReminder
		if i == 1 {
			kind = app.MailCertificate
		}
		store.queued = append(store.queued, &app.Message{ID: int64(i + 1), Kind: kind, ToAddr: to + "@agency.example", Subject: "s", Text: "t"})
	}
	met := &countingMetrics{events: map[string]int{}}
	w := NewWorker(store, failingSender{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.Metrics = met
	w.Drain(context.Background())
	// The server refuses the portal itself: counted as config, the message waits.
	store.queued = append(store.queued, &app.Message{ID: 7, Kind: app.MailSignIn, ToAddr: "refused@agency.example", Subject: "s", Text: "t"})
	w.Drain(context.Background())
	want := map[string]int{
		"sent reminder":             1,
		"sent certificate":          1,
		"failed reminder temporary": 2,
		"failed reminder permanent": 2,
		"failed signin config":      1,
	}
	if len(met.events) != len(want) {
		t.Errorf("events %v, want %v", met.events, want)
	}
	for k, n := range want {
		if met.events[k] != n {
			t.Errorf("%s: %d, want %d (all: %v)", k, met.events[k], n, met.events)
		}
	}
}
