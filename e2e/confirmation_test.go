package e2e

import (
	"html"
	"net/url"
	"strings"
	"testing"
)

// signedCode is the verification code in the address signing redirects to
// (the confirmation page) or in a certificate page's address.
func signedCode(location string) string {
	return strings.TrimSuffix(strings.TrimPrefix(location, "/certificates/"), "/confirmation")
}

// 王小明 (2008) has the signature name "Wang Xiaoming" in the demo roster: he
// signs with it, the evidence keeps what he typed, a near miss is refused on
// the name field, and the confirmation page says what happened and what
// comes next.
func TestSignatureNameAndConfirmation(t *testing.T) {
	tp := startTestPortal(t)
	wang := tp.employee(t, "2008")
	if sig := tp.text(t, `SELECT signature_name FROM employees WHERE id = ?`, wang.ID); wang.FullName != "王小明" || sig != "Wang Xiaoming" {
		t.Fatalf("the demo roster's 2008 is %q signing as %q", wang.FullName, sig)
	}
	c := newClient(t, tp.BaseURL)
	c.signIn(tp.signInLink(t, "2008"))
	readAll(t, tp, c, "2008")
	passQuiz(t, tp, c, "2008")
	consent(t, c)
	acks := func() int { return tp.count(t, `SELECT COUNT(*) FROM acknowledgments WHERE employee_id = ?`, wang.ID) }

	t.Run("the sign page's hint shows both names", func(t *testing.T) {
		mustContain(t, c.get("/sign").Body, "Type your name as shown: 王小明 or Wang Xiaoming")
	})
	t.Run("a near miss of the signature name is refused with the field's error, and nothing is recorded", func(t *testing.T) {
		for _, path := range []string{"/sign/review", "/sign"} {
			r := c.post(path, form("typed_name", "Wang Xiaomin", "intent", "yes"))
			if r.Status != 422 {
				t.Fatalf("POST %s: status %d, want 422", path, r.Status)
			}
			mustContain(t, r.Body, `id="typed_name-error"`, `aria-invalid="true"`, `href="#typed_name"`,
				"does not match the name on the roster (王小明 or Wang Xiaoming)", `value="Wang Xiaomin"`)
		}
		if n := acks(); n != 0 {
			t.Fatalf("%d acknowledgments recorded", n)
		}
	})

	var code string
	t.Run("signing as Wang Xiaoming records exactly what was typed and goes to the confirmation page", func(t *testing.T) {
		if r := c.post("/sign/review", form("typed_name", "Wang Xiaoming", "intent", "yes")); r.Status != 200 {
			t.Fatalf("review: status %d", r.Status)
		}
		r := c.post("/sign", form("typed_name", "Wang Xiaoming", "intent", "yes"))
		if r.Status != 303 || !strings.HasPrefix(r.Location, "/certificates/") || !strings.HasSuffix(r.Location, "/confirmation") {
			t.Fatalf("sign: status %d location %q", r.Status, r.Location)
		}
		code = signedCode(r.Location)
		if n := tp.count(t, `SELECT COUNT(*) FROM acknowledgments WHERE employee_id = ? AND typed_name = 'Wang Xiaoming'
			AND full_name = '王小明' AND verify_code = ?`, wang.ID, code); n != 1 {
			t.Fatal("the acknowledgment does not hold the name typed and the roster name")
		}
		// Pressing Sign again (or retrying after a lost response) lands on the same page.
		if r2 := c.post("/sign", form("typed_name", "Wang Xiaoming", "intent", "yes")); r2.Status != 303 || r2.Location != r.Location {
			t.Fatalf("a second press: status %d location %q", r2.Status, r2.Location)
		}
		if n := acks(); n != 1 {
			t.Fatalf("%d acknowledgments", n)
		}
	})

	t.Run("the confirmation page says what was signed, where the certificate is, and what happens next", func(t *testing.T) {
		r := c.get("/certificates/" + url.PathEscape(code) + "/confirmation")
		if r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
		cycle := tp.text(t, `SELECT name FROM cycles WHERE open = 1 AND kind = 'personal-use'`)
		mustContain(t, r.Body, `<div class="panel-confirmation">`, "Acknowledgment signed", code,
			html.EscapeString(tp.Version.Title)+", version "+tp.Version.Code, `href="/guidance"`, cycle,
			"<dd>Wang Xiaoming</dd>",
			`href="/certificates/`+code+`"`, `href="/certificates/`+code+`/pdf"`, "Print the certificate",
			"is being sent to <strong>"+wang.Email+"</strong>", "/verify/"+code,
			"What happens next", "once a year", `href="/"`)
		if strings.Contains(r.Body, `class="flash"`) {
			t.Error("the confirmation page also shows the old flash message")
		}
	})
	t.Run("the copy of the certificate the page speaks of is queued to his address", func(t *testing.T) {
		if n := tp.count(t, `SELECT COUNT(*) FROM outbox o JOIN acknowledgments a ON a.id = o.about_id
			WHERE o.kind = 'certificate' AND o.to_addr = ? AND a.verify_code = ?`, wang.Email, code); n != 1 {
			t.Fatalf("%d certificate copies queued", n)
		}
	})
	t.Run("HR's page of the person shows the signature name", func(t *testing.T) {
		hr := newClient(t, tp.BaseURL)
		hr.signIn(tp.signInLink(t, "1002"))
		mustContain(t, hr.get("/hr/people/"+itoa(wang.ID)).Body, "Signature name", "Wang Xiaoming")
	})
}

