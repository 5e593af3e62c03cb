package content

import (
	"io/fs"

	"portal/app"
)

// LoadConsent reads the consent-to-electronic-records notice at path in
// fsys: front matter version (such as 2026-1) and title, then the notice as
// Markdown. Problems are returned as one EINVALID *app.Error naming the file.
// The returned notice has SHA256 set to the hex SHA-256 of
// CanonicalConsent(c).
func LoadConsent(fsys fs.FS, path string) (*app.Consent, error) {
	l := newLoader(fsys)
	meta, body, ok, err := l.doc(path, "version", "title")
	if err != nil {
		return nil, err
	}
	c := &app.Consent{}
	if ok {
		c.Version, c.Title, c.Body = meta["version"], meta["title"], body
		if !codePattern.MatchString(c.Version) {
			l.problem(path, "version %q: use letters, digits, dots and hyphens, such as 2026-1", c.Version)
		}
		l.body(path, body, true)
	}
	if err := l.err("consent notice " + path); err != nil {
		return nil, err
	}
	c.SHA256 = ConsentSHA256(c)
	return c, nil
}
