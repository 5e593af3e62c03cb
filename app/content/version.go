package content

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"portal/app"
)

// LoadVersion reads the policy version in folder dir of fsys:
//
//	policy.md        front matter code, title, kind (material|minor),
//	                 effective (YYYY-MM-DD), intent; body: the policy text
//	changes.md       optional, plain Markdown: what changed since the last version
//	modules/NN-slug.md    front matter title, audience (all|posters), minutes;
//	                      body: the module; ordered by NN
//	questions/NN-id.md    front matter id (the id in the file name), module
//	                      (a module slug), answer (an option key); body: the
//	                      prompt, then a line "## Options", then one line
//	                      "- key: text" per option; ordered by NN
//	documents/NAME        optional: the official documents the text
//	                      summarises, PDF (.pdf) or plain text (.txt); see
//	                      loadDocuments for the rules
//
// It validates everything and, if anything is wrong, returns an EINVALID
// *app.Error listing every problem with the file it is in. On success the
// returned version has SHA256 set to the hex SHA-256 of Canonical(v); ID and
// PublishedAt are left zero for the store to fill in.
func LoadVersion(fsys fs.FS, dir string) (*app.PolicyVersion, error) {
	l := newLoader(fsys)
	v := &app.PolicyVersion{}

	file := path.Join(dir, "policy.md")
	meta, body, ok, err := l.doc(file, "code", "title", "kind", "effective", "intent")
	if err != nil {
		return nil, err
	}
	if ok {
		v.Code, v.Title, v.Kind = meta["code"], meta["title"], meta["kind"]
		v.Effective, v.Intent, v.PolicyText = meta["effective"], meta["intent"], body
		if !codePattern.MatchString(v.Code) {
			l.problem(file, "code %q: use letters, digits, dots and hyphens, such as 2026.1", v.Code)
		}
		if v.Kind != app.KindMaterial && v.Kind != app.KindMinor {
			l.problem(file, "kind %q: want %s or %s", v.Kind, app.KindMaterial, app.KindMinor)
		}
		if _, err := time.Parse(time.DateOnly, v.Effective); err != nil {
			l.problem(file, "effective %q: want a date as YYYY-MM-DD", v.Effective)
		}
		l.body(file, body, true)
	}

	file = path.Join(dir, "changes.md")
	changes, found, err := l.read(file, true)
	if err != nil {
		return nil, err
	}
	if found {
		v.Changes = strings.TrimSpace(changes)
		l.body(file, v.Changes, true)
	}

	if v.Modules, err = l.modules(path.Join(dir, "modules")); err != nil {
		return nil, err
	}
	if v.Questions, err = l.questions(path.Join(dir, "questions"), v); err != nil {
		return nil, err
	}
	if v.Documents, err = l.documents(path.Join(dir, "documents")); err != nil {
		return nil, err
	}
	what := "policy version " + dir
	if dir == "." {
		what = "policy version" // the root of an uploaded ZIP
	}
	if err := l.err(what); err != nil {
		return nil, err
	}
	v.SHA256 = VersionSHA256(v)
	return v, nil
}

// body records a problem if a Markdown body is empty or its headings would
// break the page outline.
func (l *loader) body(file, body string, headings bool) {
	if body == "" {
		l.problem(file, "the body is empty")
		return
	}
	for _, p := range checkHeadings(l.md, body, headings) {
		l.problem(file, "%s", p)
	}
}

// numbered is one "NN-name.md" file of a folder.
type numbered struct {
	file string // path in the fs.FS
	n    int
	name string
}

// list returns the .md files of folder ordered by their NN prefix; what
// names the part after NN ("slug", "id"). Other files and sub-folders are
// ignored. A missing or empty folder, .md files not named NN-name.md, and
// numbers or names used twice are problems.
func (l *loader) list(folder, what string) ([]numbered, error) {
	entries, err := fs.ReadDir(l.fsys, folder)
	if errors.Is(err, fs.ErrNotExist) {
		l.problem(folder, "missing folder")
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("content: list %s: %w", folder, err)
	}
	var out []numbered
	seenN, seenName := map[int]string{}, map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		file := path.Join(folder, e.Name())
		m := numberedFile.FindStringSubmatch(e.Name())
		if m == nil {
			l.problem(file, "name it NN-name.md: a number, a hyphen, then lower-case letters, digits and hyphens")
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			l.problem(file, "number %q is too large", m[1])
			continue
		}
		if other, dup := seenN[n]; dup {
			l.problem(file, "number %d is also used by %s", n, other)
		}
		if other, dup := seenName[m[2]]; dup {
			l.problem(file, "%s %q is also used by %s", what, m[2], other)
		}
		seenN[n], seenName[m[2]] = e.Name(), e.Name()
		out = append(out, numbered{file: file, n: n, name: m[2]})
	}
	if len(out) == 0 {
		l.problem(folder, "no NN-%s.md files", what)
	}
	slices.SortStableFunc(out, func(a, b numbered) int {
		if a.n != b.n {
			return a.n - b.n
		}
		return strings.Compare(a.name, b.name)
	})
	return out, nil
}

