package content_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"portal/app"
	"portal/app/content"
	"portal/data"
)

// poolExempt lists shipped versions published before these rules: a
// published version is immutable (its hash is in the evidence of every
// signature on it), so 2026.1 keeps its questions and is not checked here.
var poolExempt = map[string]bool{"2026.1": true}

// cueWords are words that tend to mark an option as right or wrong whatever
// its meaning: reasons and hedges ("because", "may") make an option sound
// careful, absolutes ("never", "only") make it sound extreme, and a
// reason tacked on ("so", "as") makes an option sound worked out.
var cueWords = []string{"so", "as", "but", "because", "since", "though", "although", "unless", "only if", "if", "may", "might",
	"should", "generally", "usually", "as long as", "so that", "provided that", "except", "never", "always", "only", "all", "any"}

// Thresholds of the pool rules.
const (
	// maxCueGap is the largest difference, in percentage points, between the
	// share of right options and the share of wrong options containing a cue
	// word. 15 points is small next to the 75 points a test-taker gains from
	// a word found only in right options, and leaves room for one or two
	// right options that need a word such as "not" for their meaning.
	maxCueGap = 15.0
	// maxLongestShare is the largest share of questions whose right option
	// is strictly the longest: at chance (one in four) picking the longest
	// option is no better than guessing.
	maxLongestShare = 0.25
	// maxShortestShare bounds the opposite cue, the right option being
	// strictly the shortest, a little above chance.
	maxShortestShare = 0.33
	// lengthSpread is how far an option's length may be from the mean
	// length of its question's options (35 %), so no option stands out.
	lengthSpread = 0.35
)

