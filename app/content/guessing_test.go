package content_test

import (
	crand "crypto/rand"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"

	"portal/app"
	"portal/app/content"
	"portal/data"
)

// The knowledge check must measure understanding, not test-taking tricks.
// Each guessing program below answers 10,000 attempts drawn, shuffled and
// graded by the portal's own code (app.DrawQuiz, app.GradeDraw), as an
// employee and as an authorized poster; each must pass fewer than 1 in 100.
//
// Version 2026.1 is exempt: it is the historical pool the review found
// guessable (its right answer is often the longest option and the one that
// gives a reason). People signed it and their attempts stay evidence, so it
// cannot change; every version shipped after it is checked.

const (
	guessAttempts = 10000
	guessPassMark = 80 // the portal's default pass mark (server config PassMark)
)

// reasonRE finds an option that gives a reason.
var reasonRE = regexp.MustCompile(`(?i)\b(because|since|so that|so|though|although|unless|as long as|only if|provided)\b`)

// guesser picks an option key for a question as shown.
type guesser struct {
	name string
	pick func(q *app.Question, shown []string, rng *rand.Rand) string
}

func optionText(q *app.Question, key string) string {
	for _, o := range q.Options {
		if o.Key == key {
			return o.Text
		}
	}
	return ""
}

var guessers = []guesser{
	{"the longest option", func(q *app.Question, shown []string, _ *rand.Rand) string {
		best := shown[0]
		for _, k := range shown[1:] {
			if len([]rune(optionText(q, k))) > len([]rune(optionText(q, best))) {
				best = k
			}
		}
		return best
	}},
	{"the option that gives a reason", func(q *app.Question, shown []string, _ *rand.Rand) string {
		for _, k := range shown {
			if reasonRE.MatchString(optionText(q, k)) {
				return k
			}
		}
		return shown[0]
	}},
	{"the first option shown", func(_ *app.Question, shown []string, _ *rand.Rand) string { return shown[0] }},
	{"the last option shown", func(_ *app.Question, shown []string, _ *rand.Rand) string { return shown[len(shown)-1] }},
	{"a random option", func(_ *app.Question, shown []string, rng *rand.Rand) string { return shown[rng.IntN(len(shown))] }},
}

// guessPassRate runs one program through attempts draws for e and returns
// how many passed. The draws use a ChaCha8 generator seeded from crypto/rand:
// the same draw and shuffle code as the portal's (which reads crypto/rand for
// every number), many times faster for 10,000 attempts.
func guessPassRate(t *testing.T, v *app.PolicyVersion, part string, g guesser) int {
	t.Helper()
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewChaCha8(seed))
	passed := 0
	for range guessAttempts {
		shown, err := app.DrawQuiz(v, part, rng.IntN)
		if err != nil {
			t.Fatalf("%s: draw: %v", v.Code, err)
		}
		answers := map[string]string{}
		for _, s := range shown {
			answers[s.ID] = g.pick(v.Question(s.ID), s.Options, rng)
		}
		a, err := app.GradeDraw(v, part, &app.Employee{ID: 1}, shown, answers, guessPassMark)
		if err != nil {
			t.Fatalf("%s: grade: %v", v.Code, err)
		}
		if a.Passed {
			passed++
		}
	}
	return passed
}

// guessable returns, for every program and audience that passes 1 in 100
// attempts or more, a line saying so.
func guessable(t *testing.T, v *app.PolicyVersion) []string {
	var out []string
	// The annual check is the part for everyone (a poster's too); the
	// agency-use acknowledgment's is the posters' part on its own, at its
	// kind's pass mark (80, as guessPassMark).
	for _, who := range []struct {
		name string
		part string
	}{{"employee", app.AudienceAll}, {"poster", app.AudiencePosters}} {
		for _, g := range guessers {
			n := guessPassRate(t, v, who.part, g)
			t.Logf("%s, %s, picking %s: passed %d of %d", v.Code, who.name, g.name, n, guessAttempts)
			if n*100 >= guessAttempts {
				out = append(out, fmt.Sprintf("%s: as %s, picking %s passes %d of %d attempts (%.1f%%), 1 in 100 or more",
					v.Code, who.name, g.name, n, guessAttempts, float64(n)*100/guessAttempts))
			}
		}
	}
	return out
}

// TestShippedVersionsResistGuessing checks every shipped version after
// 2026.1. With none, there is nothing to check, and that is a failure: the
// new pool is what makes the check measure understanding.
func TestShippedVersionsResistGuessing(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 attempts a program")
	}
	dirs, err := fs.ReadDir(data.FS, "policies")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, d := range dirs {
		if !d.IsDir() || d.Name() <= "2026.1" { // 2026.1: the historical pool, exempt (see the top of this file)
			continue
		}
		v, err := content.LoadVersion(data.FS, "policies/"+d.Name())
		if err != nil {
			t.Fatal(err)
		}
		checked++
		for _, p := range guessable(t, v) {
			t.Error(p)
		}
	}
	if checked == 0 {
		t.Fatal("no version to check: no version after 2026.1 is shipped in data/policies, and 2026.1 is the historical, guessable pool")
	}
}

// TestGuessingCheckCatchesAGuessablePool shows the check above can fail: a
// pool whose right answer is the longest and the only one giving a reason is
// caught, and a pool without those tells passes.
func TestGuessingCheckCatchesAGuessablePool(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 attempts a program")
	}
	load := func(dir string) *app.PolicyVersion {
		v, err := content.LoadVersion(os.DirFS("testdata/guessing"), dir)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	bad := guessable(t, load("guessable"))
	if len(bad) == 0 {
		t.Fatal("the guessable pool passed the guessing check")
	}
	for _, want := range []string{"as employee, picking the longest option", "as poster, picking the option that gives a reason"} {
		if !strings.Contains(strings.Join(bad, "\n"), want) {
			t.Errorf("the guessing check did not report %q:\n%s", want, strings.Join(bad, "\n"))
		}
	}
	if good := guessable(t, load("good")); len(good) != 0 {
		t.Errorf("the good pool was found guessable:\n%s", strings.Join(good, "\n"))
	}
}
