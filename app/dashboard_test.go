package app

import (
	"testing"
	"time"
)

// TestCompletionPercentIsRounded: percentages are rounded, not cut, yet
// never claim everyone (100) or nobody (0) when that is not so.
func TestCompletionPercentIsRounded(t *testing.T) {
	for _, tc := range []struct{ signed, total, want int }{
		{5, 12, 42},    // 41.67: cut it was 41
		{1, 8, 13},     // 12.5 rounds half up
		{2, 3, 67},     // 66.67
		{1, 3, 33},     // 33.33
		{399, 400, 99}, // 99.75 would round to 100: not everyone has signed
		{1, 400, 1},    // 0.25 would round to 0: someone has signed
		{12, 12, 100},
		{0, 12, 0},
		{0, 0, 0},
	} {
		if got := (Completion{Signed: tc.signed, Total: tc.total}).Percent(); got != tc.want {
			t.Errorf("%d of %d: %d %%, want %d %%", tc.signed, tc.total, got, tc.want)
		}
	}
}

// TestCompletionPercentCountsPaperAndLeavesOutExempt: paper signatures are
// done, and exempt people are neither done nor due.
func TestCompletionPercentCountsPaperAndLeavesOutExempt(t *testing.T) {
	for _, tc := range []struct {
		c    Completion
		want int
	}{
		{Completion{Total: 10, Signed: 3, Paper: 2}, 50},
		{Completion{Total: 10, Signed: 4, Exempt: 2, Overdue: 4}, 50},
		{Completion{Total: 10, Signed: 7, Paper: 1, Exempt: 2}, 100},
		{Completion{Total: 2, Exempt: 2}, 0}, // nobody due: nothing to claim
	} {
		if got := tc.c.Percent(); got != tc.want {
			t.Errorf("%+v: %d %%, want %d %%", tc.c, got, tc.want)
		}
	}
}

// TestAssignmentStatusOrder: paper and signed win over exempt, exempt over
// overdue, overdue over in progress.
func TestAssignmentStatusOrder(t *testing.T) {
	signed := time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)
	const today = "2026-03-10"
	for _, tc := range []struct {
		a    Assignment
		want string
	}{
		{Assignment{DueOn: "2026-03-01", SignedAt: &signed, Paper: true, Exempt: true}, StatusPaper},
		{Assignment{DueOn: "2026-03-01", SignedAt: &signed, Exempt: true}, StatusSigned},
		{Assignment{DueOn: "2026-03-01", Exempt: true, Started: true}, StatusExempt},
		{Assignment{DueOn: "2026-03-01", Started: true}, StatusOverdue},
		{Assignment{DueOn: "2026-03-01"}, StatusOverdue},
		{Assignment{DueOn: "2026-03-10", Started: true}, StatusInProgress},
		{Assignment{DueOn: "2026-03-10"}, StatusNotStarted},
		{Assignment{DueOn: "2026-03-01", Paper: true}, StatusOverdue}, // paper counts only with a signature
	} {
		if got := tc.a.Status(today); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.a, got, tc.want)
		}
	}
}
