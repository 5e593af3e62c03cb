package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/big"
	"slices"
	"strings"
)

// QuestionsPerModule is how many questions each attempt draws from every
// module the person must read (fewer when the module has fewer). Two per
// module keeps a check for everyone at a length an employee finishes on a
// phone in a few minutes (about 12–16 questions for 6–8 modules) while every
// module is tested twice, so one slip in a module is not the whole story and
// nobody can pass by skipping a module. It is a constant rather than a
// version setting because the evidence of every attempt records what was
// shown, so a later change of the number needs no migration of old attempts.
const QuestionsPerModule = 2

// ShownQuestion is one question as an attempt displayed it: its id and the
// keys of its options in the order shown. A list of them is the evidence of
// what the person saw.
type ShownQuestion struct {
	ID      string   `json:"q"`
	Options []string `json:"o"`
}

// QuizDraft is the knowledge check a person is working through: the draw
// and the answers saved so far. It is kept server-side per employee,
// version and acknowledgment kind, so it survives paging and reloads, and
// is replaced only when a new attempt at that kind's check starts.
type QuizDraft struct {
	EmployeeID      int64
	PolicyVersionID int64
	Kind            string // the acknowledgment kind's code
	Part            string // the part of the version it checks (the kind's)
	Shown           []ShownQuestion
	Answers         map[string]string // question id → option key
}

// Intn returns a uniformly random int in [0, n).
type Intn func(n int) int

// CryptoIntn draws from crypto/rand, so nobody can predict a draw from
// earlier ones.
func CryptoIntn(n int) int {
	x, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic("crypto/rand failed: " + err.Error()) // the OS source never fails on supported systems
	}
	return int(x.Int64())
}

func shuffle[T any](s []T, intn Intn) {
	for i := len(s) - 1; i > 0; i-- {
		j := intn(i + 1)
		s[i], s[j] = s[j], s[i]
	}
}

// DrawQuiz draws an attempt on one part of v: up to QuestionsPerModule
// questions from every module of the part, modules in reading order, each
// question's options shuffled. It returns EINVALID when there is nothing to
// ask.
func DrawQuiz(v *PolicyVersion, part string, intn Intn) ([]ShownQuestion, error) {
	var out []ShownQuestion
	for _, m := range v.ModulesFor(part) {
		var pool []Question
		for _, q := range v.Questions {
			if q.Module == m.Slug {
				pool = append(pool, q)
			}
		}
		shuffle(pool, intn)
		for _, q := range pool[:min(QuestionsPerModule, len(pool))] {
			keys := make([]string, len(q.Options))
			for i, o := range q.Options {
				keys[i] = o.Key
			}
			shuffle(keys, intn)
			out = append(out, ShownQuestion{ID: q.ID, Options: keys})
		}
	}
	if len(out) == 0 {
		return nil, Errorf(EINVALID, "This version has no questions.")
	}
	return out, nil
}

// Question returns the question with the given id, or nil.
func (v *PolicyVersion) Question(id string) *Question {
	for i := range v.Questions {
		if v.Questions[i].ID == id {
			return &v.Questions[i]
		}
	}
	return nil
}

// CheckDraw reports whether shown is a draw of one part of v: every
// question exists, belongs to a module of the part, appears once, and
// offers exactly its own options. A draft saved for another version or
// part fails this check.
func CheckDraw(v *PolicyVersion, part string, shown []ShownQuestion) error {
	mine := map[string]bool{}
	for _, m := range v.ModulesFor(part) {
		mine[m.Slug] = true
	}
	seen := map[string]bool{}
	for _, s := range shown {
		q := v.Question(s.ID)
		if q == nil || !mine[q.Module] || seen[s.ID] || len(s.Options) != len(q.Options) {
			return Errorf(EINVALID, "This knowledge check no longer matches the guidance you must read. Start it again.")
		}
		seen[s.ID] = true
		for _, o := range q.Options {
			if !slices.Contains(s.Options, o.Key) {
				return Errorf(EINVALID, "This knowledge check no longer matches the guidance you must read. Start it again.")
			}
		}
	}
	if len(shown) == 0 {
		return Errorf(EINVALID, "This version has no questions.")
	}
	// Every module with questions must be in the draw.
	for _, q := range v.QuestionsFor(part) {
		if !slices.ContainsFunc(shown, func(s ShownQuestion) bool { return v.Question(s.ID).Module == q.Module }) {
			return Errorf(EINVALID, "This knowledge check no longer matches the guidance you must read. Start it again.")
		}
	}
	return nil
}

// QuizDrafts keeps the checks in progress (see AckService).
type QuizDrafts interface {
	FindQuizDraft(ctx context.Context, employeeID, versionID int64, kind string) (*QuizDraft, error)
	StartQuizDraft(ctx context.Context, d *QuizDraft) error
}

