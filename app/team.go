package app

import (
	"context"
	"strings"
	"time"
)

// Sort keys of the people lists (PeopleFilter.Sort). A key alone sorts
// ascending; with a leading "-" it sorts descending. Status sorts in the
// order of Statuses (signed first; descending puts the overdue first).
const (
	SortDue    = "due" // the default: the earliest due first
	SortName   = "name"
	SortStatus = "status"
)

// SortKeys lists every sort a people list accepts, ascending and descending.
var SortKeys = []string{SortName, "-" + SortName, SortStatus, "-" + SortStatus, SortDue, "-" + SortDue}

// ParseSort splits a sort into its key and direction; ok is false for a
// sort that is not in SortKeys. "" is the default, the due date ascending.
func ParseSort(s string) (key string, desc, ok bool) {
	if s == "" {
		return SortDue, false, true
	}
	key, desc = strings.CutPrefix(s, "-")
	for _, k := range SortKeys {
		if k == s {
			return key, desc, true
		}
	}
	return "", false, false
}

// Limits of the reminders a manager sends from the team page: each person
// gets at most one reminder a day (scheduled or asked for), and a manager
// sends at most ManagerRemindersPerDay a day, so that the button cannot be
// used to flood anyone. Days are the portal's days (PORTAL_TIMEZONE).
const ManagerRemindersPerDay = 300

// MemberProgress is how far one person of a team has got in a cycle, read
// for a whole page of people at once.
type MemberProgress struct {
	EmployeeID   int64
	Roles        []Role          // decide which sections the person must read
	Read         map[string]bool // sections read in the cycle, by slug
	Passed       bool            // passed the knowledge check of the cycle's version
	LastReminder *time.Time      // the latest reminder queued to them in the cycle, scheduled or asked for
}

// SectionsTotal is how many sections of v the person must read for the
// annual acknowledgment (the part for everyone: the team page is about it).
func (m *MemberProgress) SectionsTotal(v *PolicyVersion) int {
	return len(v.ModulesFor(AudienceAll))
}

// SectionsRead is how many of the sections of v the person must read they have read.
func (m *MemberProgress) SectionsRead(v *PolicyVersion) int {
	n := 0
	for _, s := range v.ModulesFor(AudienceAll) {
		if m.Read[s.Slug] {
			n++
		}
	}
	return n
}

// TeamReminder is a manager's request to remind people of their tree.
type TeamReminder struct {
	ManagerID int64
	CycleID   int64
	Now       time.Time
	DayStart  time.Time // the start of the portal's day at Now: the limits count from it
	Today     string    // the portal's date at Now, for who is overdue
	IP        string
}

// ReminderQuota is what a manager may still send today.
type ReminderQuota struct {
	Sent int // reminders this manager asked for today
	Left int // how many more they may ask for today
}

// TeamService answers the team page's questions beyond the counts (which
// are DashboardService's, the same as HR's) and queues the reminders a
// manager asks for.
type TeamService interface {
	// Progress returns the progress of each of people (ids) in the cycle,
	// checked against versionID's knowledge check, in one query.
	Progress(ctx context.Context, cycleID, versionID int64, people []int64) (map[int64]*MemberProgress, error)
	// Departments lists the departments of the people under the manager in the cycle.
	Departments(ctx context.Context, cycleID, managerID int64) ([]string, error)
	// Quota says how many reminders the manager has asked for today and may still.
	Quota(ctx context.Context, r TeamReminder) (ReminderQuota, error)
	// OverdueToRemind counts the overdue people of the manager's tree who
	// would get a reminder now: still to sign, reachable, not reminded today.
	OverdueToRemind(ctx context.Context, r TeamReminder) (int, error)
	// RemindOne queues a reminder to one person of the manager's tree,
	// with an audit event, in one transaction. ENOTFOUND when the person
	// is not in the tree; ECONFLICT (with a message for the manager) when
	// they need none or had one today; ETOOMANY past the daily cap.
	RemindOne(ctx context.Context, r TeamReminder, employeeID int64) error
	// RemindOverdue queues a reminder to every overdue person of the tree
	// who would get one (see OverdueToRemind), each with an audit event,
	// in one transaction, and returns how many. ETOOMANY, changing
	// nothing, when they are more than the manager may still send today.
	RemindOverdue(ctx context.Context, r TeamReminder) (int, error)
}

// DayStart is the start of the portal's day at now, in loc.
func DayStart(now time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	l := now.In(loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
}
