package handlers

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"portal/app"
)

// SignInRequest is one sign-in link asked for on the form, as the request
// gave it (strings copied: they outlive the request).
type SignInRequest struct {
	Email     string
	Next      string // a local path to go to after signing in, already checked
	ClientIP  string
	RequestID string

	handedAt time.Time // when Submit took it
}

// SignInMailer does the work of a sign-in request after the answer has
// gone: the roster lookup, the per-address limit, the token and the queued
// message. Done on the request, that work took longer for an address on
// the roster than for one that is not, and the difference could be timed
// to read the roster; now every request does the same (check the form,
// hand it over, answer the same page). One goroutine (Run, started with
// the portal's other loops) takes requests in order from a bounded queue.
type SignInMailer struct {
	Employees app.EmployeeService
	SignIn    app.SignInService
	Messages  MessageBuilder
	Outbox    app.Outbox
	KickMail  func()
	// Limit is links mailed per address. Past it no link is mailed, and
	// nothing tells the asker: a limit that answered differently would let
	// anyone lock a person out of signing in by asking for their address.
	// Its window must not be longer than a link's life, so that a person
	// refused a new link still has a live one in their mailbox.
	Limit   Limiter
	BaseURL string
	LinkTTL time.Duration
	Logger  *slog.Logger
	// QueueSize is how many requests may wait (default 1024).
	QueueSize int
	// Delay is how long after it was handed over a request's work starts
	// (default 50 ms). Started at once, the work of a known address would
	// compete for the processor with the writing of its own answer, and
	// known addresses would still answer a little slower, most of all on a
	// busy machine; started later, it falls on whichever requests are
	// being answered then, known or not. Nobody notices 50 ms in an e-mail.
	Delay time.Duration

	once  sync.Once
	queue chan SignInRequest

	mu       sync.Mutex
	accepted uint64        // requests taken into the queue
	handled  uint64        // requests done with
	progress chan struct{} // closed (and replaced) each time one is done
}

func (m *SignInMailer) init() {
	m.once.Do(func() {
		if m.QueueSize <= 0 {
			m.QueueSize = 1024
		}
		if m.Delay <= 0 {
			m.Delay = 50 * time.Millisecond
		}
		m.queue, m.progress = make(chan SignInRequest, m.QueueSize), make(chan struct{})
	})
}

// Submit hands a request over without waiting. It reports false, and
// drops the request, when the queue is full: the person sees the same page
// and can ask again.
func (m *SignInMailer) Submit(r SignInRequest) bool {
	m.init()
	r.handedAt = time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	select {
	case m.queue <- r:
		m.accepted++
		return true
	default:
		return false
	}
}

// Run handles requests, each Delay after it was handed over, until ctx is
// done, then those still queued at once.
func (m *SignInMailer) Run(ctx context.Context) {
	m.init()
	// A request taken is finished even while the portal stops: its answer
	// has gone, and the queue is small.
	work := context.WithoutCancel(ctx)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case r := <-m.queue:
			timer.Reset(time.Until(r.handedAt.Add(m.Delay)))
			select {
			case <-timer.C:
			case <-ctx.Done():
			}
			m.handle(work, r)
		case <-ctx.Done():
			for {
				select {
				case r := <-m.queue:
					m.handle(work, r)
				default:
					return
				}
			}
		}
	}
}

// Wait returns once every request submitted before it was called has been
// handled (its link queued in the outbox, or not sent), or when ctx is done.
func (m *SignInMailer) Wait(ctx context.Context) error {
	m.init()
	m.mu.Lock()
	target := m.accepted
	m.mu.Unlock()
	for {
		m.mu.Lock()
		done, progress := m.handled >= target, m.progress
		m.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-progress:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (m *SignInMailer) handle(ctx context.Context, r SignInRequest) {
	defer func() {
		m.mu.Lock()
		m.handled++
		close(m.progress)
		m.progress = make(chan struct{})
		m.mu.Unlock()
	}()
	log := m.Logger.With("request_id", r.RequestID)
	// Counted whether or not the address is known, before looking it up: a
	// flood of one address costs no more than the count.
	if !m.Limit.Allow("addr:" + strings.ToLower(r.Email)) {
		log.Warn("sign-in link not mailed: the address has had its links for now", "client_ip", r.ClientIP)
		return
	}
	e, err := m.Employees.FindEmployeeByEmail(ctx, r.Email)
	switch {
	case err == nil && e.Active:
		if err := m.mail(ctx, e, r.Next); err != nil {
			log.Error("sign-in link", "err", err)
		}
	case err != nil && app.ErrorCode(err) != app.ENOTFOUND:
		log.Error("sign-in link: find employee", "err", err)
	default:
		log.Info("sign-in requested for an address not on the roster")
	}
}

func (m *SignInMailer) mail(ctx context.Context, e *app.Employee, next string) error {
	token, err := m.SignIn.CreateLoginToken(ctx, e.ID, m.LinkTTL)
	if err != nil {
		return err
	}
	link := m.BaseURL + "/signin/link/" + token
	if next != "" {
		link += "?next=" + url.QueryEscape(next)
	}
	msg, err := m.Messages.SignInLink(e, link, int(m.LinkTTL.Minutes()))
	if err != nil {
		return err
	}
	if _, err := m.Outbox.Enqueue(ctx, msg); err != nil {
		return err
	}
	m.KickMail()
	return nil
}