// shippedPool returns every shipped version the pool rules apply to.
func shippedPool(t *testing.T) []*app.PolicyVersion {
	t.Helper()
	all, err := content.LoadShipped(data.FS, "policies")
	if err != nil {
		t.Fatal(err)
	}
	var out []*app.PolicyVersion
	for _, v := range all {
		if !poolExempt[v.Code] {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		t.Fatal("no shipped version is subject to the pool rules")
	}
	return out
}

// TestQuestionPool checks the knowledge-check pool of every shipped version
// from 2026.2 on against the rules that make it measure understanding
// rather than test-taking: enough questions to draw from on every module,
// and no option standing out by its length, position or wording.
func TestQuestionPool(t *testing.T) {
	for _, v := range shippedPool(t) {
		t.Run(v.Code, func(t *testing.T) { checkPool(t, v) })
	}
}

func checkPool(t *testing.T, v *app.PolicyVersion) {
	t.Run("every module has at least three questions", func(t *testing.T) {
		per := map[string]int{}
		for _, q := range v.Questions {
			per[q.Module]++
		}
		for _, m := range v.Modules {
			if per[m.Slug] < 3 {
				t.Errorf("module %s has %d questions, want at least 3", m.Slug, per[m.Slug])
			}
		}
	})

	t.Run("every question has four distinct options and no catch-all", func(t *testing.T) {
		catchAll := regexp.MustCompile(`(?i)\b(all|none|both|neither) of (the|these) (above|options|answers)\b`)
		for _, q := range v.Questions {
			if len(q.Options) != 4 {
				t.Errorf("%s has %d options, want 4", q.ID, len(q.Options))
			}
			seen := map[string]string{}
			for _, o := range q.Options {
				norm := strings.Join(strings.Fields(strings.ToLower(strings.TrimRight(o.Text, ".!"))), " ")
				if k, dup := seen[norm]; dup {
					t.Errorf("%s: options %s and %s say the same thing", q.ID, k, o.Key)
				}
				seen[norm] = o.Key
				if catchAll.MatchString(o.Text) {
					t.Errorf("%s option %s: %q does not survive shuffled options", q.ID, o.Key, o.Text)
				}
			}
		}
	})

	t.Run("options are of similar length", func(t *testing.T) {
		for _, q := range v.Questions {
			mean := 0.0
			for _, o := range q.Options {
				mean += float64(len([]rune(o.Text)))
			}
			mean /= float64(len(q.Options))
			for _, o := range q.Options {
				if n := float64(len([]rune(o.Text))); n < mean*(1-lengthSpread) || n > mean*(1+lengthSpread) {
					t.Errorf("%s option %s is %.0f characters, the mean is %.0f: keep within %.0f %%", q.ID, o.Key, n, mean, lengthSpread*100)
				}
			}
		}
	})

	t.Run("the right option is rarely the longest or the shortest", func(t *testing.T) {
		longest, shortest := 0, 0
		for _, q := range v.Questions {
			right, others := rightAndWrong(q)
			if len(others) == 0 {
				continue
			}
			longer, shorter := true, true
			for _, o := range others {
				longer = longer && len([]rune(right)) > len([]rune(o))
				shorter = shorter && len([]rune(right)) < len([]rune(o))
			}
			if longer {
				longest++
			}
			if shorter {
				shortest++
			}
		}
		n := float64(len(v.Questions))
		if share := float64(longest) / n; share > maxLongestShare {
			t.Errorf("the right option is the longest in %d of %d questions (%.0f %%), want at most %.0f %%", longest, len(v.Questions), share*100, maxLongestShare*100)
		}
		if share := float64(shortest) / n; share > maxShortestShare {
			t.Errorf("the right option is the shortest in %d of %d questions (%.0f %%), want at most %.0f %%", shortest, len(v.Questions), share*100, maxShortestShare*100)
		}
	})

	t.Run("no cue word marks right or wrong options", func(t *testing.T) {
		var rights, wrongs []string
		for _, q := range v.Questions {
			r, w := rightAndWrong(q)
			rights, wrongs = append(rights, r), append(wrongs, w...)
		}
		for _, word := range cueWords {
			re := regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(word) + `\b`)
			r, w := share(re, rights), share(re, wrongs)
			if gap := (r - w) * 100; gap > maxCueGap || gap < -maxCueGap {
				t.Errorf("%q is in %.0f %% of right options and %.0f %% of wrong ones: a gap of %.0f points, want at most %.0f", word, r*100, w*100, gap, maxCueGap)
			}
		}
	})

	t.Run("the right option is never the odd one out", func(t *testing.T) {
		// Three wrong options opening alike ("Post it…", "Post it…",
		// "Post it…") around one that does not ("Not post it…") point at
		// the right one without reading it.
		first := func(s string) string {
			w, _, _ := strings.Cut(strings.ToLower(s), " ")
			return strings.Trim(w, ".,:;!?\"")
		}
		for _, q := range v.Questions {
			right, wrong := rightAndWrong(q)
			if len(wrong) < 3 {
				continue
			}
			alike := true
			for _, w := range wrong[1:] {
				alike = alike && first(w) == first(wrong[0])
			}
			if alike && first(right) != first(wrong[0]) {
				t.Errorf("%s: every wrong option starts with %q and the right one does not", q.ID, first(wrong[0]))
			}
		}
	})

	t.Run("right answers are spread over the letters", func(t *testing.T) {
		per := map[string]int{}
		for _, q := range v.Questions {
			for i, o := range q.Options {
				if o.Key == q.Answer {
					per[fmt.Sprint(i)]++ // by position, which is what a guesser sees
				}
			}
		}
		n := float64(len(v.Questions))
		for i := range 4 {
			if s := float64(per[fmt.Sprint(i)]) / n; s < 0.15 || s > 0.35 {
				t.Errorf("the right answer is option %d in %.0f %% of questions, want 15 to 35 %%", i+1, s*100)
			}
		}
	})
}

// rightAndWrong returns the text of q's right option and of its others.
func rightAndWrong(q app.Question) (string, []string) {
	var right string
	var wrong []string
	for _, o := range q.Options {
		if o.Key == q.Answer {
			right = o.Text
		} else {
			wrong = append(wrong, o.Text)
		}
	}
	return right, wrong
}

// share returns the fraction of texts re matches.
func share(re *regexp.Regexp, texts []string) float64 {
	if len(texts) == 0 {
		return 0
	}
	n := 0
	for _, s := range texts {
		if re.MatchString(s) {
			n++
		}
	}
	return float64(n) / float64(len(texts))
}
