package app

import (
	"net/url"
	"slices"
	"testing"
)

// FuzzGradeQuiz submits arbitrary form bodies, read as the quiz handler reads
// them (every q.<id> field is an answer), and checks that grading either
// refuses the form with EINVALID or returns an attempt whose numbers agree.
func FuzzGradeQuiz(f *testing.F) {
	for _, seed := range []struct {
		body   string
		poster bool
		mark   uint8
	}{
		{"q.q1=a&q.q2=b&q.q3=c&q.q4=a&q.q5=b", false, 80},
		{"q.q1=a&q.q2=a&q.q3=c&q.q4=a&q.q5=b", false, 80},
		{"q.q1=a&q.q2=a&q.q3=a&q.q4=a&q.q5=b", false, 80},
		{"q.q1=a&q.q2=b&q.q3=c&q.q4=a&q.q5=b&q.p1=c", true, 100},
		{"q.q1=a&q.q2=b&q.q3=c&q.q4=a&q.q5=b&q.p1=a", false, 80},
		{"q.q1=z&q.q2=b&q.q3=c&q.q4=a&q.q5=b", false, 80},
		{"q.q1=a&q.q1=b&q.q2=b&q.q3=c&q.q4=a&q.q5=b", false, 0},
		{"q.q1=&q.q2=b", false, 80},
		{"q.=a&q..q1=a&q.q1%00=a&Q.q1=a", false, 80},
		{"q.q1=%3Cscript%3E&_csrf=x", false, 80},
		{"%zz&q.q1=a;q.q2=b", false, 255},
		{"", true, 80},
	} {
		f.Add(seed.body, seed.poster, seed.mark)
	}
	v := testVersion()
	f.Fuzz(func(t *testing.T, body string, poster bool, mark uint8) {
		e := &Employee{ID: 3}
		if poster {
			e.Roles = []Role{RolePoster}
		}
		passMark := int(mark) % 101
		form, _ := url.ParseQuery(body) // the handler, too, grades what it could parse
		answers := map[string]string{}
		for k, vals := range form {
			if len(k) > 2 && k[:2] == "q." {
				answers[k[2:]] = vals[len(vals)-1]
			}
		}
		part := AudienceAll
		if poster {
			part = AudiencePosters
		}
		a, err := GradeDraw(v, part, e, fullDraw(v, part), answers, passMark)
		if err != nil {
			if ErrorCode(err) != EINVALID || a != nil {
				t.Fatalf("gradeAll(%q): attempt %+v, error %v (want EINVALID and no attempt)", body, a, err)
			}
			return
		}
		qs := v.QuestionsFor(part)
		if a.Total != len(qs) || a.Score < 0 || a.Score+len(a.Wrong) != a.Total {
			t.Fatalf("gradeAll(%q): score %d + %d wrong != total %d (%d questions)", body, a.Score, len(a.Wrong), a.Total, len(qs))
		}
		if a.Passed != (a.Score*100 >= passMark*a.Total) || a.PassMark != passMark {
			t.Fatalf("gradeAll(%q) at %d%%: passed %v with %d of %d", body, passMark, a.Passed, a.Score, a.Total)
		}
		if len(a.Answers) != a.Total || len(answers) != a.Total {
			t.Fatalf("gradeAll(%q) recorded %d answers for %d questions", body, len(a.Answers), a.Total)
		}
		for _, q := range qs {
			got := a.Answers[q.ID]
			if !slices.ContainsFunc(q.Options, func(o Option) bool { return o.Key == got }) {
				t.Fatalf("gradeAll(%q) recorded %q for %s, not one of its options", body, got, q.ID)
			}
			if (got != q.Answer) != slices.Contains(a.Wrong, q.ID) {
				t.Fatalf("gradeAll(%q): %s answered %q (right: %q) but wrong list is %v", body, q.ID, got, q.Answer, a.Wrong)
			}
		}
	})
}
