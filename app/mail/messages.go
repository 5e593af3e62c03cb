package mail

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/hex"
	htmltemplate "html/template"
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

// SignInLink builds the message carrying a one-time sign-in link.
func (t *Templates) SignInLink(e *app.Employee, link string, minutes int) (*app.Message, error) {
	text, html, err := t.render("signin", struct {
		Name, Link string
		Minutes    int
	}{e.FullName, link, minutes})
	if err != nil {
		return nil, err
	}
	var nonce [8]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, err
	}
	return &app.Message{DedupeKey: "signin:" + hex.EncodeToString(nonce[:]), ToAddr: e.Email, ToName: e.FullName,
		Subject: "Your sign-in link", Text: text, HTML: html}, nil
}