// modules loads the modules folder.
func (l *loader) modules(folder string) ([]app.Module, error) {
	files, err := l.list(folder, "slug")
	if err != nil {
		return nil, err
	}
	var out []app.Module
	everyone := false
	for _, f := range files {
		meta, body, ok, err := l.doc(f.file, "title", "audience", "minutes")
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		m := app.Module{Slug: f.name, Title: meta["title"], Audience: meta["audience"], Body: body}
		switch m.Audience {
		case app.AudienceAll:
			everyone = true
		case app.AudiencePosters:
		default:
			l.problem(f.file, "audience %q: want %s or %s", m.Audience, app.AudienceAll, app.AudiencePosters)
		}
		if m.Minutes, err = strconv.Atoi(meta["minutes"]); err != nil || m.Minutes < 1 || m.Minutes > 120 {
			l.problem(f.file, "minutes %q: want a whole number from 1 to 120", meta["minutes"])
		}
		l.body(f.file, body, true)
		out = append(out, m)
	}
	if len(files) > 0 && !everyone {
		l.problem(folder, "no module has audience %s", app.AudienceAll)
	}
	return out, nil
}

// questions loads the questions folder, checking each question against the
// modules already loaded into v.
func (l *loader) questions(folder string, v *app.PolicyVersion) ([]app.Question, error) {
	files, err := l.list(folder, "id")
	if err != nil {
		return nil, err
	}
	var out []app.Question
	for _, f := range files {
		meta, body, ok, err := l.doc(f.file, "id", "module", "answer")
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		q := app.Question{ID: meta["id"], Module: meta["module"], Answer: meta["answer"]}
		if q.ID != f.name {
			l.problem(f.file, "id %q differs from the id in the file name, %q", q.ID, f.name)
		}
		if v.Module(q.Module) == nil {
			l.problem(f.file, "module %q: no module has that slug", q.Module)
		}
		q.Prompt, q.Options = l.prompt(f.file, body)
		keys := make([]string, len(q.Options))
		for i, o := range q.Options {
			keys[i] = o.Key
		}
		if len(q.Options) > 0 && !slices.Contains(keys, q.Answer) {
			l.problem(f.file, "answer %q is not among the option keys %s", q.Answer, strings.Join(keys, ", "))
		}
		out = append(out, q)
	}
	return out, nil
}

// prompt splits a question body into the prompt and its options.
func (l *loader) prompt(file, body string) (string, []app.Option) {
	lines := strings.Split(body, "\n")
	at := slices.IndexFunc(lines, func(s string) bool {
		return strings.EqualFold(strings.TrimSpace(s), "## Options")
	})
	if at < 0 {
		l.problem(file, `no "## Options" line`)
		return "", nil
	}
	prompt := strings.TrimSpace(strings.Join(lines[:at], "\n"))
	if prompt == "" {
		l.problem(file, `the prompt before "## Options" is empty`)
	} else {
		l.body(file, prompt, false)
	}
	var opts []app.Option
	for i, line := range lines[at+1:] {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		m := optionLine.FindStringSubmatch(line)
		if m == nil {
			l.problem(file, "options line %d: want \"- key: text\", got %q", i+1, line)
			continue
		}
		o := app.Option{Key: m[1], Text: strings.TrimSpace(m[2])}
		if o.Text == "" {
			l.problem(file, "option %q has no text", o.Key)
		}
		if slices.ContainsFunc(opts, func(p app.Option) bool { return p.Key == o.Key }) {
			l.problem(file, "option key %q is used twice", o.Key)
		}
		opts = append(opts, o)
	}
	if len(opts) < 2 {
		l.problem(file, "%d options: a question needs at least 2", len(opts))
	}
	return prompt, opts
}
