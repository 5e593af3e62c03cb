package mail

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"portal/app"
)

// Store is what the worker needs from the outbox.
type Store interface {
	ClaimDue(ctx context.Context, limit int) ([]*app.Message, error)
	MarkSent(ctx context.Context, m *app.Message) error
	MarkFailed(ctx context.Context, id int64, reason string, backoff time.Duration, permanent bool) error
	MarkSkipped(ctx context.Context, id int64, reason string) error
	ReleaseLocks(ctx context.Context) error
}

// Renderer fills in a scheduled message just before it is sent, or says why
// it is no longer needed.
type Renderer interface {
	Compose(ctx context.Context, m *app.Message) (skip string, err error)
}

// Worker delivers the outbox: one loop, sending each claimed batch over
// Concurrency connections. Handlers enqueue and Kick it; it also polls on a
// ticker for retries.
type Worker struct {
	Store       Store
	Sender      app.Sender
	Renderer    Renderer // nil: messages are sent as stored
	Logger      *slog.Logger
	Interval    time.Duration // poll interval (default 5 s)
	MaxDelay    time.Duration // cap on the retry back-off (default 1 h)
	Concurrency int           // messages in flight at once (default 1); match the sender's connections
	// Busy, when set, says that people are signing right now. The worker
	// then waits, up to YieldFor before each batch, so that their answers
	// keep the CPU (a certificate copy costs more to render than the
	// signature it follows); the copies go out as soon as it eases.
	Busy     func() bool
	YieldFor time.Duration // default 2 s
	kick     chan struct{}
}

// NewWorker returns a worker.
func NewWorker(store Store, sender app.Sender, logger *slog.Logger) *Worker {
	return &Worker{Store: store, Sender: sender, Logger: logger, Interval: 5 * time.Second, MaxDelay: time.Hour,
		Concurrency: 1, YieldFor: 2 * time.Second, kick: make(chan struct{}, 1)}
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
		w.yield(ctx)
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
		w.deliverAll(ctx, msgs)
	}
}

// yield waits while Busy says people are signing, for YieldFor at most.
func (w *Worker) yield(ctx context.Context) {
	if w.Busy == nil {
		return
	}
	deadline := time.Now().Add(w.YieldFor)
	for w.Busy() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// deliverAll sends a batch over up to Concurrency goroutines and waits for them.
func (w *Worker) deliverAll(ctx context.Context, msgs []*app.Message) {
	n := max(w.Concurrency, 1)
	next := make(chan *app.Message)
	var wg sync.WaitGroup
	for i := 0; i < min(n, len(msgs)); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for m := range next {
				w.deliver(ctx, m)
			}
		}()
	}
	for _, m := range msgs {
		next <- m
	}
	close(next)
	wg.Wait()
}

func (w *Worker) deliver(ctx context.Context, m *app.Message) {
	if w.Renderer != nil {
		skip, err := w.Renderer.Compose(ctx, m)
		if err != nil {
			w.Logger.Error("outbox: render", "id", m.ID, "kind", m.Kind, "err", err)
			if err := w.Store.MarkFailed(ctx, m.ID, "render: "+err.Error(), w.MaxDelay, false); err != nil {
				w.Logger.Error("outbox: mark failed", "id", m.ID, "err", err)
			}
			return
		}
		if skip != "" {
			if err := w.Store.MarkSkipped(ctx, m.ID, skip); err != nil {
				w.Logger.Error("outbox: mark skipped", "id", m.ID, "err", err)
			}
			return
		}
	}
	err := w.Sender.Send(ctx, m)
	if err == nil {
		if err := w.Store.MarkSent(ctx, m); err != nil {
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
