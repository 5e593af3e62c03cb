package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"portal/app"
)

// Store is what the worker needs from the outbox.
type Store interface {
	// ClaimDue frees ended leases and leases due messages of one lane.
	ClaimDue(ctx context.Context, c app.Claim) ([]*app.Message, error)
	// RenewLeases extends every lease owner holds to until.
	RenewLeases(ctx context.Context, owner string, until time.Time) error
	// ReleaseExpired frees the leases that ended before now, and says how many.
	ReleaseExpired(ctx context.Context, now time.Time) (int, error)
	// ReleaseOwned frees every lease owner holds.
	ReleaseOwned(ctx context.Context, owner string) error
	// ReleaseMessage puts one claimed message back as it was, its attempts uncounted.
	ReleaseMessage(ctx context.Context, id int64, reason string) error
	MarkSent(ctx context.Context, m *app.Message) error
	MarkFailed(ctx context.Context, id int64, reason string, backoff time.Duration, permanent bool) error
	MarkUnreachable(ctx context.Context, id int64, reason string) error
	MarkSkipped(ctx context.Context, id int64, reason string) error
	SetFault(ctx context.Context, stage, reply string) error
	ClearFault(ctx context.Context) (bool, error)
}

// Renderer fills in a scheduled message just before it is sent, or says why
// it is no longer needed.
type Renderer interface {
	Compose(ctx context.Context, m *app.Message) (skip string, err error)
}

// Worker delivers the outbox in two lanes, each with its own loop, claims
// and sender: sign-in links, which someone is waiting for, and everything
// else, sent over Concurrency connections. Handlers enqueue and Kick it; it
// also polls on a ticker for retries.
//
// Its claims are leases in its own name (Owner), renewed while it runs; if
// the process dies they end within Lease and any worker takes the messages
// over. When the mail server refuses the portal itself (app.SendConfig),
// a lane stops, puts its messages back untouched, records the fault for
// HR's dashboard and tries again after a pause that grows each time.
type Worker struct {
	Store    Store
	Sender   app.Sender // every kind but sign-in links
	Renderer Renderer   // nil: messages are sent as stored
	Logger   *slog.Logger
	Interval time.Duration // poll interval (default 5 s)
	MaxDelay time.Duration // cap on the retry back-off (default 1 h)
	// Concurrency is how many messages of the main lane are in flight at
	// once (default 1); match the sender's connections.
	Concurrency int
	// SignInSender sends sign-in links, one at a time, over a connection of
	// its own (nil: Sender).
	SignInSender app.Sender
	// Owner names this worker's leases: a random id per process.
	Owner string
	// Lease is how long a claim lasts unless renewed (default 30 s); the
	// worker renews its claims every third of it.
	Lease time.Duration
	// FaultPause is the first pause after the mail server refused the
	// portal (default 30 s); it doubles, up to ten times as long.
	FaultPause time.Duration
	// Busy, when set, says that people are signing right now. The main lane
	// then waits, up to YieldFor before each batch, so that their answers
	// keep the CPU (a certificate copy costs more to render than the
	// signature it follows); the copies go out as soon as it eases.
	Busy     func() bool
	YieldFor time.Duration // default 2 s
	// Metrics counts deliveries and failures by message kind (nil: none).
	Metrics app.Metrics

	kicks  [2]chan struct{} // one per lane
	rounds [2]atomic.Int64
	// faulted is true while a fault may be on record, so that the first
	// delivery after it clears the record without a write per message. It
	// starts true: another process may have recorded one.
	faulted atomic.Bool
}

// NewWorker returns a worker with a fresh owner id.
func NewWorker(store Store, sender app.Sender, logger *slog.Logger) *Worker {
	w := &Worker{Store: store, Sender: sender, Logger: logger, Interval: 5 * time.Second, MaxDelay: time.Hour,
		Concurrency: 1, YieldFor: 2 * time.Second, Lease: 30 * time.Second, FaultPause: 30 * time.Second, Owner: newOwner(),
		kicks: [2]chan struct{}{make(chan struct{}, 1), make(chan struct{}, 1)}}
	w.faulted.Store(true)
	return w
}

// newOwner names a worker: host and process, for an operator reading the
// outbox, and random bytes, so that two are never confused.
func newOwner() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics if the system has no randomness)
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b))
}

// lane is one queue of the outbox with its sender.
type lane struct {
	index       int // in kicks and rounds
	name        string
	sender      app.Sender
	concurrency int
	yield       bool // waits while people sign
	kick        chan struct{}
}

func (w *Worker) lanes() []*lane {
	signIn := w.SignInSender
	if signIn == nil {
		signIn = w.Sender
	}
	return []*lane{
		{index: 0, name: app.LaneSignIn, sender: signIn, concurrency: 1, kick: w.kicks[0]},
		{index: 1, name: app.LaneOther, sender: w.Sender, concurrency: max(w.Concurrency, 1), yield: true, kick: w.kicks[1]},
	}
}

