package app

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// actionRE finds the action codes the code appends: an AuditEvent's
// Action field, or an action variable set before one is built.
var actionRE = regexp.MustCompile(`(?:Action:\s*|\baction\s*:?=\s*|\baction, detail\s*:?=\s*)"([a-z][a-z_]*\.[a-z][a-z_]*)"`)

// codeBaseActions reads every Go file of the module (tests aside) for
// action codes, with the files each appears in.
func codeBaseActions(t *testing.T) map[string][]string {
	t.Helper()
	root := ".."
	found := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "data") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range actionRE.FindAllStringSubmatch(string(src), -1) {
			found[m[1]] = append(found[m[1]], path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestEveryActionCodeHasWords holds the audit log to plain words: every
// action code the code base appends (read from the source, so a code added
// on any branch is caught) has words of its own, and no sentence shows a
// code.
func TestEveryActionCodeHasWords(t *testing.T) {
	found := codeBaseActions(t)
	// The reader must see the codes the portal has long written; if it
	// finds none of them it is broken, not the code base clean.
	for _, known := range []string{"session.signed_in", "cycle.closed", "roster.imported", "log.witness_removed", "audit.exported"} {
		if _, ok := found[known]; !ok {
			t.Fatalf("the source reader did not find %q: it is broken (found %v)", known, found)
		}
	}
	codes := make([]string, 0, len(found))
	for code := range found {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		if !KnownEventLabel(code) {
			t.Errorf("action code %q (appended in %v) has no words: add it to auditWords in app/audit_words.go", code, found[code])
			continue
		}
		actor, subject := int64(7), int64(9)
		e := &AuditEvent{Action: code, ActorID: &actor, ActorName: "Ana Ruiz", SubjectType: "employee", SubjectID: subject,
			SubjectName: "Zoë Côté", SubjectNumber: "1005"}
		s := e.Sentence()
		if strings.Contains(s, code) || strings.Contains(s, "{subject}") || !strings.HasPrefix(s, "Ana Ruiz ") {
			t.Errorf("%s reads %q", code, s)
		}
		if l := EventLabel(code); l == "" || strings.Contains(l, ".") || strings.Contains(l, "_") {
			t.Errorf("%s is labelled %q", code, l)
		}
	}
	// Words for a code nobody appends any more are dead weight that hides
	// a misspelt code.
	for code := range auditWords {
		if _, ok := found[code]; !ok {
			t.Errorf("auditWords has %q, which nothing appends", code)
		}
	}
}

func TestEventSentences(t *testing.T) {
	ana := int64(3)
	cases := []struct {
		name string
		e    AuditEvent
		want string
	}{
		{"a sign-in", AuditEvent{Action: "session.signed_in", ActorID: &ana, ActorName: "Ana Ruiz", SubjectType: "employee", SubjectID: 3,
			SubjectName: "Ana Ruiz", SubjectNumber: "1002"}, "Ana Ruiz signed in"},
		{"a cycle closed", AuditEvent{Action: "cycle.closed", ActorID: &ana, ActorName: "Ana Ruiz", SubjectType: "cycle", SubjectID: 1,
			SubjectName: "2026 annual acknowledgment"}, "Ana Ruiz closed cycle “2026 annual acknowledgment”"},
		{"done by the portal itself", AuditEvent{Action: "certificates.exported", SubjectType: "cycle", SubjectID: 1, SubjectName: "2026"},
			"The portal exported the signed certificates of cycle “2026”"},
		{"a subject no longer found", AuditEvent{Action: "hr.scope_set", ActorID: &ana, ActorName: "Ana Ruiz", SubjectType: "employee", SubjectID: 42},
			"Ana Ruiz set the agencies employee 42 may see as HR"},
		{"a code without words yet", AuditEvent{Action: "person.due_extended", ActorID: &ana, ActorName: "Ana Ruiz", SubjectType: "employee",
			SubjectID: 5, SubjectName: "Zoë Côté", SubjectNumber: "1005"}, "Ana Ruiz: person due extended (Zoë Côté (1005))"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.e.Sentence(); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
	if got := EventLabel("person.due_extended"); got != "Person due extended" {
		t.Errorf("fallback label %q", got)
	}
	kinds := EventKinds()
	if len(kinds) != len(auditWords) || !sort.SliceIsSorted(kinds, func(i, j int) bool { return kinds[i].Label < kinds[j].Label }) {
		t.Errorf("event kinds: %v", kinds)
	}
}
