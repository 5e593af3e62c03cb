package mail

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	"portal/app"
)

//go:embed templates
var templateFS embed.FS

// Templates renders the portal's messages. Parse them once with ParseTemplates.
type Templates struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// ParseTemplates parses the embedded message templates.
func ParseTemplates() (*Templates, error) {
	t, err := texttemplate.ParseFS(templateFS, "templates/*.txt")
	if err != nil {
		return nil, err
	}
	h, err := htmltemplate.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &Templates{text: t, html: h}, nil
}

func (t *Templates) render(name string, data any) (string, string, error) {
	var text, html bytes.Buffer
	if err := t.text.ExecuteTemplate(&text, name+".txt", data); err != nil {
		return "", "", err
	}
	if err := t.html.ExecuteTemplate(&html, name+".html", data); err != nil {
		return "", "", err
	}
	return text.String(), html.String(), nil
}

// SignInLinks builds sign-in messages. The link is a password for a few
// minutes, so the queued message carries it sealed with a key that is not
// in the database; it is rendered only when sent (Composer), and never
// stored in clear.
type SignInLinks struct {
	Sealer app.Sealer
}

// SignInLink builds the queued message carrying a one-time sign-in link.
func (s *SignInLinks) SignInLink(e *app.Employee, link string, _ int) (*app.Message, error) {
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	m := &app.Message{Kind: app.MailSignIn, DedupeKey: "signin:" + hex.EncodeToString(nonce[:]), ToAddr: e.Email, ToName: e.FullName,
		Subject: "Your sign-in link"}
	var err error
	if m.Sealed, err = s.Sealer.Seal(link, m.DedupeKey); err != nil {
		return nil, err
	}
	return m, nil
}

// Checkpoint builds the day's message to one witness: the signed
// checkpoint, rendered now (it is public).
func (t *Templates) Checkpoint(to, note, key, baseURL, day string) (*app.Message, error) {
	text, html, err := t.render("checkpoint", map[string]any{"Checkpoint": note, "Key": key, "BaseURL": baseURL})
	if err != nil {
		return nil, err
	}
	return &app.Message{Kind: app.MailCheckpoint, DedupeKey: "checkpoint:" + day + ":" + strings.ToLower(to), ToAddr: to,
		Subject: "Evidence log checkpoint, " + day, Text: text, HTML: html}, nil
}