// Kick asks the worker to look at the outbox now.
func (w *Worker) Kick() {
	for _, k := range w.kicks {
		select {
		case k <- struct{}{}:
		default:
		}
	}
}

// Rounds counts the passes over one lane (app.LaneSignIn or app.LaneOther)
// the worker has completed: each claimed and delivered everything due, or
// stopped for a fault. Tests wait on it.
func (w *Worker) Rounds(lane string) int64 {
	if lane == app.LaneSignIn {
		return w.rounds[0].Load()
	}
	return w.rounds[1].Load()
}

// Run delivers until ctx is done. It first frees the claims of workers
// that died (their leases ended), never a live one's, and on its way out
// hands its own unfinished claims back.
func (w *Worker) Run(ctx context.Context) {
	if n, err := w.Store.ReleaseExpired(ctx, time.Now()); err != nil {
		w.Logger.Error("outbox: release expired leases", "err", err)
	} else if n > 0 {
		w.Logger.Info("outbox: took back messages of a worker that stopped", "messages", n)
	}
	w.withHeartbeat(ctx, func() {
		var wg sync.WaitGroup
		for _, l := range w.lanes() {
			wg.Go(func() { w.runLane(ctx, l) })
		}
		wg.Wait()
	})
}

// Drain delivers every message that is due now, in both lanes, and
// returns; it stops early if the mail server refuses the portal (the
// messages stay queued for the server's worker).
func (w *Worker) Drain(ctx context.Context) {
	w.withHeartbeat(ctx, func() {
		var wg sync.WaitGroup
		for _, l := range w.lanes() {
			wg.Go(func() { w.drainLane(ctx, l) })
		}
		wg.Wait()
	})
}

// withHeartbeat runs fn while renewing the worker's leases every third of
// Lease, then hands back any claim still held.
func (w *Worker) withHeartbeat(ctx context.Context, fn func()) {
	lease := w.lease()
	hctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(lease / 3)
		defer t.Stop()
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
				if err := w.Store.RenewLeases(hctx, w.Owner, time.Now().Add(lease)); err != nil && hctx.Err() == nil {
					w.Logger.Error("outbox: renew leases", "err", err)
				}
			}
		}
	}()
	fn()
	stop()
	<-done
	// A message claimed but not finished (the context ended mid-delivery)
	// goes back to the queue now rather than when its lease ends.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := w.Store.ReleaseOwned(rctx, w.Owner); err != nil {
		w.Logger.Error("outbox: release leases", "err", err)
	}
}

func (w *Worker) lease() time.Duration {
	if w.Lease <= 0 {
		return 30 * time.Second
	}
	return w.Lease
}

// runLane delivers one lane until ctx is done: on each tick or kick, or,
// after the server refused the portal, after a pause that doubles each time.
func (w *Worker) runLane(ctx context.Context, l *lane) {
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	var pause time.Duration
	for {
		if w.drainLane(ctx, l) {
			pause = w.nextPause(pause)
			w.Logger.Error("outbox: delivery paused: the mail server refuses the portal; every message stays queued",
				"lane", l.name, "retry_in", pause.String())
			timer := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
			continue
		}
		pause = 0
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-l.kick:
		}
	}
}

func (w *Worker) nextPause(last time.Duration) time.Duration {
	first := w.FaultPause
	if first <= 0 {
		first = 30 * time.Second
	}
	if last == 0 {
		return first
	}
	return min(2*last, 10*first)
}

