package server

import (
	"context"
	"time"

	"portal/app"
	"portal/app/mail"
)

// kickChecks wakes the evidence check loop without waiting.
func (p *Portal) kickChecks() {
	select {
	case p.checks <- struct{}{}:
	default:
	}
}

// checkLoop runs the evidence checks people ask for, as soon as they ask,
// and queues one of its own when none has been asked for in a day. It never
// runs on a request: a check of a million records takes seconds.
func (p *Portal) checkLoop(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	audit := p.Handler.Audit
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.checks:
		case <-t.C:
			if err := p.dailyCheck(ctx); err != nil && ctx.Err() == nil {
				p.Logger.Error("evidence check: queue the daily check", "err", err)
			}
		}
		if n, err := audit.RunQueuedChecks(ctx); err != nil && ctx.Err() == nil {
			p.Logger.Error("evidence check", "err", err)
		} else if n > 0 {
			done, _, err := audit.EvidenceChecks(ctx)
			if err == nil && done != nil && done.Problem != "" {
				p.Logger.Error("evidence check: some evidence is not as it was recorded", "problem", done.Problem)
			} else if err == nil {
				p.Logger.Info("evidence check", "checks", n)
			}
		}
	}
}

// dailyCheck queues a check when the newest was asked for a day ago or more.
func (p *Portal) dailyCheck(ctx context.Context) error {
	done, pending, err := p.Handler.Audit.EvidenceChecks(ctx)
	if err != nil || pending != nil || (done != nil && p.DB.Now().Sub(done.RequestedAt) < 24*time.Hour) {
		return err
	}
	_, _, err = p.Handler.Audit.RequestCheck(ctx, nil)
	return err
}

// remindLoop runs a reminder pass at start and then every interval until
// ctx is done. Passes are idempotent, so a cron `portal remind` may run too.
func (p *Portal) remindLoop(ctx context.Context, every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		_, _ = p.RemindPass(ctx) // logged and counted there; the next tick tries again
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RemindPass runs one reminder pass of the server's, as the loop does at
// each interval: it logs the outcome, counts its time and what it queued in
// the metrics, and wakes the mail worker when it queued anything.
func (p *Portal) RemindPass(ctx context.Context) (*app.PassSummary, error) {
	start := time.Now()
	sum, err := p.Reminders.RunPass(ctx, p.DB.Now(), p.Config.TimeZone, p.Config.Schedule, false)
	if ctx.Err() != nil { // cut short by shutdown: no failure of the pass
		return sum, err
	}
	if err != nil {
		p.Metrics.ReminderPass(time.Since(start), nil)
		p.Logger.Error("reminder pass", "err", err)
		return nil, err
	}
	p.Metrics.ReminderPass(time.Since(start), sum)
	p.Logger.Info("reminder pass", "invitations", sum.Invitations, "reminders", sum.Reminders,
		"escalations", sum.Escalations, "digests", sum.Digests, "account_reviews", sum.AccountReviews,
		"authorizations_ending", sum.AuthorizationsEnding)
	if sum.Total() > 0 {
		p.Worker.Kick()
	}
	return sum, nil
}

// sweepBatch is how many expired sessions (and as many sign-in links) one
// short write transaction of the sweep deletes.
const sweepBatch = 500

// sweepLoop removes expired sessions and sign-in links at start and then
// every interval until ctx is done, a batch at a time so that web writes
// go in between; sign-ins no longer do it. It also keeps the steady clock's
// mark in the database, once more as it stops, so that a restart carries
// on from it.
func (p *Portal) sweepLoop(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = 5 * time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			n, err := p.Sessions.SweepExpired(ctx, sweepBatch)
			if err != nil {
				if ctx.Err() == nil {
					p.Logger.Error("removing expired sessions", "err", err)
				}
				break
			}
			if n < sweepBatch {
				break
			}
		}
		p.sweeps.Add(1)
		select {
		case <-ctx.Done():
			if err := p.DB.SaveClockMark(context.WithoutCancel(ctx)); err != nil {
				p.Logger.Error("keeping the clock's mark", "err", err)
			}
			return
		case <-t.C:
		}
	}
}

// Sweeps returns how many rounds the sweep of expired sessions has done.
func (p *Portal) Sweeps() int64 { return p.sweeps.Load() }

// mailWitnesses queues the day's checkpoint to every witness address.
func (p *Portal) mailWitnesses(t *mail.Templates) func(ctx context.Context, cp *app.SignedCheckpoint) error {
	return func(ctx context.Context, cp *app.SignedCheckpoint) error {
		addrs, err := p.Handler.Witnesses.Witnesses(ctx)
		if err != nil {
			return err
		}
		day := p.DB.Today()
		queued := false
		for _, a := range addrs {
			m, err := t.Checkpoint(a, string(cp.Note), p.Log.VerifierKey(), p.Config.BaseURL, day)
			if err != nil {
				return err
			}
			ok, err := p.Outbox.Enqueue(ctx, m)
			if err != nil {
				return err
			}
			queued = queued || ok
		}
		if queued {
			p.Worker.Kick()
		}
		return nil
	}
}
