package app

import "testing"

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