// HR sets a signature name through a roster upload: the preview counts the
// change, applying it stores it, a bad one is refused with its line, and a
// file in the older format leaves it as it is.
func TestRosterUploadSetsTheSignatureName(t *testing.T) {
	tp := startTestPortal(t)
	c := hrClient(t, tp)
	dasha := tp.employee(t, "1012")
	sig := func() string { return tp.text(t, `SELECT signature_name FROM employees WHERE id = ?`, dasha.ID) }
	row := func(extra string) string {
		return "employee_number,full_name,email,agency,department,title,manager_employee_number" + extra + "\n" +
			"1012," + dasha.FullName + "," + dasha.Email + "," + dasha.Agency + "," + dasha.Department + "," + dasha.Title + ",1002"
	}
	apply := func(t *testing.T, file string, want string) {
		t.Helper()
		c.get("/hr/roster")
		r := c.upload("/hr/roster", "file", "roster.csv", []byte(file), nil)
		mustContain(t, r.Body, want)
		if m := applyRE.FindStringSubmatch(r.Body); m != nil {
			if r := c.post(m[1], form("sha256", m[2])); r.Status != 303 {
				t.Fatalf("apply: status %d", r.Status)
			}
		}
	}
	if sig() != "Darya Smirnova" {
		t.Fatalf("the demo's 1012 signs as %q", sig())
	}
	t.Run("a changed signature name is previewed as an update and applied", func(t *testing.T) {
		apply(t, row(",signature_name")+",Daria Smirnova\n", "<dt>Updated</dt><dd>1</dd>")
		if got := sig(); got != "Daria Smirnova" {
			t.Fatalf("signature name %q", got)
		}
	})
	t.Run("a file without the column leaves it as it is", func(t *testing.T) {
		apply(t, row("")+"\n", "<dt>Unchanged</dt><dd>1</dd>")
		if got := sig(); got != "Daria Smirnova" {
			t.Fatalf("signature name %q", got)
		}
	})
	t.Run("a signature name not in Latin letters is refused on its line and changes nothing", func(t *testing.T) {
		c.get("/hr/roster")
		r := c.upload("/hr/roster", "file", "roster.csv", []byte(row(",signature_name")+",Дарья\n"), nil)
		mustContain(t, r.Body, "signature name", "not a Latin letter")
		if applyRE.MatchString(r.Body) {
			t.Fatal("a bad file can be applied")
		}
		if got := sig(); got != "Daria Smirnova" {
			t.Fatalf("signature name %q", got)
		}
	})
}