// OpenQuizDraft returns e's check in progress of kind k on v (on k's part
// of v), drawing and storing a new one when there is none or when the one
// there no longer fits.
func OpenQuizDraft(ctx context.Context, drafts QuizDrafts, v *PolicyVersion, k *AcknowledgmentKind, e *Employee) (*QuizDraft, error) {
	part := k.Part
	d, err := drafts.FindQuizDraft(ctx, e.ID, v.ID, k.Code)
	if err == nil && CheckDraw(v, part, d.Shown) == nil {
		return d, nil
	}
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return nil, err
	}
	shown, err := DrawQuiz(v, part, CryptoIntn)
	if err != nil {
		return nil, err
	}
	d = &QuizDraft{EmployeeID: e.ID, PolicyVersionID: v.ID, Kind: k.Code, Part: part, Shown: shown}
	if err := drafts.StartQuizDraft(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// DrawID names a draw, so that a page can say which draw its answers are
// for and a page from a replaced draw is refused.
func DrawID(shown []ShownQuestion) string {
	h := sha256.New()
	for _, s := range shown {
		h.Write([]byte(s.ID + "\x00" + strings.Join(s.Options, "\x01") + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// CheckAnswers refuses answers that the draw did not offer: a question not
// in the draw, or an option key not shown for that question. It is the check
// for a stale or forged form; nothing is saved when it fails.
func CheckAnswers(shown []ShownQuestion, answers map[string]string) error {
	offered := map[string][]string{}
	for _, s := range shown {
		offered[s.ID] = s.Options
	}
	for id, key := range answers {
		opts, ok := offered[id]
		if !ok {
			return Errorf(EINVALID, "The form named a question that is not in your knowledge check. It may be from an earlier attempt: answer the questions on this page again.")
		}
		if key != "" && !slices.Contains(opts, key) {
			return Errorf(EINVALID, "An answer was not one of the choices offered. Please answer again.")
		}
	}
	return nil
}

// QuestionField is the id of a question's fieldset on the pages, and the
// field of its errors (the form's field name is "q." + id).
func QuestionField(id string) string { return "q-" + id }

// GradeDraw grades the answers to a drawn check. Every shown question must be
// answered with one of the options shown for it; each unanswered question is
// a field error (errors.Join of them all) and a forged answer is EINVALID,
// and then nothing should be recorded. The attempt passes when the overall
// score reaches passMark and the questions of the posters-only modules, if
// any, on their own reach it too (a draw made before parts held both). The
// attempt is not yet stored.
func GradeDraw(v *PolicyVersion, part string, e *Employee, shown []ShownQuestion, answers map[string]string, passMark int) (*QuizAttempt, error) {
	if err := CheckDraw(v, part, shown); err != nil {
		return nil, err
	}
	if err := CheckAnswers(shown, answers); err != nil {
		return nil, err
	}
	var missing []error
	for i, s := range shown {
		if answers[s.ID] == "" {
			missing = append(missing, Invalid(QuestionField(s.ID), "Answer question %d.", i+1))
		}
	}
	if len(missing) > 0 {
		return nil, errors.Join(missing...)
	}
	a := &QuizAttempt{EmployeeID: e.ID, PolicyVersionID: v.ID, Answers: map[string]string{}, Total: len(shown),
		PassMark: passMark, Shown: shown}
	var posterScore, posterTotal int
	for _, s := range shown {
		q := v.Question(s.ID)
		got := answers[s.ID]
		a.Answers[s.ID] = got
		right := got == q.Answer
		if right {
			a.Score++
		} else {
			a.Wrong = append(a.Wrong, s.ID)
		}
		if m := v.Module(q.Module); m != nil && m.Audience == AudiencePosters {
			posterTotal++
			if right {
				posterScore++
			}
		}
	}
	a.Passed = a.Score*100 >= passMark*a.Total && posterScore*100 >= passMark*posterTotal
	return a, nil
}

// SectionsToReread names the modules of the wrongly answered questions, in
// reading order, once each.
func (v *PolicyVersion) SectionsToReread(a *QuizAttempt) []Module {
	wrong := map[string]bool{}
	for _, id := range a.Wrong {
		if q := v.Question(id); q != nil {
			wrong[q.Module] = true
		}
	}
	var out []Module
	for _, m := range v.Modules {
		if wrong[m.Slug] {
			out = append(out, m)
		}
	}
	return out
}

// QuestionStat is how one question fared across a version's attempts.
type QuestionStat struct {
	QuestionID string
	Shown      int // attempts that showed it
	Wrong      int // of those, answered wrongly
}

// PercentWrong is the share answered wrongly, in whole percent.
func (s QuestionStat) PercentWrong() int {
	if s.Shown == 0 {
		return 0
	}
	return s.Wrong * 100 / s.Shown
}