// drainLane delivers the lane's due messages batch by batch; it reports
// whether it stopped because the server refused the portal.
func (w *Worker) drainLane(ctx context.Context, l *lane) (faulted bool) {
	defer w.rounds[l.index].Add(1)
	for ctx.Err() == nil {
		if l.yield {
			w.yield(ctx)
		}
		now := time.Now()
		msgs, err := w.Store.ClaimDue(ctx, app.Claim{Owner: w.Owner, Lane: l.name, Limit: 50, Now: now, Until: now.Add(w.lease())})
		if err != nil {
			if ctx.Err() == nil {
				w.Logger.Error("outbox: claim", "lane", l.name, "err", err)
			}
			return false
		}
		if len(msgs) == 0 {
			return false
		}
		if w.deliverAll(ctx, l, msgs) {
			return true
		}
	}
	return false
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

// deliverAll sends a batch over the lane's goroutines and waits for them.
// Once the server has refused the portal the rest of the batch goes back
// to the queue untried; it reports whether that happened.
func (w *Worker) deliverAll(ctx context.Context, l *lane, msgs []*app.Message) bool {
	next := make(chan *app.Message)
	var refused atomic.Bool
	var wg sync.WaitGroup
	for i := 0; i < min(l.concurrency, len(msgs)); i++ {
		wg.Go(func() {
			for m := range next {
				if refused.Load() {
					w.release(ctx, m, "not tried: the mail server refuses the portal")
					continue
				}
				if w.deliver(ctx, l, m) {
					refused.Store(true)
				}
			}
		})
	}
	for _, m := range msgs {
		next <- m
	}
	close(next)
	wg.Wait()
	return refused.Load()
}

// deliver renders and sends one message and records what became of it; it
// reports whether the server refused the portal itself.
func (w *Worker) deliver(ctx context.Context, l *lane, m *app.Message) (refused bool) {
	if w.Renderer != nil {
		skip, err := w.Renderer.Compose(ctx, m)
		if err != nil {
			w.Logger.Error("outbox: render", "id", m.ID, "kind", m.Kind, "err", err)
			w.metrics().MailFailed(m.Kind, app.MailFailTemporary)
			if err := w.Store.MarkFailed(ctx, m.ID, "render: "+err.Error(), w.MaxDelay, false); err != nil {
				w.Logger.Error("outbox: mark failed", "id", m.ID, "err", err)
			}
			return false
		}
		if skip != "" {
			if err := w.Store.MarkSkipped(ctx, m.ID, skip); err != nil {
				w.Logger.Error("outbox: mark skipped", "id", m.ID, "err", err)
			}
			return false
		}
	}
	err := l.sender.Send(ctx, m)
	if err == nil {
		w.metrics().MailSent(m.Kind)
		if err := w.Store.MarkSent(ctx, m); err != nil {
			w.Logger.Error("outbox: mark sent", "id", m.ID, "err", err)
		}
		w.clearFault(ctx)
		return false
	}
	var se *app.SendError
	if !errors.As(err, &se) {
		se = &app.SendError{Failure: app.SendTemporary, Err: err}
	}
	w.metrics().MailFailed(m.Kind, failureName(se.Failure))
	switch se.Failure {
	case app.SendConfig:
		w.Logger.Error("outbox: the mail server refuses the portal: check the PORTAL_SMTP_* settings", "lane", l.name,
			"stage", se.Stage, "reply", se.Reply, "err", err)
		w.faulted.Store(true)
		if err := w.Store.SetFault(ctx, se.Stage, faultReply(se)); err != nil {
			w.Logger.Error("outbox: record mail fault", "err", err)
		}
		w.release(ctx, m, err.Error())
		return true
	case app.SendRecipient:
		w.Logger.Warn("outbox: the mail server refuses the address", "id", m.ID, "reply", se.Reply, "err", err)
		if err := w.Store.MarkUnreachable(ctx, m.ID, err.Error()); err != nil {
			w.Logger.Error("outbox: mark unreachable", "id", m.ID, "err", err)
		}
	case app.SendRejected:
		w.Logger.Warn("outbox: the mail server refuses the message", "id", m.ID, "kind", m.Kind, "reply", se.Reply, "err", err)
		if err := w.Store.MarkFailed(ctx, m.ID, err.Error(), 0, true); err != nil {
			w.Logger.Error("outbox: mark failed", "id", m.ID, "err", err)
		}
	default:
		delay := min(time.Minute<<min(m.Attempts, 10), w.MaxDelay)
		w.Logger.Warn("outbox: delivery failed; will retry", "id", m.ID, "attempts", m.Attempts+1, "retry_in", delay.String(), "err", err)
		if err := w.Store.MarkFailed(ctx, m.ID, err.Error(), delay, false); err != nil {
			w.Logger.Error("outbox: mark failed", "id", m.ID, "err", err)
		}
	}
	return false
}

// failureName is how metrics name a kind of send failure.
func failureName(f app.SendFailure) string {
	switch f {
	case app.SendConfig:
		return app.MailFailConfig
	case app.SendRecipient, app.SendRejected:
		return app.MailFailPermanent
	}
	return app.MailFailTemporary
}

func (w *Worker) metrics() app.Metrics {
	if w.Metrics == nil {
		return app.NoMetrics{}
	}
	return w.Metrics
}

// faultReply is what the dashboard shows of a refusal: the server's answer,
// or, when it gave none (a TLS or AUTH it does not offer), what went wrong.
func faultReply(se *app.SendError) string {
	if se.Reply != "" {
		return se.Reply
	}
	return se.Err.Error()
}

func (w *Worker) release(ctx context.Context, m *app.Message, reason string) {
	if err := w.Store.ReleaseMessage(ctx, m.ID, reason); err != nil {
		w.Logger.Error("outbox: release message", "id", m.ID, "err", err)
	}
}

// clearFault removes a recorded fault after a delivery went through.
func (w *Worker) clearFault(ctx context.Context) {
	if !w.faulted.Load() {
		return
	}
	cleared, err := w.Store.ClearFault(ctx)
	if err != nil {
		w.Logger.Error("outbox: clear mail fault", "err", err)
		return
	}
	w.faulted.Store(false)
	if cleared {
		w.Logger.Info("outbox: the mail server takes mail again")
	}
}
