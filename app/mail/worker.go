package mail

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"portal/app"
)

// Store is what the worker needs from the outbox.
type Store interface {
	ClaimDue(ctx context.Context, limit int) ([]*app.Message, error)
	MarkSent(ctx context.Context, id int64) error
	MarkFailed(ctx context.Context, id int64, reason string, backoff time.Duration, permanent bool) error
	ReleaseLocks(ctx context.Context) error
}

// Worker is the one goroutine that delivers the outbox. Handlers enqueue and
// Kick it; it also polls on a ticker for retries.
type Worker struct {
	Store    Store
	Sender   app.Sender
	Logger   *slog.Logger
	Interval time.Duration // poll interval (default 5 s)
	MaxDelay time.Duration // cap on the retry back-off (default 1 h)
	kick     chan struct{}
}

// NewWorker returns a worker.
func NewWorker(store Store, sender app.Sender, logger *slog.Logger) *Worker {
	return &Worker{Store: store, Sender: sender, Logger: logger, Interval: 5 * time.Second, MaxDelay: time.Hour,
		kick: make(chan struct{}, 1)}
}

// Kick asks the worker to look at the outbox now.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done.
func (w *Worker) Run(ctx context.Context) {
	if err := w.Store.ReleaseLocks(ctx); err != nil {
		w.Logger.Error("outbox: release locks", "err", err)
	}
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		w.Drain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-w.kick:
		}
	}
}

// Drain delivers every message that is due now.
func (w *Worker) Drain(ctx context.Context) {
	for ctx.Err() == nil {
		msgs, err := w.Store.ClaimDue(ctx, 50)
		if err != nil {
			if ctx.Err() == nil {
				w.Logger.Error("outbox: claim", "err", err)
			}
			return
		}
		if len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			w.deliver(ctx, m)
		}
	}
}

func (w *Worker) deliver(ctx context.Context, m *app.Message) {
	err := w.Sender.Send(ctx, m)
	if err == nil {
		if err := w.Store.MarkSent(ctx, m.ID); err != nil {
			w.Logger.Error("outbox: mark sent", "id", m.ID, "err", err)
		}
		return
	}
	var se *app.SendError
	permanent := errors.As(err, &se) && se.Permanent
	delay := time.Minute << min(m.Attempts, 10)
	if delay > w.MaxDelay {
		delay = w.MaxDelay
	}
	w.Logger.Warn("outbox: delivery failed", "id", m.ID, "attempts", m.Attempts+1, "permanent", permanent, "err", err)
	if err := w.Store.MarkFailed(ctx, m.ID, err.Error(), delay, permanent); err != nil {
		w.Logger.Error("outbox: mark failed", "id", m.ID, "err", err)
	}
}
