package app

import (
	"context"
	"time"
)

// Schedule says when reminders go out.
type Schedule struct {
	Before        []int // days before the due date, e.g. 14, 7, 1 (and always on the day itself)
	OverdueEvery  int   // once overdue, every this many days
	EscalateAfter int   // days overdue before the manager is told
}

// DefaultSchedule: reminders 14, 7 and 1 days before the due date and on it,
// every 7 days overdue, the manager told at 7 days overdue.
var DefaultSchedule = Schedule{Before: []int{14, 7, 1}, OverdueEvery: 7, EscalateAfter: 7}

// PassSummary counts what one reminder pass queued (or would queue).
type PassSummary struct {
	Invitations int
	Reminders   int
	Escalations int
	Digests     int
	// AccountReviews counts the mails to supervisors about their agency's
	// accounts past their review date.
	AccountReviews int
	// AuthorizationsEnding counts the reminders of poster authorizations
	// ending soon (to the poster and to their supervisor).
	AuthorizationsEnding int
}

// Total is the number of messages.
func (p *PassSummary) Total() int {
	return p.Invitations + p.Reminders + p.Escalations + p.Digests + p.AccountReviews + p.AuthorizationsEnding
}

// ReminderService decides who is due a message and queues it.
type ReminderService interface {
	// RunPass queues every message due at now; a message already queued for
	// the same person, cycle and step is never queued again.
	RunPass(ctx context.Context, now time.Time, loc *time.Location, s Schedule, dryRun bool) (*PassSummary, error)
}
