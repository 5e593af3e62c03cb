package content

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// lcsLen is a plain recursive LCS length, to check lcsDiff against.
func lcsLen(a, b []string, memo map[[2]int]int) int {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	k := [2]int{len(a), len(b)}
	if n, ok := memo[k]; ok {
		return n
	}
	n := max(lcsLen(a[1:], b, memo), lcsLen(a, b[1:], memo))
	if a[0] == b[0] {
		n = max(n, 1+lcsLen(a[1:], b[1:], memo))
	}
	memo[k] = n
	return n
}

func TestDiffParagraphsIsAMinimalEditScript(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"a", "b", "c", "d"}
	for range 500 {
		a, b := make([]string, r.IntN(9)), make([]string, r.IntN(9))
		for i := range a {
			a[i] = words[r.IntN(len(words))]
		}
		for i := range b {
			b[i] = words[r.IntN(len(words))]
		}
		var gotA, gotB []string
		same := 0
		for _, l := range diffParagraphs(a, b) {
			switch l.Op {
			case OpSame:
				gotA, gotB, same = append(gotA, l.Text), append(gotB, l.Text), same+1
			case OpRemoved:
				gotA = append(gotA, l.Text)
			case OpAdded:
				gotB = append(gotB, l.Text)
			}
		}
		if !slices.Equal(gotA, a) || !slices.Equal(gotB, b) {
			t.Fatalf("diff of %q and %q does not rebuild them: %q, %q", a, b, gotA, gotB)
		}
		if want := lcsLen(a, b, map[[2]int]int{}); same != want {
			t.Fatalf("diff of %q and %q keeps %d paragraphs, the LCS has %d", a, b, same, want)
		}
	}
}

func TestParagraphs(t *testing.T) {
	md := "## Head  \n \t\nOne\ntwo\n\n\n- a\n- b\n\n~~~~ text\n```\n\n~~~\n~~~~~\nAfter\n\n   ```go\nx\n\n  ```\n\n    ```\nindented code\n\nlast"
	want := []string{"## Head  ", "One\ntwo", "- a\n- b", "~~~~ text\n```\n\n~~~\n~~~~~\nAfter", "   ```go\nx\n\n  ```",
		"    ```\nindented code", "last"}
	if got := paragraphs(md); !slices.Equal(got, want) {
		t.Errorf("paragraphs\n got %q\nwant %q", got, want)
	}
	if got := paragraphs(""); got != nil {
		t.Errorf("empty text gives %q", got)
	}
}
